"""Smoke tests for every place the sandbox patches moto's internals (pinned version), and for the IAM
enforcement it relies on: an upgrade that moves them fails here, by name, instead of somewhere deep in a
workflow test."""

import inspect
import json
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from typing import Any

import boto3
import pytest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.core import enable_iam_authentication
from moto.core.responses import BaseResponse
from moto.iam.access_control import IAMRequestBase
from moto.s3.responses import S3Response
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.sns.responses import SNSResponse
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from sandbox import moto_patches
from sandbox.identity import invocation_credentials, signing_as
from sandbox.moto_patches import IAM_ACTIONS, _lambda_function_arn, enforced_iam
from sandbox.stack import ADMIN_USER, create_admin
from sandbox.template import ACCOUNT_ID, REGION

ADMIN = f"arn:aws:iam::{ACCOUNT_ID}:user/{ADMIN_USER}"


def test_moto_is_the_pinned_version():
    assert version("moto") == "5.2.5"


def test_lambda_invoke_has_the_signature_the_sandbox_replaces():
    assert list(inspect.signature(LambdaFunction.invoke).parameters) == [
        "self",
        "body",
        "request_headers",
        "response_headers",
    ]


def test_wait_states_wait_through_the_patched_method():
    assert list(inspect.signature(WaitFunction._wait_interval).parameters) == ["self", "env", "wait_seconds"]


def test_retry_backoff_sleeps_through_the_modules_time():
    assert "time.sleep(" in inspect.getsource(retrier_decl.RetrierDecl._eval_body)


def test_executions_start_through_the_backend_method_the_sandbox_serialises():
    """The sandbox locks this method so racing starts of one name make one execution, as on AWS."""
    assert StepFunctionsParserBackend.start_execution is moto_patches._unlocked_start
    source = inspect.getsource(StepFunctionsParserBackend.start_execution)
    assert "_handle_name_input_idempotency" in source, "moto no longer checks names where the lock covers"


def test_the_interpreter_gets_the_execution_start_time_from_the_method_the_sandbox_replaces():
    """The sandbox turns the start time moto hands the interpreter ($$.Execution.StartTime) into text."""
    assert Execution.get_start_execution_details is moto_patches._untyped_start_details
    assert "start_time=self.start_date" in inspect.getsource(Execution.get_start_execution_details)


def test_parser_scope_stack_is_the_class_level_list_the_sandbox_clears():
    assert isinstance(Preprocessor._query_language_per_scope, list)


def test_every_definition_is_parsed_through_the_class_attribute_the_sandbox_locks():
    from moto.stepfunctions.parser.backend import execution_worker

    assert "AmazonStateLanguageParser.parse(" in inspect.getsource(execution_worker)
    assert isinstance(inspect.getattr_static(AmazonStateLanguageParser, "parse"), staticmethod)


# IAM enforcement (sandbox/moto_patches.enforced_iam, sandbox/identity.py) ------------------------------

TOPIC = "arn:aws:sns:eu-west-1:123456789012:granted"


@pytest.fixture
def enforced() -> Iterator[Callable[[dict[str, Any]], ReadOnlyCredentials]]:
    """moto with IAM enforced and the sandbox's patches; makes assumed roles from one policy statement."""
    with mock_aws():
        admin = create_admin()
        with invocation_credentials(admin), enable_iam_authentication():
            iam, sts = boto3.client("iam"), boto3.client("sts")
            trust = {
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "sts:AssumeRole"}]
            }

            def role(statement: dict[str, Any]) -> ReadOnlyCredentials:
                name = f"role{len(iam.list_roles()['Roles'])}"
                arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
                    "Arn"
                ]
                document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}
                iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
                got = sts.assume_role(RoleArn=arn, RoleSessionName="Function")["Credentials"]
                return ReadOnlyCredentials(got["AccessKeyId"], got["SecretAccessKey"], got["SessionToken"])

            with enforced_iam(state_machine_role=admin):
                yield role


def test_iam_enforcement_is_switched_on_by_moto_cores_context_manager():
    from moto import settings

    with enable_iam_authentication():
        assert settings.INITIAL_NO_AUTH_ACTION_COUNT == 0


def test_sns_publish_is_checked_against_the_topic_arn(enforced):
    sns = boto3.client("sns")
    granted = sns.create_topic(Name="granted")["TopicArn"]
    other = sns.create_topic(Name="other")["TopicArn"]
    with signing_as(enforced({"Action": "sns:Publish", "Resource": granted})):
        sns.publish(TopicArn=granted, Message="allowed")
        with pytest.raises(ClientError, match="not authorized to perform: sns:Publish"):
            sns.publish(TopicArn=other, Message="refused")


