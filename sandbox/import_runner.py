"""Run an import on the local stack: upload to the import bucket, deliver S3's EventBridge event to the
trigger (as often as asked, concurrently), follow every execution, report what the fake received."""

import copy
import gzip
import hashlib
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from sandbox.contacts import EMAIL_DOMAIN, import_csv, which50_csv
from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.fake_which50 import KNOWN_LIST as WHICH50_LIST
from sandbox.fake_which50 import FakeWhich50, FakeWhich50Options
from sandbox.runner import (
    Printer,
    follow_execution,
    print_notifications,
    received_notifications,
    subscribe_queue,
)
from sandbox.stack import LocalStack, StackConfig, local_stack

EVENT = Path(__file__).resolve().parents[1] / "events" / "s3_object_created.json"
LISTED_WITHIN_S = 10.0  # an execution a trigger started is listed at once; this only bounds a broken stack


@dataclass
class ImportScenario:
    provider: str = "sendgrid"
    file: Path | None = None
    contacts: int = 1000
    invalid_rows: int = 0
    list_id: str | None = None  # default: no list (SendGrid), the fake's list (Which50)
    key: str | None = None  # the whole key, for tests of the key convention
    duplicate_events: int = 1
    versionless_event: bool = False  # S3 sent no version-id (an unversioned bucket): the ETag names it
    fake: FakeSendGridOptions | None = None
    environment: dict[str, str] | None = None
    body: bytes | None = None  # exact bytes, for bad-input tests
    secret_api_key: str | None = None  # what Secrets Manager holds (default: the key the fake accepts)
    which50: FakeWhich50Options | None = None
    email_domain: str = EMAIL_DOMAIN  # of the generated contacts


def object_created_event(
    bucket: str, key: str, put: dict[str, Any], size: int, versionless: bool = False
) -> dict[str, Any]:
    """S3's EventBridge event for this upload (keys in events are form-encoded: a space as +, + as %2B)."""
    event: dict[str, Any] = copy.deepcopy(json.loads(EVENT.read_text()))
    event["time"] = datetime.now(UTC).isoformat()
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"].update(
        {
            "key": quote_plus(key, safe="/"),
            "size": size,
            "etag": put["ETag"].strip('"'),
            "version-id": put.get("VersionId"),
            "sequencer": f"{time.time_ns():020X}",  # S3's: rises with every write of the key
        }
    )
    if versionless:
        del event["detail"]["object"]["version-id"]
    return event


def _file_bytes(scenario: ImportScenario) -> tuple[bytes, str]:
    default_list = "_" if scenario.provider == "sendgrid" else str(WHICH50_LIST)
    folder = f"imports/{scenario.provider}/{scenario.list_id or default_list}"
    if scenario.body is not None:
        return scenario.body, scenario.key or f"{folder}/contacts.csv"
    if scenario.file:
        return scenario.file.read_bytes(), scenario.key or f"{folder}/{scenario.file.name}"
    generate = import_csv if scenario.provider == "sendgrid" else which50_csv
    data = generate(scenario.contacts, scenario.invalid_rows, scenario.email_domain)
    return data, scenario.key or f"{folder}/contacts.csv"


def _deliver(stack: LocalStack, event: dict[str, Any], times: int) -> list[dict[str, Any]]:
    client = stack.client("lambda")

    def once(_: int) -> dict[str, Any]:
        answer = client.invoke(FunctionName="TriggerImportFunction", Payload=json.dumps(event))
        result: dict[str, Any] = json.loads(answer["Payload"].read())
        return result

    with ThreadPoolExecutor(max_workers=max(1, times)) as pool:
        return list(pool.map(once, range(times)))


def _wait_for_all(stack: LocalStack, triggers: list[dict[str, Any]], say: Printer) -> list[dict[str, Any]]:
    """Follow every execution of the state machine, once each execution a trigger named is listed."""
    sfn = stack.client("stepfunctions")
    named = {trigger["execution_name"] for trigger in triggers if "execution_name" in trigger}
    deadline = time.monotonic() + LISTED_WITHIN_S
    while True:
        listed = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        missing = named - {execution["name"] for execution in listed}
        if not missing:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"executions {sorted(missing)} not listed after {LISTED_WITHIN_S} s")
        time.sleep(0.01)
    return [
        follow_execution(stack, execution["executionArn"], execution["name"], say) for execution in listed
    ]


