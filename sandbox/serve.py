"""python -m sandbox serve: the local stack as a server on 127.0.0.1, for the contact-jobs CLI (or boto3, or
the aws CLI) to drive as it drives a deployed stack.

The stack is the one ``sandbox.stack.local_stack`` builds from template.yaml (moto with the real state
machine definition, the real handlers in-process each as its own role, fake SendGrid and Which50). moto's
``ThreadedMotoServer`` runs in the same process, so requests arriving over HTTP reach the same moto
backends: a StartExecution through the server runs the real definition with the in-process handlers.

What a deployed stack has and moto lacks, this module adds from the same template:
- **EventBridge**: moto delivers no S3 event to a Lambda rule target. Every object written to a bucket whose
  template enables EventBridge notifications (through the server or by a handler) becomes S3's own
  "Object Created" event (``import_runner.object_created_event``), is matched against the template's
  EventBridgeRule patterns, and is delivered to that rule's function, on a thread of its own.
- **CloudFormation**: a stack record named as the CLI looks for it, whose outputs are template.yaml's
  Outputs resolved against what the sandbox created, so ``DescribeStacks`` answers as AWS would.
- **EventBridge Scheduler**: the backup schedule (name, expression, time zone, state, input) is created in
  moto's scheduler; it never fires here (``contact-jobs backup`` starts a backup with its input).
- **CloudWatch alarms**: the template's alarms, so ``contact-jobs status`` can list those in ALARM.

IAM stays enforced: the server prints the access key of an operator user (allowed everything) for clients.
"""

import contextvars
import json
import logging
import os
import queue
import socket
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import unquote_plus

import boto3
from moto.events.models import EventPattern
from moto.iam.access_control import IAMRequest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.s3 import notifications as s3_notifications

from sandbox.fake_sendgrid import KNOWN_LIST as SENDGRID_LIST
from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.fake_which50 import KNOWN_LIST as WHICH50_LIST
from sandbox.fake_which50 import FakeWhich50, FakeWhich50Options
from sandbox.import_runner import object_created_event
from sandbox.runner import schedule_input
from sandbox.serve_control import control_server
from sandbox.stack import LocalStack, StackConfig, local_stack
from sandbox.template import ACCOUNT_ID, REGION, ROOT, STACK_NAME, Template

CLI_DIR = ROOT / "cli"
if str(CLI_DIR) not in sys.path:  # the CLI package holds the default port both sides document
    sys.path.insert(0, str(CLI_DIR))

from contact_jobs_cli.endpoint import DEFAULT_STACK, LOCAL_PORT  # noqa: E402

OPERATOR_USER = "contact-jobs-operator"  # who the CLI signs as against the served stack
SCHEDULE_RESOURCE = "ContactJobsStateMachineBackupSchedule"  # the SAM transform's name for the ScheduleV2


@dataclass(frozen=True)
class ServeOptions:
    port: int = LOCAL_PORT
    stack_name: str = DEFAULT_STACK
    contacts: int = 20000  # in the fake SendGrid account (what a backup exports)
    time_scale: float = 0.001  # sandbox seconds per second a Wait or Retry asks for


@dataclass(frozen=True)
class Served:
    """What a client needs to reach the served stack."""

    endpoint_url: str
    region: str
    stack_name: str
    access_key_id: str
    secret_access_key: str
    sendgrid_list_id: str
    which50_list_id: str
    control_url: str = ""  # sandbox-only controls (sandbox/serve_control.py); never used by the CLI

    def document(self) -> dict[str, str]:
        return {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "stack": self.stack_name,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "sendgrid_list_id": self.sendgrid_list_id,
            "which50_list_id": self.which50_list_id,
            "control_url": self.control_url,
        }

    def instructions(self) -> str:
        local = self.endpoint_url == f"http://127.0.0.1:{LOCAL_PORT}"
        point = "--local" if local else f"--endpoint-url {self.endpoint_url}"
        return "\n".join(
            [
                f"contact-jobs local stack serving on {self.endpoint_url} (stack {self.stack_name!r})",
                "Point the contact-jobs CLI at it (in another shell):",
                f"  export AWS_ACCESS_KEY_ID={self.access_key_id} "
                f"AWS_SECRET_ACCESS_KEY={self.secret_access_key} AWS_DEFAULT_REGION={self.region}",
                f"  contact-jobs {point} --stack {self.stack_name} status",
                f"  (or export CONTACT_JOBS_ENDPOINT_URL={self.endpoint_url})",
                f"Lists the fake providers know: SendGrid {self.sendgrid_list_id}, "
                f"Which50 {self.which50_list_id}",
                f"Sandbox controls (not AWS; e.g. an empty SendGrid account to restore into): "
                f"{self.control_url}",
                "Ctrl-C stops it.",
            ]
        )


