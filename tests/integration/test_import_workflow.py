"""A CSV dropped into the import bucket becomes a SendGrid import, exactly once, end to end."""

import gzip

import pytest

from sandbox.contacts import import_csv
from sandbox.fake_sendgrid import KNOWN_LIST, FakeSendGridOptions
from sandbox.misbehaviour import not_json
from sandbox.runner import STATE_DATA_LIMIT
from tests.integration.conftest import only_notification
from tests.integration.hostile_uploads import one_long_line_gz, short_lines_bomb_gz, wide_header


def test_import_with_invalid_rows_reports_errored_counts_and_the_errors_file(import_file):
    result = import_file(contacts=2000, invalid_rows=7)
    assert result["status"] == "SUCCEEDED"
    assert (len(result["executions"]), len(result["provider_jobs"])) == (1, 1)
    assert result["counts"] == {"requested": 2000, "created": 1993, "updated": 0, "errored": 7}
    assert result["received_sha256"] == result["source_sha256"]
    assert result["errors_key"].startswith("imports/sendgrid/_/errors/")
    note = only_notification(result)
    assert note["attributes"] == {
        "event_type": "import.errored",
        "provider": "sendgrid",
        "outcome": "errored",
    }
    assert note["message"]["counts"] == {"requested": 2000, "created": 1993, "updated": 0, "errored": 7}
    assert note["message"]["s3"]["errors_keys"] == [result["errors_key"]]
    assert result["source_intact"]


def test_duplicate_event_deliveries_start_one_import(import_file):
    result = import_file(contacts=300, duplicate_events=3)
    assert (len(result["executions"]), len(result["provider_jobs"])) == (1, 1)
    assert only_notification(result)["attributes"]["event_type"] == "import.completed"


def test_existing_contacts_are_counted_as_updated_into_a_list(import_file):
    fake = FakeSendGridOptions(
        import_ready_after_s=0.05, existing_emails=frozenset({"contact0000001@example.com"})
    )
    result = import_file(fake=fake, contacts=10, list_id=KNOWN_LIST)
    assert result["counts"] == {"requested": 10, "created": 9, "updated": 1, "errored": 0}
    assert only_notification(result)["message"]["outcome"] == "completed"


def test_gzip_upload_is_sent_as_is_and_received_whole(import_file):
    body = gzip.compress(import_csv(500))
    result = import_file(body=body, key="imports/sendgrid/_/weekly.csv.gz")
    assert result["status"] == "SUCCEEDED"
    assert result["received_sha256"] == result["source_sha256"]
    assert result["counts"]["created"] == 500


def test_a_file_over_the_limits_is_imported_in_parts_in_one_notification(import_file):
    result = import_file(contacts=1000, invalid_rows=2, environment={"MAX_IMPORT_ROWS": "400"})
    assert result["status"] == "SUCCEEDED"
    assert len(result["provider_jobs"]) == 3
    assert result["counts"] == {"requested": 1000, "created": 998, "updated": 0, "errored": 2}
    note = only_notification(result)
    assert note["message"]["parts"] == 3
    assert note["message"]["counts"]["requested"] == 1000


def test_gzip_file_over_the_limits_is_split_too(import_file):
    body = gzip.compress(import_csv(900))
    result = import_file(
        body=body, key="imports/sendgrid/_/big.csv.gz", environment={"MAX_IMPORT_ROWS": "400"}
    )
    assert len(result["provider_jobs"]) == 3
    assert result["counts"]["created"] == 900


def test_key_with_spaces_arrives_url_encoded_and_is_imported(import_file):
    result = import_file(contacts=20, key="imports/sendgrid/_/spring sale list.csv")
    assert result["status"] == "SUCCEEDED"
    assert (
        only_notification(result)["message"]["s3"]["source_key"] == "imports/sendgrid/_/spring sale list.csv"
    )


def test_read_only_and_unknown_columns_are_warnings_in_the_notification(import_file):
    body = b"EMAIL,CONTACT_ID,shoe_size\na@example.com,x,42\n"
    result = import_file(body=body)
    assert result["status"] == "SUCCEEDED"
    assert only_notification(result)["message"]["warnings"] == [
        "column 'CONTACT_ID' is read-only in SendGrid: skipped",
        "column 'shoe_size' matches no field: skipped",
    ]


