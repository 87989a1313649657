"""Keys as users write them, end to end through the local stack: upload, S3's EventBridge event (key
form-encoded, as S3 sends it) delivered to the trigger, the real ASL, the fake providers, the notification.

Each odd name is imported from the exact object uploaded, and the notification names that exact key; a
key outside the convention ends in one ``import.failed`` that says where the file should have gone."""

import gzip

import pytest

from sandbox.contacts import import_csv, which50_csv
from sandbox.fake_sendgrid import KNOWN_LIST, FakeSendGridOptions
from sandbox.fake_which50 import FakeWhich50Options
from tests.integration.conftest import only_notification

WHICH50 = FakeWhich50Options(progress_s=0.05)
ODD_NAMES = [
    ("plus", "spring+summer.csv"),
    ("encoded plus", "spring%2Bsummer.csv"),
    ("literal %20", "spring%20sale.csv"),
    ("spaces", "spring  sale list.csv"),
    ("non-ASCII", "été ünïcødé 日本.csv"),
    ("upper-case gzip", "Weekly Export.CSV.GZ"),
]  # fmt: skip


def body_for(provider: str, filename: str, contacts: int = 20) -> bytes:
    data = (import_csv if provider == "sendgrid" else which50_csv)(contacts)
    return gzip.compress(data) if filename.lower().endswith(".gz") else data


def run(import_file, provider: str, key: str, **scenario):
    if provider == "which50":
        scenario.setdefault("which50", WHICH50)
    return import_file(provider=provider, key=key, **scenario)


def assert_imported_from(result: dict, key: str) -> None:
    assert result["status"] == "SUCCEEDED", result["notifications"]
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.completed"
    assert note["message"]["s3"]["source_key"] == key
    assert result["counts"]["created"] == 20
    assert result["source_intact"]


@pytest.mark.parametrize("provider", ["sendgrid", "which50"])
@pytest.mark.parametrize(("case", "filename"), ODD_NAMES, ids=[case for case, _ in ODD_NAMES])
def test_an_odd_file_name_is_imported_from_the_key_as_uploaded(import_file, provider, case, filename):
    target = "_" if provider == "sendgrid" else "101"
    key = f"imports/{provider}/{target}/{filename}"
    result = run(import_file, provider, key, body=body_for(provider, filename))
    assert_imported_from(result, key)


def test_an_upper_case_gzip_upload_reaches_sendgrid_as_the_bytes_uploaded(import_file):
    body = body_for("sendgrid", "c.CSV.GZ")
    result = run(import_file, "sendgrid", "imports/sendgrid/_/c.CSV.GZ", body=body)
    assert result["received_sha256"] == result["source_sha256"]


LIST_IDS = [
    ("plus", "spring+list"),
    ("encoded plus", "spring%2Blist"),
    ("literal %20", "spring%20list"),
    ("space", "spring list"),
    ("non-ASCII", "liste-été"),
]


@pytest.mark.parametrize(("case", "list_id"), LIST_IDS, ids=[case for case, _ in LIST_IDS])
def test_an_odd_sendgrid_list_segment_is_the_list_the_contacts_go_to(import_file, case, list_id):
    key = f"imports/sendgrid/{list_id}/contacts.csv"
    fake = FakeSendGridOptions(import_ready_after_s=0.05, lists=(KNOWN_LIST, list_id))
    result = run(import_file, "sendgrid", key, body=body_for("sendgrid", "c.csv"), fake=fake)
    assert_imported_from(result, key)


@pytest.mark.parametrize("list_segment", ["1%2B01", "101+", "10 1"])
def test_an_odd_which50_list_segment_is_refused_by_name_not_lost(import_file, list_segment):
    """Decoded twice, these keys named objects that do not exist (NoSuchKey); decoded once, the file is
    read and the list id itself is what Which50's adapter refuses."""
    key = f"imports/which50/{list_segment}/contacts.csv"
    result = run(import_file, "which50", key, body=body_for("which50", "c.csv"))
    note = only_notification(result)
    assert note["message"]["s3"]["source_key"] == key
    assert f"must be a number, got {list_segment!r}" in note["message"]["error"]["message"]


def test_a_versionless_event_imports_the_object_under_its_etag_name(import_file):
    result = run(import_file, "sendgrid", "imports/sendgrid/_/c.csv", body=body_for("sendgrid", "c.csv"),
                 versionless_event=True)  # fmt: skip
    assert_imported_from(result, "imports/sendgrid/_/c.csv")


MISPLACED = [
    ("no target", "sendgrid", "imports/sendgrid/contacts.csv",
     "upload it as imports/sendgrid/<list id, or _ for no list>/contacts.csv"),
    ("too deep", "sendgrid", "imports/sendgrid/_/2026/contacts.csv", "(too deep)"),
    ("which50 without list", "which50", "imports/which50/contacts.csv",
     "upload it as imports/which50/<contact list id>/contacts.csv"),
    ("no provider", "unknown", "imports/contacts.csv", "upload it as imports/<sendgrid|which50>/<target>/"),
    ("unknown provider", "unknown", "imports/mailchimp/_/contacts.csv", "unknown provider 'mailchimp'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "provider", "key", "problem"), MISPLACED, ids=[case for case, *_ in MISPLACED]
)
def test_a_misplaced_upload_gets_one_notification_naming_the_key_and_its_layout(
    import_file, case, provider, key, problem
):
    result = import_file(key=key, body=b"email\na@example.com\n")
    note = only_notification(result)
    assert note["attributes"] == {"event_type": "import.failed", "provider": provider, "outcome": "failed"}
    assert note["message"]["schema_version"] == "1"
    assert note["message"]["s3"]["source_key"] == key
    assert note["message"]["error"]["type"] == "InvalidImportFile"
    assert problem in note["message"]["error"]["message"]
    assert result["provider_jobs"] == []
    assert result["source_intact"]


def test_a_misplaced_upload_goes_straight_to_notify_without_reading_the_file(import_file):
    result = import_file(key="imports/sendgrid/contacts.csv", body=b"email\na@example.com\n")
    assert result["states"] == ["RecordExecution", "WhichOperation", "NotifyFailed", "JobFailed"]


def test_a_misplaced_upload_delivered_three_times_notifies_once(import_file):
    result = import_file(key="imports/sendgrid/contacts.csv", body=b"email\n", duplicate_events=3)
    assert len(result["executions"]) == 1
    assert only_notification(result)["attributes"]["event_type"] == "import.failed"


@pytest.mark.parametrize(
    "key",
    [
        "imports/sendgrid/_/errors/import-0123abcd/contacts-part-001-errors.csv",
        "imports/which50/101/errors/import-0123abcd/contacts-part-001-errors.csv",
        "imports/sendgrid/3c4b8a52-4f0e-4d5b-8f7a-2b1c9d0e6f11/",
    ],
)
def test_error_reports_and_folder_markers_start_nothing_and_notify_nobody(import_file, key):
    result = import_file(key=key, body=b"email,error\na@example.com,invalid\n" if key[-1] != "/" else b"")
    assert result["executions"] == []
    assert result["notifications"] == []


def test_the_errors_report_of_an_upper_case_gzip_upload_is_named_after_its_stem(import_file):
    body = gzip.compress(import_csv(20, invalid_rows=2))
    result = run(import_file, "sendgrid", "imports/sendgrid/_/Spring List.CSV.GZ", body=body)
    assert result["counts"]["errored"] == 2
    assert result["errors_key"].startswith("imports/sendgrid/_/errors/")
    assert result["errors_key"].endswith("/Spring List-part-001-errors.csv")