def serve(options: ServeOptions, ready: Callable[[Served], None], stop: threading.Event) -> None:
    """Build the stack, serve it until ``stop`` is set, then shut everything down."""
    with served_stack(options) as served:
        ready(served)
        stop.wait()


class PortInUse(RuntimeError):
    pass


def _check_port(port: int) -> None:
    """moto's server thread would hang waiting for a port it cannot bind: say so before building."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortInUse(f"127.0.0.1:{port} is in use: pass another --port") from exc


@contextmanager
def served_stack(options: ServeOptions) -> Iterator[Served]:
    _check_port(options.port)
    sendgrid_options = FakeSendGridOptions(contacts=options.contacts)
    which50_options = FakeWhich50Options()
    with (
        FakeSendGrid(sendgrid_options) as sendgrid,
        FakeWhich50(which50_options) as which50,
        _moto_port(options.port),
    ):
        config = StackConfig(
            api_key=sendgrid_options.api_key,
            sendgrid_base_url=sendgrid.base_url,
            download_hosts=sendgrid.download_host,
            time_scale=options.time_scale,
            which50_base_url=which50.base_url,
            which50_api_key=which50_options.api_key,
        )
        with local_stack(config) as stack, ExitStack() as cleanup:
            _fill_placeholders(stack.template)
            cleanup.enter_context(_eventbridge_deliveries(stack))
            cleanup.enter_context(mock.patch.object(IAMRequest, "_create_aws_request", _bodyless_request))
            _create_schedule(stack)
            _create_alarms(stack.template)
            _create_stack_record(stack.template, options.stack_name)
            key_id, secret = _operator_key()
            control_url = cleanup.enter_context(control_server(sendgrid))
            endpoint_url = cleanup.enter_context(_moto_server(options.port))
            yield Served(
                endpoint_url, REGION, options.stack_name, key_id, secret, SENDGRID_LIST, str(WHICH50_LIST),
                control_url,
            )  # fmt: skip


@contextmanager
def _moto_port(port: int) -> Iterator[None]:
    """moto's interpreter reaches moto on MOTO_PORT whenever it is not intercepting boto3 in-process."""
    previous = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = previous


@contextmanager
def _moto_server(port: int) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request on the terminal
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, bound = server.get_host_and_port()
        yield f"http://{host}:{bound}"
    finally:
        server.stop()


_signed_request = IAMRequest._create_aws_request


def _bodyless_request(self: IAMRequest) -> Any:
    """The request moto checks a client's signature against. For a GET of a REST-JSON API arriving over
    HTTP (EventBridge Scheduler's GetSchedule), moto passes the request's headers as its data and signs them
    as the body, so no signature ever matches; the body botocore signed was empty."""
    if not self._body and self._method in ("GET", "HEAD", "DELETE"):
        data, self._data = self._data, {}
        try:
            return _signed_request(self)
        finally:
            self._data = data
    return _signed_request(self)


def _fill_placeholders(template: Template) -> None:
    """Names for what the sandbox does not create (log groups, the schedule, its role), so the outputs and
    the alarms' descriptions resolve; ARNs follow the resource's type."""
    if SCHEDULE_RESOURCE not in template.physical:
        template.created(SCHEDULE_RESOURCE, SCHEDULE_RESOURCE)
    for logical, spec in template.body["Resources"].items():
        if logical in template.physical:
            continue
        name = f"{STACK_NAME}-{logical}"
        if spec["Type"] == "AWS::Logs::LogGroup":
            name = str(template.resolve(spec["Properties"].get("LogGroupName", name)))
        service = spec["Type"].split("::")[1].lower()
        arn = f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{name}"
        if spec["Type"] == "AWS::IAM::Role":
            arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
        template.created(logical, name, Arn=arn, Name=name, QueueName=name)


# EventBridge ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    function: str  # the rule's target (logical id = function name in the sandbox)
    pattern: EventPattern


def _rules(template: Template) -> list[_Rule]:
    """The template's EventBridgeRule events on functions, their patterns resolved."""
    found = []
    for logical in template.resources("AWS::Serverless::Function"):
        events = template.function_properties(logical).get("Events", {})
        for event in events.values():
            if event["Type"] == "EventBridgeRule":
                pattern = json.dumps(template.resolve(event["Properties"]["Pattern"]))
                found.append(_Rule(logical, EventPattern.load(pattern)))
    return found


def _eventbridge_buckets(template: Template) -> set[str]:
    buckets = set()
    for logical, spec in template.resources("AWS::S3::Bucket").items():
        configuration = spec.get("Properties", {}).get("NotificationConfiguration", {})
        if configuration.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            buckets.add(template.ref(logical))
    return buckets


