"""One execution per object version, however often S3 and EventBridge deliver the event."""

import json

import boto3
import pytest
from moto import mock_aws

from contact_jobs.streams import ExactBody
from contact_jobs.trigger import execution_name, start_import

DEFINITION = json.dumps(
    {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}
)


@pytest.fixture
def sfn_machine():
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="eu-west-1")
        arn = sfn.create_state_machine(
            name="m", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        yield sfn, arn


def test_name_is_stable_for_a_version_and_new_for_a_new_upload():
    first = execution_name("b", "imports/sendgrid/_/a.csv", "v1")
    assert first == execution_name("b", "imports/sendgrid/_/a.csv", "v1")
    assert first != execution_name("b", "imports/sendgrid/_/a.csv", "v2")
    assert len(first) <= 80


def test_a_redelivered_event_starts_nothing_new(sfn_machine):
    sfn, arn = sfn_machine
    first = start_import(sfn, arn, "b", "imports/sendgrid/_/a.csv", "v1", "e", 10)
    again = start_import(sfn, arn, "b", "imports/sendgrid/_/a.csv", "v1", "e", 10)
    assert first["started"]
    assert again["execution_name"] == first["execution_name"]
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_an_encoded_key_is_decoded_before_naming_and_input(sfn_machine):
    sfn, arn = sfn_machine
    started = start_import(sfn, arn, "b", "imports/sendgrid/_/my+file.csv", None, "etag-1", 10)
    described = sfn.describe_execution(executionArn=started["execution_arn"])
    assert json.loads(described["input"])["source"]["key"] == "imports/sendgrid/_/my file.csv"


def test_error_reports_do_not_start_imports(sfn_machine):
    sfn, arn = sfn_machine
    result = start_import(sfn, arn, "b", "imports/sendgrid/_/errors/x/a-errors.csv", "v1", "e", 1)
    assert result["started"] is False
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_an_upload_body_that_ends_early_fails_mid_send():
    body = ExactBody(iter([b"abc"]), 5)
    assert len(body) == 5
    with pytest.raises(OSError, match="ended after 3 of 5 bytes"):
        list(body)
