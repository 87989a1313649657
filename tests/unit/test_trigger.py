"""The trigger: which events it accepts, how it decodes keys, and one execution per object version however
often S3 and EventBridge deliver the event."""

import copy
import json

import boto3
import pytest
from moto import mock_aws

from contact_jobs.streams import ExactBody
from contact_jobs.trigger import (
    ObjectCreated,
    RefusedEvent,
    execution_input,
    execution_name,
    handle_event,
    parse_event,
    start_import,
)
from tests.conftest import load_event

DEFINITION = json.dumps(
    {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}
)
BUCKET = "contact-jobs-imports"  # the bucket the sample events name


@pytest.fixture
def sfn_machine():
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="eu-west-1")
        arn = sfn.create_state_machine(
            name="m", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        yield sfn, arn


def uploaded(key: str, version_id: str | None = "v1", etag: str | None = "e") -> ObjectCreated:
    return ObjectCreated(BUCKET, key, version_id, etag, 10)


def started_input(sfn, result) -> dict:
    return json.loads(sfn.describe_execution(executionArn=result["execution_arn"])["input"])


def executions(sfn, arn) -> list:
    return sfn.list_executions(stateMachineArn=arn)["executions"]


# Reading the event --------------------------------------------------------------------------------------


def test_the_sample_event_names_its_bucket_key_version_etag_size_and_sequencer():
    assert parse_event(load_event("s3_object_created.json")) == ObjectCreated(
        BUCKET,
        "imports/sendgrid/_/contacts.csv",
        "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
        "b1946ac92492d2347c6235b4d2611184",
        1024,
        "00617F08299329D189",
    )


@pytest.mark.parametrize(
    ("sample", "key"),
    [
        ("s3_object_created_encoded_key.json", "imports/sendgrid/_/spring sale été.csv"),
        ("s3_object_created_plus_in_name.json", "imports/sendgrid/_/spring+summer.csv"),
        ("s3_object_created_literal_percent20.json", "imports/sendgrid/_/spring%20sale.csv"),
    ],
)
def test_the_event_key_is_decoded_exactly_once(sample, key):
    assert parse_event(load_event(sample)).key == key


def test_a_versionless_event_is_named_by_its_sequencer():
    created = parse_event(load_event("s3_object_created_versionless.json"))
    assert (created.version_id, created.version) == (None, "00617F08299329D189")


def test_the_same_bytes_uploaded_again_without_versioning_start_a_new_import(sfn_machine):
    """Same key, same ETag, a later write: S3 gives it a new sequencer, so it is not a redelivery."""
    sfn, arn = sfn_machine
    first, again = (
        load_event("s3_object_created_versionless.json"),
        load_event("s3_object_created_versionless.json"),
    )
    again["detail"]["object"]["sequencer"] = "00617F08299329D1A0"
    started = [handle_event(sfn, arn, BUCKET, event) for event in (first, again)]
    assert [result["started"] for result in started] == [True, True]
    assert len(executions(sfn, arn)) == 2


def test_a_versionless_event_without_a_sequencer_is_named_by_its_etag():
    event = load_event("s3_object_created_versionless.json")
    del event["detail"]["object"]["sequencer"]
    assert parse_event(event).version == "b1946ac92492d2347c6235b4d2611184"


def test_a_malformed_event_is_refused_naming_the_missing_field():
    with pytest.raises(RefusedEvent, match=r"detail\.object\.key is missing"):
        parse_event(load_event("s3_object_created_malformed.json"))


def test_the_classic_s3_notification_shape_is_refused_by_name():
    with pytest.raises(RefusedEvent, match=r"classic S3 notification shape"):
        parse_event(load_event("s3_put_classic_notification.json"))


def test_an_event_without_version_id_or_etag_is_refused():
    event = load_event("s3_object_created_versionless.json")
    del event["detail"]["object"]["etag"]
    with pytest.raises(RefusedEvent, match=r"neither detail\.object\.version-id nor detail\.object\.etag"):
        parse_event(event)


def test_an_event_of_another_detail_type_is_refused():
    event = load_event("s3_object_created.json")
    event["detail-type"] = "Object Deleted"
    with pytest.raises(RefusedEvent, match="detail-type 'Object Deleted'"):
        parse_event(event)


@pytest.mark.parametrize("event", [None, [], "imports/sendgrid/_/a.csv"])
def test_an_event_that_is_not_an_object_is_refused(event):
    with pytest.raises(RefusedEvent, match="not an S3 EventBridge event object"):
        parse_event(event)


def test_a_bucket_that_is_not_an_object_is_refused():
    event = copy.deepcopy(load_event("s3_object_created.json"))
    event["detail"]["bucket"] = "contact-jobs-imports"
    with pytest.raises(RefusedEvent, match=r"detail\.bucket is a str, not an object"):
        parse_event(event)


def test_a_size_that_is_not_a_byte_count_is_refused():
    event = load_event("s3_object_created.json")
    event["detail"]["object"]["size"] = "1024"
    with pytest.raises(RefusedEvent, match=r"detail\.object\.size is '1024'"):
        parse_event(event)


def test_an_event_naming_another_bucket_starts_nothing(sfn_machine):
    sfn, arn = sfn_machine
    with pytest.raises(RefusedEvent, match="bucket 'someone-elses-bucket'; this trigger imports from"):
        handle_event(sfn, arn, BUCKET, load_event("s3_object_created_other_bucket.json"))
    assert executions(sfn, arn) == []


# Starting executions ------------------------------------------------------------------------------------


def test_name_is_stable_for_a_version_and_new_for_a_new_upload():
    first = execution_name("b", "imports/sendgrid/_/a.csv", "v1")
    assert first == execution_name("b", "imports/sendgrid/_/a.csv", "v1")
    assert first != execution_name("b", "imports/sendgrid/_/a.csv", "v2")
    assert len(first) <= 80


def test_a_redelivered_event_starts_nothing_new(sfn_machine):
    """While the execution runs, StartExecution with the same name and input answers that execution: the
    redelivery reports it as started, and there is still one."""
    sfn, arn = sfn_machine
    first = start_import(sfn, arn, uploaded("imports/sendgrid/_/a.csv"))
    again = start_import(sfn, arn, uploaded("imports/sendgrid/_/a.csv"))
    assert first["started"]
    assert again["execution_name"] == first["execution_name"]
    assert again["started"] is True
    assert again["execution_arn"] == first["execution_arn"]
    assert len(executions(sfn, arn)) == 1


def test_a_redelivery_after_its_execution_ended_starts_nothing_and_says_why(sfn_machine):
    """Once the execution has ended, the same name is refused (ExecutionAlreadyExists): not an error, since
    that object version had its execution."""
    sfn, arn = sfn_machine
    first = start_import(sfn, arn, uploaded("imports/sendgrid/_/a.csv"))
    sfn.stop_execution(executionArn=first["execution_arn"])
    again = start_import(sfn, arn, uploaded("imports/sendgrid/_/a.csv"))
    assert again == {
        "execution_name": first["execution_name"],
        "key_problem": None,
        "started": False,
        "reason": "already started for this object version",
    }
    assert [execution["status"] for execution in executions(sfn, arn)] == ["ABORTED"]


def test_a_versionless_upload_is_started_under_its_etag_name(sfn_machine):
    sfn, arn = sfn_machine
    result = start_import(sfn, arn, uploaded("imports/sendgrid/_/a.csv", version_id=None, etag="etag-1"))
    assert result["execution_name"] == execution_name(BUCKET, "imports/sendgrid/_/a.csv", "etag-1")
    assert started_input(sfn, result)["source"]["version_id"] is None


def test_the_started_input_holds_the_key_as_stored(sfn_machine):
    sfn, arn = sfn_machine
    result = handle_event(sfn, arn, BUCKET, load_event("s3_object_created_plus_in_name.json"))
    assert started_input(sfn, result)["source"]["key"] == "imports/sendgrid/_/spring+summer.csv"


def test_a_good_key_starts_an_import_without_an_error(sfn_machine):
    sfn, arn = sfn_machine
    result = start_import(sfn, arn, uploaded("imports/which50/101/a.CSV.GZ"))
    assert result["key_problem"] is None
    assert started_input(sfn, result) == execution_input(uploaded("imports/which50/101/a.CSV.GZ"))
    assert "error" not in started_input(sfn, result)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("imports/sendgrid/contacts.csv", "upload it as imports/sendgrid/<list id, or _ for no list>/"),
        ("imports/which50/101/2026/contacts.csv", "(too deep)"),
        ("imports/mailchimp/_/contacts.csv", "unknown provider 'mailchimp'"),
        ("imports/sendgrid/_/contacts.xlsx", "unsupported file type 'contacts.xlsx'"),
    ],
)
def test_a_key_that_breaks_the_convention_starts_a_notice_naming_the_problem(sfn_machine, key, problem):
    sfn, arn = sfn_machine
    result = start_import(sfn, arn, uploaded(key))
    assert result["started"]
    error = started_input(sfn, result)["error"]
    assert error["Error"] == "InvalidImportFile"
    assert problem in error["Cause"]
    assert repr(key) in error["Cause"]


