"""A CSV dropped into the import bucket becomes a SendGrid import, exactly once, end to end."""

import gzip

import pytest

from sandbox.contacts import import_csv
from sandbox.fake_sendgrid import KNOWN_LIST, FakeSendGridOptions
from tests.integration.conftest import only_notification


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


def test_upload_uri_got_every_header_an_exact_length_and_no_api_key(import_file):
    result = import_file(contacts=50)
    assert result["upload_problems"] == []
    assert result["counts"]["created"] == 50
