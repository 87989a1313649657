"""Which50 imports through the same workflow: batches, /run, resumable pushes, exactly once."""

import pytest

from sandbox.fake_which50 import FakeWhich50Options
from sandbox.runner import STATE_DATA_LIMIT
from tests.integration.conftest import only_notification
from tests.integration.hostile_uploads import wide_header, wide_rows
from tests.integration.test_import_workflow import state_payloads

FAST = FakeWhich50Options(progress_s=0.05)


def which50(import_file, **scenario):
    return import_file(provider="which50", which50=scenario.pop("which50", FAST), **scenario)


def test_contacts_are_pushed_in_batches_of_ten_thousand_then_run(import_file):
    result = which50(import_file, contacts=25000)
    assert result["status"] == "SUCCEEDED"
    assert result["batches"] == [10000, 10000, 5000]
    assert result["run_called"]
    assert result["counts"]["created"] + result["counts"]["updated"] == 25000
    note = only_notification(result)
    assert note["attributes"] == {
        "event_type": "import.completed",
        "provider": "which50",
        "outcome": "completed",
    }
    assert note["message"]["provider_counts"]["total"] == 25000


def test_a_lowered_time_budget_resumes_across_push_steps_sending_each_contact_once(import_file):
    result = which50(import_file, contacts=100_000, environment={"SEND_TIME_BUDGET_S": "0"})
    assert result["status"] == "SUCCEEDED"
    assert result["states"].count("SendImport") == 10, "one batch per call, then the next call resumes"
    assert result["received"] == 100_000
    assert result["received_more_than_once"] == []
    assert result["counts"]["created"] == 100_000


def test_a_refused_push_is_resumed_without_resending_or_skipping(import_file):
    refusing = FakeWhich50Options(progress_s=0.05, refuse_batches={2: 2})
    result = which50(import_file, which50=refusing, contacts=30000, environment={"SEND_TIME_BUDGET_S": "0"})
    assert result["status"] == "SUCCEEDED"
    assert result["states"].count("WaitBeforeSending") == 2
    assert result["batches"] == [10000, 10000, 10000]
    assert result["received"] == 30000
    assert result["received_more_than_once"] == []


def test_invalid_emails_make_the_outcome_errored_with_which50s_counts(import_file):
    result = which50(import_file, contacts=500, invalid_rows=4)
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.errored"
    assert note["message"]["counts"] == {"requested": 500, "created": 496, "updated": 0, "errored": 4}
    assert note["message"]["provider_counts"]["invalid_email"] == 4


def test_existing_contacts_are_counted_as_updated(import_file):
    known = FakeWhich50Options(progress_s=0.05, existing_emails=frozenset({"contact0000000@example.com"}))
    result = which50(import_file, which50=known, contacts=10)
    assert only_notification(result)["message"]["counts"] == {
        "requested": 10,
        "created": 9,
        "updated": 1,
        "errored": 0,
    }


def test_an_unknown_current_status_is_reported_not_guessed(import_file):
    odd = FakeWhich50Options(progress_s=0.05, running_status="Crunching", finished_status="AllGood")
    result = which50(import_file, which50=odd, contacts=10)
    assert result["status"] == "SUCCEEDED", "FinishDate and ProgressPercent 100 still end the job"
    warnings = only_notification(result)["message"]["warnings"]
    assert any("'AllGood'" in warning for warning in warnings)


def test_a_failed_job_fails_the_execution_after_one_notification(import_file):
    result = which50(import_file, which50=FakeWhich50Options(progress_s=0.05, fail_jobs=True), contacts=10)
    assert result["status"] == "FAILED"
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.failed"
    assert "which50 import job(s)" in note["message"]["error"]["message"]


def test_rate_limited_pushes_still_deliver_every_contact_once(import_file):
    limited = FakeWhich50Options(progress_s=0.05, rate_limit_every=3)
    result = which50(import_file, which50=limited, contacts=20000)
    assert result["status"] == "SUCCEEDED"
    assert result["received"] == 20000
    assert result["received_more_than_once"] == []