def test_a_redelivered_misplaced_upload_starts_one_notice(sfn_machine):
    sfn, arn = sfn_machine
    first = start_import(sfn, arn, uploaded("imports/sendgrid/contacts.csv"))
    again = start_import(sfn, arn, uploaded("imports/sendgrid/contacts.csv"))
    assert again["execution_name"] == first["execution_name"]
    assert len(executions(sfn, arn)) == 1


def test_the_provider_of_a_key_outside_the_convention_is_unknown():
    assert execution_input(uploaded("imports/contacts.csv"), "x")["provider"] == "unknown"
    assert execution_input(uploaded("imports/mailchimp/_/a.csv"), "x")["provider"] == "unknown"
    assert execution_input(uploaded("imports/which50/a.csv"), "x")["provider"] == "which50"


@pytest.mark.parametrize(
    "key",
    [
        "imports/sendgrid/_/errors/import-0123/a-part-001-errors.csv",
        "imports/which50/101/errors/import-0123/a-part-001-errors.csv",
        "imports/sendgrid/3c4b8a52/",
        "imports/",
        "backups/sendgrid/2026/11/23/x/part-00001.csv.gz",
    ],
)
def test_error_reports_folders_and_other_prefixes_start_nothing(sfn_machine, key):
    sfn, arn = sfn_machine
    result = start_import(sfn, arn, uploaded(key))
    assert result["started"] is False
    assert executions(sfn, arn) == []


def test_an_upload_body_that_ends_early_fails_mid_send():
    body = ExactBody(iter([b"abc"]), 5)
    assert len(body) == 5
    with pytest.raises(OSError, match="ended after 3 of 5 bytes"):
        list(body)
