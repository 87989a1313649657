"""The backup's steps with a scripted provider (the workflow's own interface, not an AWS mock)."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from contact_jobs import backup
from contact_jobs.config import PollSettings
from contact_jobs.errors import CopyFailed, ExportExpired, ExportFailed, InvalidRequest, TransientError
from contact_jobs.providers.base import ExportRequest, ExportState, ExportStatus
from contact_jobs.transfer import CopySettings
from contact_jobs.urlguard import UrlGuard
from tests.download_server import Route

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
POLL = PollSettings(first_delay_s=5, max_delay_s=60, max_job_duration_s=3600)
EXECUTION = {"name": "backup-x", "arn": "arn", "start_time": "2026-03-04T05:06:07Z"}


@dataclass
class ScriptedProvider:
    statuses: list[ExportStatus] = field(default_factory=list)
    started: list[ExportRequest] = field(default_factory=list)
    name: str = "sendgrid"

    def start_export(self, request: ExportRequest) -> str:
        self.started.append(request)
        return f"export-{len(self.started)}"

    def export_status(self, job_id: str) -> ExportStatus:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def field_definitions(self) -> dict[str, list[dict[str, str]]]:
        return {
            "reserved_fields": [{"name": "email", "field_type": "Text"}],
            "custom_fields": [{"name": "birthday", "field_type": "Date"}],
        }

    def list_name(self, list_id: str) -> str:
        return f"list named {list_id}"


def ready(urls, expires_at=NOW + timedelta(days=1)) -> ExportStatus:
    return ExportStatus("export-1", ExportState.READY, tuple(urls), expires_at, contact_count=2)


def test_start_builds_a_dated_prefix_and_the_first_poll():
    job = backup.start({"operation": "backup", "list_ids": ["", "l1"]}, ScriptedProvider(), EXECUTION, POLL)
    assert job["prefix"] == "backups/sendgrid/2026/03/04/backup-x/"
    assert (job["restarts"], job["poll"]) == (0, {"attempt": 0, "delay_s": 5})


def test_start_records_the_fields_and_lists_a_restore_needs():
    job = backup.start({"operation": "backup", "list_ids": ["l1"]}, ScriptedProvider(), EXECUTION, POLL)
    assert job["fields"] == [
        {"name": "email", "field_type": "Text", "reserved": True},
        {"name": "birthday", "field_type": "Date", "reserved": False},
    ]
    assert job["lists"] == [{"id": "l1", "name": "list named l1"}]


def test_blank_ids_from_the_schedule_template_are_dropped():
    provider = ScriptedProvider()
    backup.start({"list_ids": [""], "segment_ids": [""]}, provider, EXECUTION, POLL)
    assert provider.started == [ExportRequest()]


def test_restart_keeps_prefix_and_counts_up():
    provider = ScriptedProvider()
    first = backup.start({}, provider, EXECUTION, POLL)
    later = {**EXECUTION, "start_time": "2026-03-05T00:00:00Z"}
    second = backup.start({"job": first}, provider, later, POLL)
    assert (second["restarts"], second["prefix"], second["provider_job_id"]) == (
        1,
        first["prefix"],
        "export-2",
    )


def test_unsupported_file_type_is_refused_before_anything_is_sent():
    provider = ScriptedProvider()
    with pytest.raises(InvalidRequest, match="file_type"):
        backup.start({"file_type": "xml"}, provider, EXECUTION, POLL)
    assert provider.started == []


def test_check_failed_export_raises_with_the_providers_message():
    provider = ScriptedProvider([ExportStatus("e", ExportState.FAILED, message="quota exceeded")])
    with pytest.raises(ExportFailed, match="quota exceeded"):
        backup.check({"provider_job_id": "e"}, provider, NOW, POLL)


def test_check_ready_lists_file_indexes_not_urls():
    job = backup.start({}, ScriptedProvider(), EXECUTION, POLL)
    checked = backup.check(job, ScriptedProvider([ready(["https://a/1?sig", "https://a/2?sig"])]), NOW, POLL)
    assert checked["files"] == [{"index": 0}, {"index": 1}]
    assert "sig" not in json.dumps(checked)


def test_copy_reads_a_fresh_url_after_a_refused_one(s3, download_server):
    download_server.routes["/old"] = Route(status=403)
    download_server.routes["/new"] = Route(body=b"EMAIL\na@example.com\n")
    provider = ScriptedProvider([ready([download_server.url("/old")]), ready([download_server.url("/new")])])
    item = {"provider_job_id": "export-1", "index": 0, "prefix": "backups/p/", "file_type": "csv"}
    entry = backup.copy_file(
        item, provider, s3, "backups", UrlGuard([download_server.host]), CopySettings(), lambda: NOW
    )
    assert entry["key"] == "backups/p/export-1/part-00001.csv", "the key carries the attempt (its export)"
    assert entry["sha256"] == hashlib.sha256(b"EMAIL\na@example.com\n").hexdigest()


def test_copy_past_expiry_asks_for_a_new_export(s3):
    provider = ScriptedProvider([ready(["https://x/1"], expires_at=NOW - timedelta(seconds=1))])
    item = {"provider_job_id": "export-1", "index": 0, "prefix": "backups/p/"}
    with pytest.raises(ExportExpired):
        backup.copy_file(item, provider, s3, "backups", UrlGuard([]), CopySettings(), lambda: NOW)


KEY = "backups/p/e/part-00001.csv"


def _state_with_file(s3, size_in_s3: int, recorded: int) -> dict:
    etag = s3.put_object(Bucket="backups", Key=KEY, Body=b"x" * size_in_s3)["ETag"]
    job = {
        "provider": "sendgrid",
        "job_id": "j",
        "provider_job_id": "e",
        "started_at": "t",
        "prefix": "backups/p/",
    }
    return {
        "job": job,
        "files": [{"index": 0, "key": KEY, "bytes": recorded, "sha256": "h", "gzip": False, "etag": etag}],
    }


def test_manifest_is_written_last_with_every_file(s3):
    written = backup.write_manifest(_state_with_file(s3, 3, 3), s3, "backups", NOW)
    manifest = json.loads(s3.get_object(Bucket="backups", Key=written["manifest_key"])["Body"].read())
    assert written["manifest_key"] == "backups/p/manifest.json"
    assert [f["key"] for f in manifest["files"]] == [KEY]
    assert manifest["total_bytes"] == 3


def test_manifest_is_refused_when_a_file_differs_from_its_copy_record(s3):
    with pytest.raises(CopyFailed, match="holds 2 bytes"):
        backup.write_manifest(_state_with_file(s3, 2, 3), s3, "backups", NOW)
    assert s3.list_objects_v2(Bucket="backups", Prefix="backups/p/manifest.json")["KeyCount"] == 0


def test_manifest_is_refused_when_the_prefix_holds_a_file_no_copy_recorded(s3):
    state = _state_with_file(s3, 3, 3)
    s3.put_object(Bucket="backups", Key="backups/p/old-export/part-00002.csv", Body=b"late")
    with pytest.raises(CopyFailed, match=r"no copy recorded: backups/p/old-export/part-00002\.csv"):
        backup.write_manifest(state, s3, "backups", NOW)


def test_manifest_is_refused_when_a_file_was_replaced_after_its_copy(s3):
    state = _state_with_file(s3, 3, 3)
    s3.put_object(Bucket="backups", Key=KEY, Body=b"yyy")  # same size, other bytes: the ETag differs
    with pytest.raises(CopyFailed, match="ETag"):
        backup.write_manifest(state, s3, "backups", NOW)


def test_discard_removes_every_attempts_files_and_unfinished_uploads(s3):
    state = _state_with_file(s3, 1, 1)
    s3.put_object(Bucket="backups", Key="backups/p/old/part-00001.csv", Body=b"o")
    s3.create_multipart_upload(Bucket="backups", Key="backups/p/e/part-00002.csv")
    assert backup.discard_partial(state, s3, "backups") == {"discarded": 2, "aborted_uploads": 1}
    assert s3.list_objects_v2(Bucket="backups", Prefix="backups/p/")["KeyCount"] == 0
    assert s3.list_multipart_uploads(Bucket="backups", Prefix="backups/p/").get("Uploads", []) == []


def test_discard_fails_when_s3_refuses_to_delete_a_file(s3):
    state = _state_with_file(s3, 1, 1)
    refused = {"Errors": [{"Key": KEY, "Code": "AccessDenied", "Message": "no"}]}

    class Refusing:
        def __getattr__(self, name):
            return getattr(s3, name)

        def delete_objects(self, **_):
            return refused

    with pytest.raises(TransientError, match=r"1 files .* not deleted: backups/p/e/part-00001\.csv"):
        backup.discard_partial(state, Refusing(), "backups")


def test_a_copy_that_lands_after_its_backup_was_discarded_withdraws_itself(s3, download_server):
    download_server.routes["/f"] = Route(body=b"EMAIL\na@example.com\n")
    provider = ScriptedProvider([ready([download_server.url("/f")])])
    backup.discard_partial({"job": {"prefix": "backups/p/", "provider_job_id": "e"}}, s3, "backups")
    item = {"provider_job_id": "e", "index": 0, "prefix": "backups/p/", "file_type": "csv"}
    with pytest.raises(CopyFailed, match="discarded"):
        backup.copy_file(
            item, provider, s3, "backups", UrlGuard([download_server.host]), CopySettings(), lambda: NOW
        )
    assert s3.list_objects_v2(Bucket="backups", Prefix="backups/p/")["KeyCount"] == 0


def test_a_late_attempt_of_a_copy_fails_instead_of_overwriting_the_stored_file(s3, download_server):
    download_server.routes["/first"] = Route(body=b"EMAIL\na@example.com\n")
    download_server.routes["/late"] = Route(body=b"EMAIL\nold@example.com\n")
    urls = [ready([download_server.url("/first")]), ready([download_server.url("/late")])]
    item = {"provider_job_id": "e", "index": 0, "prefix": "backups/p/", "file_type": "csv"}
    guard, provider = UrlGuard([download_server.host]), ScriptedProvider(urls)
    first = backup.copy_file(item, provider, s3, "backups", guard, CopySettings(), lambda: NOW)
    with pytest.raises(CopyFailed, match="from another attempt"):
        backup.copy_file(item, provider, s3, "backups", guard, CopySettings(), lambda: NOW)
    assert s3.get_object(Bucket="backups", Key=first["key"])["Body"].read() == b"EMAIL\na@example.com\n"
    assert s3.list_multipart_uploads(Bucket="backups", Prefix="backups/p/").get("Uploads", []) == []


def test_a_late_multipart_copy_is_refused_at_complete_and_its_upload_aborted(s3, download_server):
    size = 6 * 1024 * 1024  # over the 5 MiB part: a multipart upload whose complete is conditional
    download_server.routes["/first"] = Route(body=b"a" * size)
    download_server.routes["/late"] = Route(body=b"b" * (size + 1))
    urls = [ready([download_server.url("/first")]), ready([download_server.url("/late")])]
    item = {"provider_job_id": "e", "index": 0, "prefix": "backups/p/", "file_type": "csv"}
    guard, provider, settings = UrlGuard([download_server.host]), ScriptedProvider(urls), CopySettings(5)
    first = backup.copy_file(item, provider, s3, "backups", guard, settings, lambda: NOW)
    assert first["etag"].endswith('-2"'), "stored in two parts"
    with pytest.raises(CopyFailed, match="from another attempt"):
        backup.copy_file(item, provider, s3, "backups", guard, settings, lambda: NOW)
    assert s3.head_object(Bucket="backups", Key=first["key"])["ContentLength"] == size
    assert s3.list_multipart_uploads(Bucket="backups", Prefix="backups/p/").get("Uploads", []) == []
