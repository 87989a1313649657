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
