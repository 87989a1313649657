"""Run a job on the local stack and report what happened, as a person and as a test would want it."""

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.stack import LocalStack, StackConfig, local_stack

Printer = Callable[[str], None]
EXECUTION_TIMEOUT_S = 300
# Step Functions' cap on a state's input or output. moto checks only a Task's result, and lets
# States.ALL catch the error (on AWS no Catch sees it): the runner checks every payload in the history.
STATE_DATA_LIMIT = 256 * 1024


class StateDataLimitExceeded(RuntimeError):
    """A state's input or output was over 256 KiB: on AWS the execution would fail with
    States.DataLimitExceeded, which no Catch sees, so no notification would be sent."""


@dataclass
class BackupScenario:
    contacts: int = 1000
    max_file_size_mb: int | None = None
    file_type: str | None = None  # csv | json; None: the schedule's
    fail_export: bool = False
    expire_urls_after_s: float | None = None
    rate_limit: bool = False
    list_ids: tuple[str, ...] = ()
    fake: FakeSendGridOptions | None = None  # tests reach further in than the CLI flags
    environment: dict[str, str] | None = None
    time_scale: float = 0.001  # sandbox seconds per second a Wait or Retry asks for
    template: Path | None = None  # a copy of template.yaml (tests shrink a Task timeout)


def subscribe_queue(stack: LocalStack) -> str:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=f"notifications-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.client("sns").subscribe(TopicArn=stack.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return str(url)


def received_notifications(stack: LocalStack, queue_url: str) -> list[dict[str, Any]]:
    """Every message the test subscriber got: the document and its message attributes."""
    sqs = stack.client("sqs")
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return received
        for message in batch:
            envelope = json.loads(message["Body"])
            attributes = {name: item["Value"] for name, item in envelope.get("MessageAttributes", {}).items()}
            received.append({"message": json.loads(envelope["Message"]), "attributes": attributes})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


