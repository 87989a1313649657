"""The sandbox's patch that makes moto check DynamoDB calls against the table they name (moto checks them
against "*", so a grant on a table ARN never matched): a smoke test, so a moto upgrade fails loudly."""

import inspect

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.responses import BaseResponse
from moto.dynamodb.responses import DynamoHandler

from sandbox.identity import signing_as
from tests.integration.test_moto_patches import enforced  # noqa: F401 - the fixture, shared

KEY = [{"AttributeName": "job_id", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "job_id", "AttributeType": "S"}]


def test_dynamodb_has_no_resource_of_its_own_in_moto():
    assert 'hasattr(self, "_determine_resource")' in inspect.getsource(BaseResponse.call_action)
    assert "_determine_resource" not in vars(DynamoHandler), "moto now names DynamoDB's resource"


def test_item_reads_and_writes_are_checked_against_the_table_arn(enforced):  # noqa: F811
    dynamodb = boto3.client("dynamodb")
    arns = {
        name: dynamodb.create_table(TableName=name, KeySchema=KEY, AttributeDefinitions=ATTRIBUTES,
                                    BillingMode="PAY_PER_REQUEST")["TableDescription"]["TableArn"]
        for name in ("granted", "other")
    }  # fmt: skip
    role = enforced({"Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": arns["granted"]})
    with signing_as(role):
        dynamodb.put_item(TableName="granted", Item={"job_id": {"S": "a"}})
        assert dynamodb.get_item(TableName="granted", Key={"job_id": {"S": "a"}})["Item"]
        with pytest.raises(ClientError, match="not authorized to perform: dynamodb:GetItem"):
            dynamodb.get_item(TableName="other", Key={"job_id": {"S": "a"}})
        with pytest.raises(ClientError, match="not authorized to perform: dynamodb:UpdateItem"):
            dynamodb.update_item(TableName="granted", Key={"job_id": {"S": "a"}})
