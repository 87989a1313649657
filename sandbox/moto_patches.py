"""The few places where the sandbox reaches into moto (pinned in requirements-dev.txt).

moto runs Lambda code in Docker, which these machines do not have, and its state machine interpreter
really sleeps in Wait states and Retry back-offs. With IAM enforced, moto checks SNS, Step Functions,
Secrets Manager and Lambda calls against the resource "*" only (so a grant on an ARN never matches) and
Lambda's Invoke under the operation's name: the patches below give those calls their resource's ARN and
IAM action name, check DeleteObjects key by key, sign the interpreter's Lambda calls with the state
machine's role, and let S3's AccessDenied name the principal and the action as AWS does. Each patch here
has a smoke test (tests/integration/test_moto_patches.py), so a moto upgrade that moves these internals
fails loudly.
"""

import datetime
import json
import threading
import time
import types
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from moto.awslambda.models import LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMRequest, S3IAMRequest
from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.sns.responses import SNSResponse
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.evaluation_details import ExecutionDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from sandbox.identity import signing_as

Handler = Callable[[dict[str, Any], Any], Any]
_running = threading.local()


def in_lambda_handler() -> bool:
    """True on a thread that is running an in-process handler (what it prints is the function's log)."""
    return bool(getattr(_running, "handler", False))


@dataclass
class LambdaContext:
    """What a handler (and Powertools) reads from the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


@dataclass
class Recorder:
    """What the interpreter asked for: Wait seconds and Retry intervals, in order."""

    time_scale: float
    waits: list[float] = field(default_factory=list)
    retry_intervals: list[float] = field(default_factory=list)
    invocations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Handlers running now: on AWS a Lambda runs on after its Task timed out or its Map failed.
    in_flight: int = 0
    idle: threading.Condition = field(default_factory=threading.Condition)

    def handler_started(self) -> None:
        with self.idle:
            self.in_flight += 1

    def handler_ended(self) -> None:
        with self.idle:
            self.in_flight -= 1
            self.idle.notify_all()

    def wait_for_handlers(self, timeout_s: float = 60) -> None:
        """Block until no handler runs (late copies included), so a test reads the bucket they leave."""
        with self.idle:
            if not self.idle.wait_for(lambda: self.in_flight == 0, timeout_s):
                raise TimeoutError(f"{self.in_flight} handlers still running after {timeout_s} s")


@dataclass(frozen=True)
class InProcessFunction:
    handler: Handler
    memory_mb: int
    timeout_s: int
    role: ReadOnlyCredentials  # its function role's assumed-role credentials: the handler signs with them


def _invoke_in_process(functions: dict[str, InProcessFunction], recorder: Recorder) -> Callable[..., bytes]:
    def invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> bytes:
        target = functions[self.function_name]
        event = json.loads(body) if body else {}
        context = LambdaContext(self.function_name, target.memory_mb, target.timeout_s)
        with recorder.lock:
            recorder.invocations.append(self.function_name)
        _running.handler = True
        recorder.handler_started()
        try:
            with signing_as(target.role):
                result = target.handler(event, context)
        except Exception as exc:
            # The shape Lambda gives an unhandled error: Step Functions matches Retry/Catch on errorType.
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        finally:
            _running.handler = False
            recorder.handler_ended()
        return json.dumps(result).encode()

    return invoke


def _scaled_wait(recorder: Recorder) -> Callable[..., None]:
    def wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        with recorder.lock:
            recorder.waits.append(wait_seconds)
        env.program_state_event.wait(wait_seconds * recorder.time_scale)

    return wait_interval


def _scaled_sleep(recorder: Recorder) -> types.SimpleNamespace:
    def sleep(seconds: float) -> None:
        with recorder.lock:
            recorder.retry_intervals.append(seconds)
        time.sleep(seconds * recorder.time_scale)

    return types.SimpleNamespace(sleep=sleep, time=time.time)


_PARSE_LOCK = threading.Lock()
_unlocked_parse = AmazonStateLanguageParser.parse


def _serialised_parse(definition: str) -> Any:
    """The parser keeps its scope stack on the class: two executions parsing at once (each parses in its
    own worker thread) would corrupt it. One parse at a time; a failed one leaves the stack empty."""
    with _PARSE_LOCK:
        Preprocessor._query_language_per_scope.clear()
        try:
            return _unlocked_parse(definition)
        finally:
            Preprocessor._query_language_per_scope.clear()


def _arn_param(*names: str) -> Callable[[Any], str]:
    """The resource IAM checks a call against: the first of these request parameters given as an ARN."""

    def determine_resource(self: Any) -> str:
        for name in names:
            value = self._get_param(name)
            if isinstance(value, str) and value.startswith("arn:"):
                return value
        return "*"  # a name instead of an ARN: only a wildcard grant matches, so it fails closed

    return determine_resource


def _lambda_function_arn(self: LambdaResponse) -> str:
    """An invoke's function, from its path (a name or an ARN, URL-encoded)."""
    path = unquote(urlsplit(self.path).path)
    if "/functions/" not in path:
        return "*"
    name = path.split("/functions/", 1)[1].split("/", 1)[0]
    return (
        name
        if name.startswith("arn:")
        else f"arn:aws:lambda:{self.region}:{self.current_account}:function:{name}"
    )


