"""The handlers invoked directly with the sample events in events/ (what `sam local invoke -e` sends)."""

import json

import pytest

from contact_jobs.importkey import decode_event_key
from sandbox.moto_patches import LambdaContext
from sandbox.runner import received_notifications, schedule_input, subscribe_queue
from sandbox.stack import load_handler
from tests.conftest import load_event


def handler(stack, logical_id: str):
    properties = stack.template.function_properties(logical_id)
    return load_handler(properties["CodeUri"], properties["Handler"])


def context(name: str) -> LambdaContext:
    return LambdaContext(name, 512, 120)


def test_schedule_event_is_what_the_template_schedule_sends(stack_with_fake):
    stack, _ = stack_with_fake
    assert schedule_input(stack) == load_event("schedule_backup.json")


def test_start_export_then_check_job_with_the_sample_event(stack_with_fake):
    stack, fake = stack_with_fake
    job = handler(stack, "StartExportFunction")(
        load_event("state/start_export.json"), context("StartExportFunction")
    )
    assert job["provider_job_id"] in fake.exports
    assert job["prefix"] == "backups/sendgrid/2026/11/23/backup-sample/"
    checked = handler(stack, "CheckJobFunction")({"job": job}, context("CheckJobFunction"))
    assert checked["status"] == "ready"
    assert checked["files"] == [{"index": 0}]


def test_notify_failed_sample_publishes_the_reason(stack_with_fake):
    stack, _ = stack_with_fake
    queue = subscribe_queue(stack)
    handler(stack, "NotifyFunction")(load_event("state/notify_failed.json"), context("NotifyFunction"))
    (note,) = received_notifications(stack, queue)
    assert note["attributes"] == {"event_type": "backup.failed", "provider": "sendgrid", "outcome": "failed"}
    assert note["message"]["error"]["message"].endswith("ended in failure: export failed")


def test_discard_sample_removes_the_partial_backup(stack_with_fake):
    stack, _ = stack_with_fake
    s3 = stack.client("s3")
    event = load_event("state/discard_partial_backup.json")
    prefix = event["state"]["job"]["prefix"]
    s3.put_object(Bucket=stack.backup_bucket, Key=f"{prefix}part-00001.csv.gz", Body=b"partial")
    result = handler(stack, "DiscardPartialBackupFunction")(event, context("DiscardPartialBackupFunction"))
    assert result == {"discarded": 1, "aborted_uploads": 0}
    assert s3.list_objects_v2(Bucket=stack.backup_bucket, Prefix=prefix)["KeyCount"] == 0


def _object_event(stack, name: str) -> dict:
    """A sample event pointed at the sandbox's import bucket, with its object really there."""
    event = load_event(name)
    event["detail"]["bucket"]["name"] = stack.import_bucket
    key = decode_event_key(event["detail"]["object"]["key"])
    stack.client("s3").put_object(Bucket=stack.import_bucket, Key=key, Body=b"email\na@example.com\n")
    return event


def test_sample_event_and_its_duplicate_start_one_execution(stack_with_fake):
    stack, _ = stack_with_fake
    trigger = handler(stack, "TriggerImportFunction")
    first = trigger(_object_event(stack, "s3_object_created.json"), context("TriggerImportFunction"))
    again = trigger(
        _object_event(stack, "s3_object_created_duplicate.json"), context("TriggerImportFunction")
    )
    assert first["started"]
    assert again["execution_name"] == first["execution_name"]
    executions = stack.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)[
        "executions"
    ]
    assert [e["name"] for e in executions] == [first["execution_name"]]


def test_sample_event_with_an_encoded_key_starts_an_import_of_the_decoded_key(stack_with_fake):
    stack, _ = stack_with_fake
    started = handler(stack, "TriggerImportFunction")(
        _object_event(stack, "s3_object_created_encoded_key.json"), context("TriggerImportFunction")
    )
    described = stack.client("stepfunctions").describe_execution(executionArn=started["execution_arn"])
    assert json.loads(described["input"])["source"]["key"] == "imports/sendgrid/_/spring sale été.csv"


def executions(stack) -> list[dict]:
    sfn = stack.client("stepfunctions")
    listed: list[dict] = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    return listed


def started_input(stack, result: dict) -> dict:
    described = stack.client("stepfunctions").describe_execution(executionArn=result["execution_arn"])
    loaded: dict = json.loads(described["input"])
    return loaded


def log_records(stack) -> list[dict]:
    return [json.loads(line) for line in stack.lambda_log_lines() if line.startswith('{"level"')]


@pytest.mark.parametrize(
    ("sample", "key"),
    [
        ("s3_object_created_plus_in_name.json", "imports/sendgrid/_/spring+summer.csv"),
        ("s3_object_created_literal_percent20.json", "imports/sendgrid/_/spring%20sale.csv"),
        ("s3_object_created_upper_case_gzip.json", "imports/sendgrid/_/contacts.CSV.GZ"),
    ],
)
def test_sample_event_with_an_odd_name_starts_an_import_of_the_key_as_stored(stack_with_fake, sample, key):
    stack, _ = stack_with_fake
    started = handler(stack, "TriggerImportFunction")(
        _object_event(stack, sample), context("TriggerImportFunction")
    )
    assert started_input(stack, started)["source"]["key"] == key


def test_versionless_sample_event_starts_an_import_named_by_its_etag(stack_with_fake):
    stack, _ = stack_with_fake
    started = handler(stack, "TriggerImportFunction")(
        _object_event(stack, "s3_object_created_versionless.json"), context("TriggerImportFunction")
    )
    assert started["started"]
    assert started_input(stack, started)["source"]["version_id"] is None


def test_misplaced_sample_event_starts_a_notice_not_an_import(stack_with_fake):
    stack, _ = stack_with_fake
    started = handler(stack, "TriggerImportFunction")(
        _object_event(stack, "s3_object_created_misplaced.json"), context("TriggerImportFunction")
    )
    assert "imports/sendgrid/contacts.csv" in started_input(stack, started)["error"]["Cause"]


def test_errors_report_sample_event_starts_nothing(stack_with_fake):
    stack, _ = stack_with_fake
    result = handler(stack, "TriggerImportFunction")(
        _object_event(stack, "s3_object_created_errors_report.json"), context("TriggerImportFunction")
    )
    assert result["started"] is False
    assert executions(stack) == []


REFUSED = [
    ("s3_object_created_malformed.json", "detail.object.key is missing"),
    ("s3_object_created_other_bucket.json", "event names bucket 'someone-elses-bucket'"),
    ("s3_put_classic_notification.json", "classic S3 notification shape"),
]


@pytest.mark.parametrize(("sample", "problem"), REFUSED, ids=[sample for sample, _ in REFUSED])
def test_refused_sample_event_is_logged_as_an_error_naming_the_problem_and_starts_nothing(
    stack_with_fake, sample, problem
):
    stack, _ = stack_with_fake
    event = load_event(sample)
    if sample != "s3_object_created_other_bucket.json" and "detail" in event:
        event["detail"]["bucket"]["name"] = stack.import_bucket
    answer = handler(stack, "TriggerImportFunction")(event, context("TriggerImportFunction"))
    assert answer["started"] is False
    assert problem in answer["refused"]
    refusals = [r for r in log_records(stack) if r["message"] == "event refused"]
    assert [r["level"] for r in refusals] == ["ERROR"]
    assert problem in refusals[0]["problem"]
    assert executions(stack) == []