class ProgressPrinter:
    """Prints the execution history as it grows: states entered, waits, files copied, failures."""

    def __init__(self, stack: LocalStack, execution_arn: str, say: Printer) -> None:
        self._sfn = stack.client("stepfunctions")
        self._arn = execution_arn
        self._say = say
        self._seen = 0
        self.events: list[dict[str, Any]] = []

    def poll(self) -> None:
        pages = self._sfn.get_paginator("get_execution_history").paginate(executionArn=self._arn)
        events = [event for page in pages for event in page["events"]]
        for event in events[self._seen :]:
            self._print(event)
        self._seen = len(events)
        self.events = events

    def _print(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            extra = ""
            if kind == "WaitStateEntered":
                delay = json.loads(details.get("input", "{}")).get("job", {}).get("poll", {}).get("delay_s")
                extra = f" ({delay} s)" if delay is not None else ""
            self._say(f"  -> {details['name']}{extra}")
        elif kind == "TaskSucceeded":
            output = json.loads(event["taskSucceededEventDetails"].get("output") or "{}")
            if isinstance(output, dict) and "sha256" in output:
                self._say(f"     copied {output['key']} ({output['bytes']} bytes, gzip={output['gzip']})")
        elif kind in ("TaskFailed", "ExecutionFailed"):
            details = event.get("taskFailedEventDetails") or event.get("executionFailedEventDetails") or {}
            self._say(f"     {kind}: {details.get('error')}: {str(details.get('cause', ''))[:200]}")


def states_entered(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def run_execution(
    stack: LocalStack, name: str, execution_input: dict[str, Any], say: Printer
) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    started = sfn.start_execution(
        stateMachineArn=stack.state_machine_arn, name=name, input=json.dumps(execution_input)
    )
    return follow_execution(stack, started["executionArn"], name, say)


def follow_execution(stack: LocalStack, arn: str, name: str, say: Printer) -> dict[str, Any]:
    """Print the execution's progress until it ends; its status and the states it entered."""
    sfn = stack.client("stepfunctions")
    say(f"execution {name} started")
    printer = ProgressPrinter(stack, arn, say)
    deadline = time.monotonic() + EXECUTION_TIMEOUT_S
    while True:
        described = sfn.describe_execution(executionArn=arn)
        printer.poll()
        if described["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {name} still running after {EXECUTION_TIMEOUT_S} s")
        time.sleep(0.05)
    say(f"execution {name}: {described['status']}")
    oversized = oversized_payloads(printer.events)
    if oversized:
        raise StateDataLimitExceeded(f"execution {name}: {'; '.join(oversized)}")
    return {
        "status": described["status"],
        "execution_name": name,
        "states": states_entered(printer.events),
        # Everything Step Functions keeps of the execution: input, output and every event with its payload.
        "history": {
            "input": described.get("input"),
            "output": described.get("output"),
            "events": json.loads(json.dumps(printer.events, default=str)),  # timestamps as text
        },
    }


def oversized_payloads(events: list[dict[str, Any]]) -> list[str]:
    """Every input or output in the history that Step Functions would refuse, named by event and state."""
    found = []
    for event in events:
        for details in event.values():
            if not isinstance(details, dict):
                continue
            for field in ("input", "output"):
                payload = details.get(field)
                size = len(payload.encode()) if isinstance(payload, str) else 0
                if size > STATE_DATA_LIMIT:
                    where = f"{event['type']} {details.get('name', '')}".strip()
                    found.append(f"{where}: {field} of {size} bytes")
    return found


def schedule_input(stack: LocalStack) -> dict[str, Any]:
    """The execution input the deployed schedule would send (the Input of the Scheduler schedule the SAM
    transform makes of the state machine's ScheduleV2 event)."""
    for spec in stack.template.deployed_resources("AWS::Scheduler::Schedule").values():
        target = spec["Properties"]["Target"]
        if stack.template.resolve(target["Arn"]) == stack.state_machine_arn:
            resolved: dict[str, Any] = json.loads(stack.template.resolve(target["Input"]))
            return resolved
    raise LookupError("template.yaml has no schedule that starts the state machine")


def _backup_files(
    stack: LocalStack, fake: FakeSendGrid, manifest_key: str | None, prefix: str
) -> list[dict[str, Any]]:
    s3 = stack.client("s3")
    if manifest_key:
        manifest = json.loads(s3.get_object(Bucket=stack.backup_bucket, Key=manifest_key)["Body"].read())
        served = fake.served_sha256(manifest["provider_job_id"])
        entries = manifest["files"]
    else:
        listed = s3.list_objects_v2(Bucket=stack.backup_bucket, Prefix=prefix).get("Contents", [])
        served, entries = [], [{"key": item["Key"]} for item in listed]
    files = []
    for index, entry in enumerate(entries):
        body = s3.get_object(Bucket=stack.backup_bucket, Key=entry["key"])["Body"].read()
        files.append(
            {
                "key": entry["key"],
                "bytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "manifest_sha256": entry.get("sha256"),
                "source_sha256": served[index] if index < len(served) else None,
            }
        )
    return files


def _stored(stack: LocalStack, prefix: str) -> dict[str, list[str]]:
    """Every object and every unfinished multipart upload under the backup's prefix."""
    s3 = stack.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.backup_bucket, Prefix=prefix)
    uploads = s3.list_multipart_uploads(Bucket=stack.backup_bucket, Prefix=prefix).get("Uploads", [])
    return {
        "objects": sorted(item["Key"] for page in pages for item in page.get("Contents", [])),
        "uploads": sorted(upload["Key"] for upload in uploads),
    }


def run_backup(scenario: BackupScenario, say: Printer = print) -> dict[str, Any]:
    options = scenario.fake or FakeSendGridOptions()
    options.contacts = scenario.contacts
    options.fail_exports = scenario.fail_export or options.fail_exports
    if scenario.expire_urls_after_s is not None:
        options.expire_first_export_after_s = scenario.expire_urls_after_s
    if scenario.rate_limit:
        options.rate_limit_every = 3
    with FakeSendGrid(options) as fake:
        config = StackConfig.for_sendgrid(
            fake, environment=scenario.environment or {}, time_scale=scenario.time_scale
        )
        if scenario.template:
            config.template = scenario.template
        with local_stack(config) as stack:
            say(f"local stack up: bucket {stack.backup_bucket}, fake SendGrid at {fake.base_url}")
            queue_url = subscribe_queue(stack)
            execution_input = schedule_input(stack)
            execution_input["list_ids"] = list(scenario.list_ids)
            if scenario.max_file_size_mb:
                execution_input["max_file_size_mb"] = scenario.max_file_size_mb
            if scenario.file_type:
                execution_input["file_type"] = scenario.file_type
            name = f"backup-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
            result = run_execution(stack, name, execution_input, say)
            # Copies may outlive the execution (as on AWS): what counts is the bucket once they ended.
            stack.recorder.wait_for_handlers()
            notifications = received_notifications(stack, queue_url)
            manifest_key = _reported(notifications, "manifest_key")
            prefix = (
                _reported(notifications, "prefix") or f"backups/sendgrid/{datetime.now(UTC):%Y/%m/%d}/{name}/"
            )
            result.update(
                waits=list(stack.recorder.waits),
                files=_backup_files(stack, fake, manifest_key, prefix),
                stored=_stored(stack, prefix),
                manifest_key=manifest_key,
                prefix=prefix,
                notifications=notifications,
                provider_exports=len(fake.exports),
                lambda_logs=stack.lambda_log_lines(),
                metrics=stack.metrics(),
                history=[result["history"]],
                api_requests=[r.__dict__ for r in fake.api_requests()],
                downloads_with_authorization=sum(r.authorization for r in fake.download_requests()),
            )
            print_notifications(notifications, say)
            return result


def print_notifications(notifications: list[dict[str, Any]], say: Printer) -> None:
    for note in notifications:
        event_type = note["attributes"].get("event_type")
        say(f"notification {event_type}: {json.dumps(note['message'])[:300]}")


def _reported(notifications: list[dict[str, Any]], field: str) -> str | None:
    """A backup location as the job's own notification gives it."""
    for note in notifications:
        value = (note["message"].get("s3") or {}).get(field)
        if value:
            return str(value)
    return None