def test_secret_reads_are_checked_against_the_secret_arn(enforced):
    secrets = boto3.client("secretsmanager")
    granted = secrets.create_secret(Name="granted", SecretString="k")["ARN"]
    other = secrets.create_secret(Name="other", SecretString="k")["ARN"]
    with signing_as(enforced({"Action": "secretsmanager:GetSecretValue", "Resource": granted})):
        assert secrets.get_secret_value(SecretId=granted)["SecretString"] == "k"
        with pytest.raises(ClientError, match="AccessDenied"):
            secrets.get_secret_value(SecretId=other)


def test_start_execution_is_checked_against_the_state_machine_arn(enforced):
    sfn = boto3.client("stepfunctions")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/any"
    granted, other = (
        sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn)["stateMachineArn"]
        for name in ("granted", "other")
    )
    with signing_as(enforced({"Action": "states:StartExecution", "Resource": granted})):
        sfn.start_execution(stateMachineArn=granted, name="allowed")
        with pytest.raises(ClientError, match="AccessDenied"):
            sfn.start_execution(stateMachineArn=other, name="refused")


def test_lambda_invoke_is_checked_as_invoke_function_on_the_function_arn():
    request = types.SimpleNamespace(path="/2015-03-31/functions/Start/invocations", region=REGION,
                                    current_account=ACCOUNT_ID)  # fmt: skip
    assert _lambda_function_arn(request) == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:Start"  # type: ignore[arg-type]
    assert IAM_ACTIONS == {"lambda:Invoke": "lambda:InvokeFunction"}
    assert "self._action = (" in inspect.getsource(IAMRequestBase.__init__)


def test_s3_access_denied_names_the_assumed_role_and_the_action(enforced):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="least-privilege", CreateBucketConfiguration={"LocationConstraint": REGION})
    role = enforced({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::least-privilege/*"})
    with signing_as(role), pytest.raises(ClientError) as refused:
        s3.put_object(Bucket="least-privilege", Key="k", Body=b"x")
    message = refused.value.response["Error"]["Message"]
    assert "assumed-role/role0/Function is not authorized to perform: s3:PutObject" in message


def test_thread_pool_work_signs_as_the_invocation_that_submitted_it(enforced):
    sts = boto3.client("sts")
    role = enforced({"Action": "sns:Publish", "Resource": TOPIC})
    with signing_as(role), ThreadPoolExecutor(max_workers=1) as pool:
        in_pool = pool.submit(lambda: sts.get_caller_identity()["Arn"]).result()
    assert in_pool.endswith(":assumed-role/role0/Function")
    assert sts.get_caller_identity()["Arn"] == ADMIN, "outside an invocation: the sandbox itself"


def test_the_state_machines_lambda_client_is_built_by_the_patched_function():
    assert list(inspect.signature(lambda_eval_utils.boto_client_for).parameters) == [
        "region",
        "service",
        "state_credentials",
    ]
    assert inspect.getsource(lambda_eval_utils).count("boto_client_for(") == 2


def test_services_without_their_own_resource_are_checked_against_the_patched_one():
    assert 'hasattr(self, "_determine_resource")' in inspect.getsource(BaseResponse.call_action)
    for responses in (SNSResponse, StepFunctionResponse, SecretsManagerResponse, LambdaResponse):
        assert not hasattr(responses, "_determine_resource"), (
            f"moto now names {responses.__name__}'s resource"
        )


def test_delete_objects_is_checked_key_by_key_against_the_object_arns(enforced):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="least-privilege", CreateBucketConfiguration={"LocationConstraint": REGION})
    for key in ("backups/a", "backups/b", "other/c"):
        s3.put_object(Bucket="least-privilege", Key=key, Body=b"x")
    role = enforced({"Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::least-privilege/backups/*"})
    with signing_as(role):
        granted = [{"Key": "backups/a"}, {"Key": "backups/b"}]
        s3.delete_objects(Bucket="least-privilege", Delete={"Objects": granted, "Quiet": True})
        with pytest.raises(ClientError, match="not authorized to perform: s3:DeleteObject"):
            s3.delete_objects(
                Bucket="least-privilege", Delete={"Objects": [{"Key": "other/c"}], "Quiet": True}
            )
    assert [item["Key"] for item in s3.list_objects_v2(Bucket="least-privilege")["Contents"]] == ["other/c"]
    assert 'self.data["Action"] = "DeleteObject"' in inspect.getsource(S3Response._bucket_response_post)