BAD_INPUTS = [
    ("empty file", {"body": b""}, "file is empty"),
    ("header only", {"body": b"Email,FirstName\n"}, "header but no contacts"),
    ("no identifier", {"body": b"FirstName,City\nAda,Lisbon\n"}, "no identifier column"),
    ("not UTF-8", {"body": b"Email\n\xff\xfe@example.com\n"}, "not UTF-8"),
    ("binary", {"body": b"PK\x03\x04\x14\x00\x00\x00\x08\x00"}, "binary"),
    ("unsupported extension", {"body": b"Email\na@example.com\n", "key": "imports/which50/101/c.json"},
     "unsupported file type"),
    ("list id not a number", {"body": b"Email\na@example.com\n", "key": "imports/which50/newsletter/c.csv"},
     "must be a number"),
    ("unknown list", {"contacts": 5, "list_id": "999"}, "HTTP 404"),
    ("row with more fields than the header", {"body": b"Email,FirstName\na@example.com,Ada,Lovelace\n"},
     "row 2 has 3 fields, more than the header's 2"),
    ("row with fewer fields than the header", {"body": b"Email,Name\na@example.com,Ada\nb@example.com\n"},
     "row 3 has 1 fields, fewer than the header's 2"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "scenario", "problem"), BAD_INPUTS, ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_fails_with_a_notification_naming_the_problem(import_file, case, scenario, problem):
    result = which50(import_file, **scenario)
    assert result["status"] == "FAILED"
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.failed"
    assert problem in note["message"]["error"]["message"]
    assert result["batches"] == []
    assert result["source_intact"]


def test_a_refused_api_key_fails_with_which50s_401(import_file):
    result = which50(import_file, contacts=5, secret_api_key="w50-revoked")
    assert "HTTP 401" in only_notification(result)["message"]["error"]["message"]
    assert result["batches"] == []


def test_a_lower_case_email_header_is_sent_as_which50s_email_field(import_file):
    body = b"email,FirstName\n" + b"".join(f"contact{i}@example.com,Ada\n".encode() for i in range(20))
    result = which50(import_file, body=body)
    assert result["status"] == "SUCCEEDED"
    assert result["received_more_than_once"] == [], "each contact arrived under its own Email value"
    assert only_notification(result)["message"]["counts"] == {
        "requested": 20,
        "created": 20,
        "updated": 0,
        "errored": 0,
    }


def test_a_header_too_large_for_the_state_once_escaped_is_refused_by_name(import_file):
    """Under 64 KiB as bytes, but each 'é' takes six bytes in the state's JSON, in the header and again
    in the field names: without the check the state would pass 256 KiB and no notification be sent."""
    result = which50(import_file, body=wide_header(999, name_bytes=60, letter="é"))
    assert result["status"] == "FAILED"
    message = only_notification(result)["message"]["error"]["message"]
    assert "header is too large to carry through the workflow" in message
    assert result["batches"] == []
    assert all(len(payload.encode()) < STATE_DATA_LIMIT for payload in state_payloads(result))


def body_bound_held(result: dict, bound: int) -> bool:
    """Each push's request body reached the bound with its last contact at the most."""
    sizes = zip(result["batch_body_bytes"], result["batches"], strict=True)
    largest_contact = max(size // count for size, count in sizes)
    return all(size <= bound + 2 * largest_contact for size in result["batch_body_bytes"])


def test_batches_also_end_at_their_request_body_bound_sending_each_contact_once(import_file):
    result = which50(import_file, contacts=200, environment={"WHICH50_BATCH_BYTES": "2000"})
    assert result["status"] == "SUCCEEDED"
    assert len(result["batches"]) > 3
    assert body_bound_held(result, 2000)
    assert result["received"] == 200
    assert result["received_more_than_once"] == []


def test_a_wide_header_ends_batches_by_the_json_body_not_the_csv_bytes(import_file):
    """JSON repeats every field name per contact: 300 columns of 50-character names make each contact's
    JSON about eight times its CSV row, so counting CSV bytes would send bodies eight times the bound."""
    bound = 64 * 1024
    result = which50(import_file, body=wide_rows(columns=300, name_bytes=50, rows=60),
                     environment={"WHICH50_BATCH_BYTES": str(bound)})  # fmt: skip
    assert result["status"] == "SUCCEEDED"
    assert sum(result["batches"]) == 60
    assert len(result["batches"]) > 1
    assert body_bound_held(result, bound)