def _dynamodb_table_arn(self: Any) -> str:
    """DynamoDB's calls name their table (moto checks them against "*", so no grant on a table matched)."""
    name = self._get_param("TableName")
    if not isinstance(name, str) or not name:
        return "*"
    return (
        name
        if name.startswith("arn:")
        else f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{name}"
    )


# API operations whose IAM action has another name (moto checks the operation's name).
IAM_ACTIONS = {"lambda:Invoke": "lambda:InvokeFunction"}
_unnamed_request_init = IAMRequest.__init__


def _request_with_iam_action(self: IAMRequest, *args: Any, **kwargs: Any) -> None:
    _unnamed_request_init(self, *args, **kwargs)
    self._action = IAM_ACTIONS.get(self._action, self._action)


def _s3_access_denied(self: S3IAMRequest) -> None:
    """What AWS says (moto says only "Access Denied"): who was refused what."""
    raise S3ClientError(
        "AccessDenied",
        f"User: {self._access_key.arn} is not authorized to perform: {self._action} "
        "because no identity-based policy allows the action",
    )


_authorize_s3 = S3Response._authenticate_and_authorize_s3_action


def _authorize_each_deleted_key(
    self: S3Response, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    """DeleteObjects: AWS checks s3:DeleteObject on each key, moto on the bucket (so a grant on a prefix
    never matches, and a refusal is reported per key, where a Quiet delete's caller may not look). Here
    each key is checked, and one refused key refuses the request: stricter than AWS, and loud."""
    if (
        key_name is None
        and bucket_name
        and self.data.get("Action") == "DeleteObject"
        and self.is_delete_keys()
    ):
        body = ElementTree.fromstring(self.body)  # noqa: S314 - a request botocore built in this process
        for key in (element.text for element in body.iter() if element.tag.rpartition("}")[2] == "Key"):
            _authorize_s3(self, bucket_name=bucket_name, key_name=key)
        return
    _authorize_s3(self, bucket_name=bucket_name, key_name=key_name)


def _lambda_client_signed_as(role: ReadOnlyCredentials) -> Callable[..., Any]:
    """The interpreter's Lambda client (moto signs it with made-up keys): signed as the state machine's
    role, as Step Functions invokes the task's function."""

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            aws_access_key_id=role.access_key,
            aws_secret_access_key=role.secret_key,
            aws_session_token=role.token,
            config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1}),
        )

    return boto_client_for


def _resource(responses: type, determine: Callable[[Any], str]) -> Any:
    """moto's request handler asks for ``_determine_resource`` where a service defines it (SQS, IAM, STS)."""
    return mock.patch.object(responses, "_determine_resource", determine, create=True)


@contextmanager
def enforced_iam(state_machine_role: ReadOnlyCredentials) -> Iterator[None]:
    """IAM identity policies checked against the resource each call names, the state machine invoking
    its functions as its own role."""
    with (
        _resource(SNSResponse, _arn_param("TopicArn", "TargetArn")),
        _resource(StepFunctionResponse, _arn_param("stateMachineArn", "executionArn")),
        _resource(SecretsManagerResponse, _arn_param("SecretId")),
        _resource(LambdaResponse, _lambda_function_arn),
        _resource(DynamoHandler, _dynamodb_table_arn),
        mock.patch.object(IAMRequest, "__init__", _request_with_iam_action),
        mock.patch.object(S3IAMRequest, "_raise_access_denied", _s3_access_denied),
        mock.patch.object(S3Response, "_authenticate_and_authorize_s3_action", _authorize_each_deleted_key),
        mock.patch.object(lambda_eval_utils, "boto_client_for", _lambda_client_signed_as(state_machine_role)),
    ):  # fmt: skip
        yield


_START_LOCK = threading.Lock()
_unlocked_start = StepFunctionsParserBackend.start_execution


def _atomic_start(self: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
    """Step Functions starts one execution per name, however many callers race (S3 delivering an event
    twice at once); moto checks the name and then appends, so two racing starts both got through."""
    with _START_LOCK:
        return _unlocked_start(self, *args, **kwargs)


_untyped_start_details = Execution.get_start_execution_details


def _start_time_as_text(self: Execution) -> ExecutionDetails:
    """$$.Execution.StartTime is ISO 8601 text on AWS; moto gives the interpreter a datetime, which its
    Lambda encoder turned into text but which a Pass state copies into the state as it is (and
    DescribeExecution then cannot serialise). The same text as the Lambda payloads had."""
    details = _untyped_start_details(self)
    start = details.start_time
    text = start.isoformat() if isinstance(start, datetime.datetime) else start
    return ExecutionDetails(details.arn, details.name, details.role_arn, details.inpt, text)


@contextmanager
def patched_moto(functions: dict[str, InProcessFunction], recorder: Recorder) -> Iterator[None]:
    """Run Lambda handlers in this process (each signing as its role), scale the interpreter's waits by
    ``time_scale``, parse definitions one at a time, start executions one at a time, and give the
    interpreter the execution's start time as text."""
    with (
        mock.patch.object(StepFunctionsParserBackend, "start_execution", _atomic_start),
        mock.patch.object(Execution, "get_start_execution_details", _start_time_as_text),
        mock.patch.object(LambdaFunction, "invoke", _invoke_in_process(functions, recorder)),
        mock.patch.object(WaitFunction, "_wait_interval", _scaled_wait(recorder)),
        mock.patch.object(retrier_decl, "time", _scaled_sleep(recorder)),
        mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(_serialised_parse)),
    ):
        yield
