"""Entry points for the state machine's Tasks: pick the operation's steps and give them their clients."""

import math
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from contact_jobs import backup, imports, notifications, restore, runtime, verify
from contact_jobs.config import settings
from contact_jobs.errors import InvalidRequest
from contact_jobs.observability import logger, metric
from contact_jobs.providers import registry
from contact_jobs.state import (
    BackupJob,
    CopiedFile,
    CopyItem,
    Execution,
    ImportJob,
    Manifest,
    VerifyProgress,
    WorkflowState,
)
from contact_jobs.timeutil import isoformat, utcnow

OPERATIONS = ("backup", "import", "verify", "restore")


def _operation(state: WorkflowState) -> str:
    operation = str((state.get("job") or state).get("operation") or "")
    if operation not in OPERATIONS:
        raise InvalidRequest(f"unknown operation {operation!r} (known: {', '.join(OPERATIONS)})")
    return operation


def start_export(state: WorkflowState, execution: Execution) -> BackupJob:
    _operation(state)
    provider = registry.exporter(str(state.get("provider") or "sendgrid"))
    job = backup.start(state, provider, execution, settings().poll)
    logger.info(
        "export started", extra={"provider_job_id": job["provider_job_id"], "restarts": job["restarts"]}
    )
    if not job["restarts"]:  # a restarted export is the same job
        metric("JobsStarted", 1, "backup", job["provider"])
    return job


def check_job(job: ImportJob | BackupJob) -> ImportJob | BackupJob:
    _operation({"job": job})
    checked: ImportJob | BackupJob
    if job["operation"] == "backup":
        checked = backup.check(job, registry.exporter(job["provider"]), utcnow(), settings().poll)
    else:  # an import, or a restore (an import of a backup's files)
        checked = imports.check(job, runtime.import_adapter(job["provider"]), utcnow(), settings().poll)
    logger.info("job checked", extra={"status": checked["status"], "poll": checked.get("poll")})
    metric("PollCount", 1, job["operation"], job["provider"])
    return checked


def copy_export_file(item: CopyItem) -> CopiedFile:
    entry = backup.copy_file(
        item,
        registry.exporter(item["provider"]),
        runtime.s3_client(),
        settings().backup_bucket,
        runtime.url_guard(),
        runtime.copy_settings(),
        utcnow,
    )
    logger.info("file copied", extra={"key": entry["key"], "bytes": entry["bytes"], "gzip": entry["gzip"]})
    metric("BytesCopied", entry["bytes"], "backup", item["provider"], MetricUnit.Bytes)
    return entry


def write_manifest(state: WorkflowState) -> Manifest:
    written = backup.write_manifest(state, runtime.s3_client(), settings().backup_bucket, utcnow())
    logger.info(
        "manifest written", extra={"key": written["manifest_key"], "files": len(written["file_keys"])}
    )
    return written


def discard_partial_backup(state: WorkflowState) -> dict[str, int]:
    discarded = backup.discard_partial(state, runtime.s3_client(), settings().backup_bucket)
    logger.info("partial backup discarded", extra=discarded)
    return discarded


def notify(state: WorkflowState, outcome: str, execution: Execution) -> dict[str, str]:
    document = notifications.build(state, outcome, execution, isoformat(utcnow()))
    message_id = notifications.publish(runtime.sns_client(), settings().topic_arn, document)
    logger.info(
        "notification published", extra={"event_type": document["event_type"], "message_id": message_id}
    )
    _job_outcome_metrics(document)
    return {"message_id": message_id, "event_type": document["event_type"]}


def _job_outcome_metrics(document: dict[str, Any]) -> None:
    operation, provider = document["operation"], document["provider"]
    metric("JobsFailed" if document["outcome"] == "failed" else "JobsFinished", 1, operation, provider)
    if operation == "import":
        counts = document["counts"]
        metric("ContactsImported", (counts["created"] or 0) + (counts["updated"] or 0), operation, provider)


def prepare_import(state: WorkflowState, execution: Execution, remaining_ms: int | None = None) -> ImportJob:
    """``remaining_ms``: the Lambda's time left; the scan stops SCAN_TIME_RESERVE_S before it runs out."""
    adapter = runtime.import_adapter(str(state.get("provider") or ""))
    config = settings()
    deadline = _deadline(remaining_ms)
    job = imports.prepare(
        state, adapter, runtime.s3_client(), config.import_limits, execution, config.poll, deadline
    )
    logger.info(
        "import prepared",
        extra={"rows": job["rows"], "parts": len(job["parts"]), "warnings": job["warnings"]},
    )
    metric("JobsStarted", 1, "import", job["provider"])
    return job


def send_import(job: ImportJob) -> ImportJob:
    adapter = runtime.import_adapter(job["provider"], recording=True)
    sent = imports.send(job, adapter, runtime.s3_client(), settings().send_time_budget_s)
    logger.info("import sent", extra={"send": sent["send"]})
    return sent


def copy_import_errors(job: ImportJob) -> list[str]:
    adapter = runtime.import_adapter(job["provider"])
    keys = imports.copy_errors(
        job, adapter, runtime.s3_client(), runtime.url_guard(), runtime.copy_settings()
    )
    logger.info("import errors copied", extra={"keys": keys})
    return keys


def verify_backup(state: WorkflowState, remaining_ms: int | None = None) -> VerifyProgress:
    """Check the backup's files from where the last call stopped, until this invocation's time runs low."""
    started = state.get("verify")
    progress = verify.verify_step(
        state, runtime.s3_client(), settings().backup_bucket, _deadline(remaining_ms), started
    )
    logger.info(
        "backup verified" if progress["done"] else "backup partly verified",
        extra={k: progress[k] for k in ("manifest_key", "files", "problem_count", "verified")},
    )
    calls = started.get("calls", 0) if started else 0
    return {**progress, "calls": calls + 1}


def prepare_restore(state: WorkflowState, execution: Execution, remaining_ms: int | None = None) -> ImportJob:
    request = restore.restore_request(state, restore.RESTORABLE)  # names a provider that cannot restore
    config = settings()
    context = restore.RestoreContext(
        s3=runtime.s3_client(),
        bucket=config.backup_bucket,
        adapter=runtime.import_adapter(request.provider),
        target=restore.restore_target(registry.exporter(request.provider)),
        limits=config.import_limits,
        deadline=_deadline(remaining_ms),
    )
    job = restore.prepare(state, context, execution, config.poll)
    logger.info("restore prepared", extra={"rows": job["rows"], "parts": len(job["parts"])})
    metric("JobsStarted", 1, "restore", job["provider"])
    return job


def _deadline(remaining_ms: int | None) -> float:
    """When a resumable step stops taking new work: its invocation's end, less the scan reserve."""
    if remaining_ms is None:
        return math.inf
    return time.monotonic() + remaining_ms / 1000 - settings().scan_time_reserve_s