def run_import(scenario: ImportScenario, say: Printer = print) -> dict[str, Any]:
    options = scenario.fake or FakeSendGridOptions()
    which50_options = scenario.which50 or FakeWhich50Options()
    secret = scenario.secret_api_key
    with FakeSendGrid(options) as fake, FakeWhich50(which50_options) as which50:
        config = StackConfig(
            api_key=(secret if scenario.provider == "sendgrid" else None) or options.api_key,
            sendgrid_base_url=fake.base_url,
            download_hosts=fake.download_host,
            environment=scenario.environment or {},
            which50_base_url=which50.base_url,
            which50_api_key=(secret if scenario.provider == "which50" else None) or which50_options.api_key,
        )
        with local_stack(config) as stack:
            queue_url = subscribe_queue(stack)
            data, key = _file_bytes(scenario)
            put = stack.client("s3").put_object(Bucket=stack.import_bucket, Key=key, Body=data)
            say(f"uploaded s3://{stack.import_bucket}/{key} ({len(data)} bytes)")
            event = object_created_event(
                stack.import_bucket, key, put, len(data), versionless=scenario.versionless_event
            )
            triggers = _deliver(stack, event, scenario.duplicate_events)
            for trigger in triggers:
                say(f"trigger: {json.dumps(trigger)}")
            runs = _wait_for_all(stack, triggers, say)
            notifications = received_notifications(stack, queue_url)
            print_notifications(notifications, say)
            report = _report(stack, key, data, put, runs, notifications)
            received = (
                _sendgrid_received(fake) if scenario.provider == "sendgrid" else _which50_received(which50)
            )
            return {**report, **received}


def _report(
    stack: LocalStack,
    key: str,
    data: bytes,
    put: dict[str, Any],
    runs: list[dict[str, Any]],
    notifications: list[dict[str, Any]],
) -> dict[str, Any]:
    now = stack.client("s3").get_object(Bucket=stack.import_bucket, Key=key)
    errors_keys = [
        k for note in notifications for k in (note["message"].get("s3") or {}).get("errors_keys") or []
    ]
    return {
        "status": runs[0]["status"] if len(runs) == 1 else [run["status"] for run in runs],
        "executions": [run["execution_name"] for run in runs],
        "states": runs[0]["states"] if runs else [],
        "history": [run["history"] for run in runs],
        "source_sha256": _decompressed_sha256(data),
        "errors_key": errors_keys[0] if errors_keys else None,
        "errors_keys": errors_keys,
        "source_intact": now["Body"].read() == data and now.get("VersionId") == put.get("VersionId"),
        "notifications": notifications,
        "lambda_logs": stack.lambda_log_lines(),
        "metrics": stack.metrics(),
    }


def _sendgrid_received(fake: FakeSendGrid) -> dict[str, Any]:
    """What the fake SendGrid's upload URI received (decompressed); for a file sent in parts, "parts"."""
    jobs = list(fake.imports.values())
    uploaded = [job for job in jobs if job.received_sha256]
    received = str(uploaded[0].received_sha256) if len(uploaded) == 1 else ("parts" if uploaded else None)
    counts = {
        name: sum(getattr(job, name) for job in jobs)
        for name in ("requested", "created", "updated", "errored")
    }
    return {
        "provider_jobs": [job.id for job in uploaded],
        "counts": counts,
        "received_sha256": received,
        "upload_problems": [job.problem for job in jobs if job.problem],
    }


def _which50_received(fake: FakeWhich50) -> dict[str, Any]:
    jobs = [job for job in fake.jobs.values() if job.batches or job.run_at]
    return {
        "provider_jobs": [job.id for job in jobs],
        "counts": {
            "requested": sum(fake.batch_sizes),
            "created": sum(job.inserted for job in jobs),
            "updated": sum(job.updated for job in jobs),
            "errored": sum(job.invalid_email for job in jobs),
        },
        "batches": list(fake.batch_sizes),
        "batch_body_bytes": list(fake.batch_body_bytes),
        "run_called": bool(fake.run_calls),
        "received": sum(fake.received.values()),
        "received_more_than_once": sorted(email for email, times in fake.received.items() if times > 1),
        "received_sha256": None,
    }


def _decompressed_sha256(data: bytes) -> str:
    """Streamed: a hostile test upload may inflate to hundreds of MiB."""
    if data[:2] != b"\x1f\x8b":
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