TOO_WIDE = b"email,name\na@example.com,Ada\nb@example.com,Bob,Smith\n"
TOO_NARROW = b"email,name\na@example.com\nb@example.com,Bob\n"
LONG_FIELD = b"email,note\na@example.com,x\nb@example.com," + b"n" * 200 + b"\n"
FIVE_PARTS_ALLOWED_FOUR = {"MAX_IMPORT_ROWS": "10", "MAX_IMPORT_PARTS": "4"}
BAD_INPUTS = [
    ("empty file", {"body": b""}, "file is empty"),
    ("header only", {"body": b"email,first_name\n"}, "header but no contacts"),
    ("no identifier", {"body": b"first_name,city\nAda,Lisbon\n"}, "no identifier column"),
    ("not UTF-8", {"body": b"email,first_name\na@example.com,Jos\xe9\n"}, "not UTF-8"),
    ("binary", {"body": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, "binary"),
    ("unsupported extension", {"body": b"email\na@example.com\n", "key": "imports/sendgrid/_/contacts.xlsx"},
     "unsupported file type"),
    ("unknown provider", {"body": b"email\na@example.com\n", "key": "imports/mailchimp/_/contacts.csv"},
     "unknown provider 'mailchimp'"),
    ("unknown list", {"contacts": 5, "list_id": "0b0e5e0c-0000-4000-8000-000000000000"},
     "HTTP 404: id: list ID does not exist"),
    ("row with more fields than the header", {"body": TOO_WIDE},
     "row 3 has 3 fields, more than the header's 2"),
    ("row with fewer fields than the header", {"body": TOO_NARROW},
     "row 2 has 1 fields, fewer than the header's 2"),
    ("8,000 unmatched columns", {"body": wide_header(8000)},
     "header has 8001 columns, more than 1000 (MAX_IMPORT_COLUMNS)"),
    ("300 MiB line in a 300 KB gzip", {"body": one_long_line_gz(300), "key": "imports/sendgrid/_/l.csv.gz"},
     "row 2 is longer than 1048576 bytes (MAX_IMPORT_RECORD_BYTES)"),
    ("gzip bomb of short lines", {"body": short_lines_bomb_gz(32), "key": "imports/sendgrid/_/bomb.csv.gz"},
     "gzip file inflates more than 100 times its size (MAX_IMPORT_GZIP_RATIO)"),
    ("field over the field limit", {"body": LONG_FIELD, "environment": {"MAX_IMPORT_FIELD_CHARS": "100"}},
     "row 3 has a field longer than 100 characters (MAX_IMPORT_FIELD_CHARS)"),
    ("more parts than the limit", {"contacts": 50, "environment": FIVE_PARTS_ALLOWED_FOUR},
     "more than 4 parts (MAX_IMPORT_PARTS)"),
    ("reading outlasts the time budget", {"contacts": 2000, "environment": {"SCAN_TIME_RESERVE_S": "900"}},
     "longer to read than the function's time allows (SCAN_TIME_RESERVE_S)"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "scenario", "problem"), BAD_INPUTS, ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_fails_with_a_notification_naming_the_problem(import_file, case, scenario, problem):
    result = import_file(**scenario)
    assert result["status"] == "FAILED"
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.failed"
    assert problem in note["message"]["error"]["message"]
    assert result["provider_jobs"] == [], "nothing was sent to the provider"
    assert result["source_intact"]


def test_bad_api_key_fails_with_sendgrids_401(import_file):
    result = import_file(contacts=5, secret_api_key="SG.revoked-key")
    note = only_notification(result)
    assert "HTTP 401: authorization required" in note["message"]["error"]["message"]
    assert result["source_intact"]


def test_provider_failure_fails_the_execution_after_one_notification(import_file):
    result = import_file(fake=FakeSendGridOptions(import_ready_after_s=0.05, fail_imports=True), contacts=5)
    assert result["status"] == "FAILED"
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.failed"
    assert "failed" in note["message"]["error"]["message"]
    assert result["source_intact"]


def test_an_import_failing_while_it_polls_goes_straight_to_its_notification(import_file):
    """The import lane's errors go to NotifyFailed: never through the backup lane's DiscardPartialBackup."""
    fake = FakeSendGridOptions(import_ready_after_s=0.05, tamper={"import_status": not_json})
    result = import_file(fake=fake, contacts=5)
    assert result["status"] == "FAILED"
    assert only_notification(result)["attributes"]["event_type"] == "import.failed"
    (history,) = result["history"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history["events"] if e["type"].endswith("Entered")
    ]
    assert entered[-3:] == ["CheckImport", "NotifyFailed", "JobFailed"]
    assert "DiscardPartialBackup" not in entered


def test_upload_uri_got_every_header_an_exact_length_and_no_api_key(import_file):
    result = import_file(contacts=50)
    assert result["upload_problems"] == []
    assert result["counts"]["created"] == 50


def test_a_header_at_the_column_limit_keeps_every_state_under_256_kib(import_file):
    """1,000 columns (MAX_IMPORT_COLUMNS), 999 unmatched, near the header's 64 KiB: warnings capped."""
    result = import_file(body=wide_header(999, name_bytes=60))
    assert result["status"] == "SUCCEEDED"
    warnings = only_notification(result)["message"]["warnings"]
    assert len(warnings) == 20
    assert warnings[-1] == "... and 980 more warnings like these"
    largest = max(len(payload.encode()) for payload in state_payloads(result))
    assert 60_000 < largest < STATE_DATA_LIMIT


def state_payloads(result):
    for history in result["history"]:
        for event in history["events"]:
            for details in event.values():
                if isinstance(details, dict):
                    yield from (details[f] for f in ("input", "output") if isinstance(details.get(f), str))
