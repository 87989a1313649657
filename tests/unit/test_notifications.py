"""The notification document and its filterable attributes."""

import json

import pytest

from contact_jobs import notifications

EXECUTION = {
    "name": "backup-1",
    "arn": "arn:aws:states:eu-west-1:1:execution:m:backup-1",
    "start_time": "2026-01-01T00:00:00Z",
}
JOB = {
    "operation": "backup",
    "provider": "sendgrid",
    "provider_job_id": "e1",
    "started_at": "2026-01-01T00:00:00Z",
    "prefix": "backups/sendgrid/2026/01/01/backup-1/",
    "contact_count": 3,
}
MANIFEST = {
    "bucket": "b",
    "manifest_key": "backups/x/manifest.json",
    "file_keys": ["k1", "k2"],
    "total_bytes": 10,
    "contact_count": 3,
}


def test_completed_backup_carries_counts_and_keys():
    document = notifications.build({"job": JOB, "manifest": MANIFEST}, "completed", EXECUTION, "now")
    assert document["event_type"] == "backup.completed"
    assert document["counts"] == {"contacts": 3, "files": 2, "bytes": 10}
    assert document["s3"]["manifest_key"] == "backups/x/manifest.json"
    assert document["error"] is None


def test_lambda_error_cause_gives_type_and_message():
    cause = json.dumps(
        {"errorType": "ExportFailed", "errorMessage": "export e1 ended in failure", "stackTrace": ["x"]}
    )
    document = notifications.build(
        {"job": JOB, "error": {"Error": "ExportFailed", "Cause": cause}}, "failed", EXECUTION, "now"
    )
    assert document["error"] == {"type": "ExportFailed", "message": "export e1 ended in failure"}


def test_states_error_with_plain_cause_is_kept_as_text():
    error = {"Error": "States.Timeout", "Cause": "Task timed out"}
    assert notifications.failure_reason(error) == {"type": "States.Timeout", "message": "Task timed out"}


def test_failure_before_any_job_still_names_operation_and_provider():
    state = {"operation": "backup", "provider": "sendgrid", "error": {"Error": "ProviderError", "Cause": "x"}}
    document = notifications.build(state, "failed", EXECUTION, "now")
    assert (document["event_type"], document["provider"], document["provider_job_id"]) == (
        "backup.failed",
        "sendgrid",
        None,
    )


def test_a_recovered_error_is_not_reported_on_success():
    state = {"job": JOB, "manifest": MANIFEST, "error": {"Error": "ExportExpired", "Cause": "old"}}
    assert notifications.build(state, "completed", EXECUTION, "now")["error"] is None


def test_attributes_are_the_filterable_fields():
    document = notifications.build({"job": JOB}, "failed", EXECUTION, "now")
    assert notifications.message_attributes(document) == {
        "event_type": {"DataType": "String", "StringValue": "backup.failed"},
        "provider": {"DataType": "String", "StringValue": "sendgrid"},
        "outcome": {"DataType": "String", "StringValue": "failed"},
    }


def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        notifications.build({}, "maybe", EXECUTION, "now")


IMPORT_JOB = {
    "operation": "import",
    "provider": "sendgrid",
    "uploads": [{"provider_job_id": "i1"}],
    "counts": {"requested": 5, "created": 2, "updated": 0, "errored": 3},
    "warnings": [],
}
REPORT_REFUSED = {
    "Error": "DownloadUrlExpired",
    "Cause": json.dumps({"errorType": "DownloadUrlExpired", "errorMessage": "refused with HTTP 403"}),
}


def test_a_missing_error_report_is_a_warning_naming_why():
    state = {"job": IMPORT_JOB, "errors_report_error": REPORT_REFUSED}
    document = notifications.build(state, "errored", EXECUTION, "now")
    assert document["event_type"] == "import.errored"
    assert document["counts"]["created"] == 2
    assert document["warnings"] == [
        "the provider's error report could not be copied to S3: DownloadUrlExpired: refused with HTTP 403"
    ]
    assert document["error"] is None, "the job did not fail: the reason is a warning"


def test_a_completed_import_whose_error_report_is_missing_is_errored():
    state = {"job": IMPORT_JOB, "errors_report_error": REPORT_REFUSED}
    assert notifications.build(state, "completed", EXECUTION, "now")["outcome"] == "errored"


def test_a_failed_import_stays_failed_when_its_error_report_is_missing():
    state = {"job": {**IMPORT_JOB, "failure": "job i1 failed"}, "errors_report_error": REPORT_REFUSED}
    assert notifications.build(state, "failed", EXECUTION, "now")["outcome"] == "failed"
