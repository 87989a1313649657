"""Joining an export in flight, and downloads that cannot prove they are whole, on the local stack: the
real ASL in moto, the real handlers, the fake SendGrid on 127.0.0.1."""

from typing import Any

from sandbox.fake_sendgrid import FakeSendGridOptions
from tests.integration.conftest import only_notification

CSV_5000 = {"file_type": "csv", "max_file_size": 5000}  # what the schedule asks for by default


def fake_with(*pending: dict[str, Any], **options: Any) -> FakeSendGridOptions:
    """Exports already in flight in the account; the list says their type and size (the contract's
    list does not, and then nothing is joined: tests/unit/test_export_join.py)."""
    options.setdefault("list_shows_export_request", True)
    return FakeSendGridOptions(export_ready_after_s=0.05, pending_exports=pending, **options)


def created_exports(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["body"] for r in result["api_requests"] if r["method"] == "POST"]


def list_pages_read(result: dict[str, Any]) -> int:
    return sum(
        r["method"] == "GET" and r["path"] == "/v3/marketing/contacts/exports" for r in result["api_requests"]
    )


def assert_identical_copies(result: dict[str, Any]) -> None:
    assert result["files"]
    for entry in result["files"]:
        assert entry["sha256"] == entry["source_sha256"] == entry["manifest_sha256"], entry


def test_a_json_backup_while_a_csv_export_is_pending_gets_its_own_json_export(backup):
    result = backup(fake=fake_with(CSV_5000), contacts=100, file_type="json")
    assert result["status"] == "SUCCEEDED"
    assert created_exports(result) == [{"file_type": "json", "max_file_size": 5000}]
    assert result["provider_exports"] == 2
    assert [entry["key"].rsplit("/", 1)[1] for entry in result["files"]] == ["part-00001.json.gz"]
    assert_identical_copies(result)  # to the export the manifest names: the JSON one


def test_an_export_in_flight_with_another_max_file_size_is_not_joined(backup):
    result = backup(fake=fake_with({**CSV_5000, "max_file_size": 1}), contacts=100)
    assert result["status"] == "SUCCEEDED"
    assert created_exports(result) == [CSV_5000]
    assert result["provider_exports"] == 2


def test_a_matching_export_in_flight_is_joined(backup):
    result = backup(fake=fake_with(CSV_5000), contacts=100)
    assert result["status"] == "SUCCEEDED"
    assert created_exports(result) == [], "joined, not started"
    assert result["provider_exports"] == 1
    assert_identical_copies(result)


def test_the_export_list_is_followed_across_pages_to_a_matching_export(backup):
    others = ({**CSV_5000, "file_type": "json"}, {**CSV_5000, "max_file_size": 1})
    result = backup(fake=fake_with(*others, CSV_5000, export_list_page_size=1), contacts=100)
    assert result["status"] == "SUCCEEDED"
    assert list_pages_read(result) == 3
    assert created_exports(result) == [], "the third page's export was joined"
    assert_identical_copies(result)


def test_a_gzip_download_cut_short_without_length_fails_the_backup_and_leaves_nothing(backup):
    fake = fake_with(serve_without_content_length=True, truncate_after_bytes=2000)
    result = backup(fake=fake, contacts=1000)
    assert result["status"] == "FAILED"
    error = only_notification(result)["message"]["error"]
    assert error["type"] == "CopyFailed"
    assert "gzip file is cut short" in error["message"]
    assert result["manifest_key"] is None
    assert result["files"] == [], "nothing under the backup's prefix"


def test_a_plain_download_without_length_is_refused_by_name(backup):
    fake = fake_with(serve_without_content_length=True, gzip_files=False)
    result = backup(fake=fake, contacts=100)
    assert result["status"] == "FAILED"
    error = only_notification(result)["message"]["error"]
    assert error["type"] == "CopyFailed"
    assert "plain (not gzip) file without Content-Length" in error["message"]
    assert result["files"] == []