@contextmanager
def _eventbridge_deliveries(stack: LocalStack) -> Iterator[None]:
    """S3 writes to EventBridge-enabled buckets become S3's event, delivered to matching rules' functions.

    moto calls ``send_event`` for every object it creates (PutObject, CompleteMultipartUpload, CopyObject),
    on whichever thread wrote it. Deliveries run on one thread started here, signing as the sandbox (the
    stand-in for EventBridge, as in ``python -m sandbox import``), in the order objects were written."""
    rules, buckets = _rules(stack.template), _eventbridge_buckets(stack.template)
    pending: queue.Queue[dict[str, Any] | None] = queue.Queue()
    original = s3_notifications.send_event

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        original(account_id, event_name, bucket, key)
        # S3NotificationEvent is a str Enum: its value, not str(), is "s3:ObjectCreated:Put".
        if bucket.name in buckets and getattr(event_name, "value", "").startswith("s3:ObjectCreated"):
            written = {"ETag": key.etag, "VersionId": key.version_id}
            pending.put(object_created_event(bucket.name, key.name, written, key.size))

    def deliver() -> None:
        client = boto3.client("lambda", region_name=REGION)
        while (event := pending.get()) is not None:
            for rule in rules:
                if rule.pattern.matches_event(event):  # type: ignore[arg-type]
                    answer = client.invoke(FunctionName=rule.function, Payload=json.dumps(event))
                    _log_delivery(event, json.loads(answer["Payload"].read()))

    # The thread carries this thread's context: it signs as the sandbox (sandbox/identity.py).
    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(deliver,), name="eventbridge", daemon=True
    )
    worker.start()
    try:
        with mock.patch.object(s3_notifications, "send_event", send_event):
            yield
    finally:
        pending.put(None)
        worker.join(timeout=30)


def _log_delivery(event: dict[str, Any], answer: dict[str, Any]) -> None:
    key = unquote_plus(event["detail"]["object"]["key"])
    if answer.get("started"):
        print(f"upload {key}: started execution {answer['execution_name']}", flush=True)
    elif answer.get("execution_name"):
        print(f"upload {key}: {answer.get('reason')}", flush=True)


# CloudFormation, Scheduler, CloudWatch ---------------------------------------------------------------


def _create_stack_record(template: Template, stack_name: str) -> None:
    """A stack whose outputs are template.yaml's, resolved: the CLI finds everything through it."""
    outputs = {
        name: {"Value": str(template.resolve(spec["Value"])), "Description": spec.get("Description", name)}
        for name, spec in template.body.get("Outputs", {}).items()
    }
    body = {
        "Description": f"contact-jobs served by python -m sandbox serve (resources named {STACK_NAME}-*)",
        "Resources": {"Served": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": outputs,
    }
    with warnings.catch_warnings():  # moto warns that it creates nothing for the placeholder resource
        warnings.simplefilter("ignore", UserWarning)
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=stack_name, TemplateBody=json.dumps(body)
        )


def _create_schedule(stack: LocalStack) -> None:
    """The backup schedule as the SAM transform defines it (it never fires in moto)."""
    template = stack.template
    for spec in template.resources("AWS::Serverless::StateMachine").values():
        for event in spec["Properties"].get("Events", {}).values():
            if event["Type"] != "ScheduleV2":
                continue
            properties = template.resolve(
                {key: value for key, value in event["Properties"].items() if key != "Input"}
            )
            boto3.client("scheduler", region_name=REGION).create_schedule(
                Name=template.ref(SCHEDULE_RESOURCE),
                Description=properties.get("Description", ""),
                ScheduleExpression=properties["ScheduleExpression"],
                ScheduleExpressionTimezone=properties.get("ScheduleExpressionTimezone", "UTC"),
                State=properties.get("State", "ENABLED"),
                FlexibleTimeWindow=properties.get("FlexibleTimeWindow", {"Mode": "OFF"}),
                Target={
                    "Arn": stack.state_machine_arn,
                    "RoleArn": properties["RoleArn"],
                    "Input": json.dumps(schedule_input(stack)),
                },
            )


# The alarm properties the API takes under the same names as CloudFormation.
ALARM_PROPERTIES = (
    "AlarmDescription", "ComparisonOperator", "Threshold", "EvaluationPeriods", "TreatMissingData",
    "AlarmActions", "OKActions", "Metrics", "Namespace", "MetricName", "Dimensions", "Statistic", "Period",
)  # fmt: skip


def _create_alarms(template: Template) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for logical, spec in template.resources("AWS::CloudWatch::Alarm").items():
        properties = template.resolve(spec["Properties"])
        arguments = {name: properties[name] for name in ALARM_PROPERTIES if name in properties}
        cloudwatch.put_metric_alarm(AlarmName=f"{STACK_NAME}-{logical}", **arguments)


def _operator_key() -> tuple[str, str]:
    """An IAM user allowed everything, as an operator's own credentials would be."""
    iam = boto3.client("iam", region_name=REGION)
    name = f"{OPERATOR_USER}-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=name)
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="operate", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])
