"""The one SNS message every job ends with (schema documented in README.md, "Notifications").

Built from the state machine's state, which holds ids, keys and counts only: no secret or contact data
can reach a subscriber through this module.
"""

import csv
import json
from typing import Any

from contact_jobs.state import Execution, WorkflowState

SCHEMA_VERSION = "1"
OUTCOMES = ("completed", "errored", "failed")
MAX_ERROR_MESSAGE = 1000
MAX_KEYS = 100  # SNS messages are capped at 256 KiB; the manifest lists every file anyway


def failure_reason(error: dict[str, Any] | None) -> dict[str, str] | None:
    """The error type and message from a Catch's ``{"Error", "Cause"}`` (a Lambda error's Cause is JSON)."""
    if not error:
        return None
    kind = str(error.get("Error") or "Error")
    cause = str(error.get("Cause") or "")
    message = cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        kind = str(parsed.get("errorType") or kind)
        message = str(parsed.get("errorMessage") or "")
    return {"type": kind, "message": (message or kind)[:MAX_ERROR_MESSAGE]}


def build(state: WorkflowState, outcome: str, execution: Execution, now: str) -> dict[str, Any]:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
    job = state.get("job") or {}
    operation = str(job.get("operation") or state.get("operation") or "unknown")
    if outcome == "completed" and state.get("errors_report_error"):
        outcome = "errored"  # rows were refused (there is a report) and the report itself is missing
    if outcome == "completed" and operation == "backup" and state.get("verify", {}).get("verified") is False:
        outcome = "errored"  # written whole, but reading it back found files that do not match
    provider = str(job.get("provider") or state.get("provider") or "unknown")
    details = DETAILS[operation](state) if operation in DETAILS else _backup_details(state)
    error = None if outcome == "completed" else failure_reason(state.get("error"))
    if error is None and outcome == "failed" and job.get("failure"):
        error = {"type": "ImportFailed", "message": str(job["failure"])}
    return {
        "schema_version": SCHEMA_VERSION,
        "event_type": f"{operation}.{outcome}",
        "operation": operation,
        "provider": provider,
        "outcome": outcome,
        "job_id": execution["name"],
        "execution_arn": execution["arn"],
        "provider_job_id": job.get("provider_job_id") or _import_ids(job),
        "started_at": job.get("started_at") or execution.get("start_time"),
        "finished_at": now,
        **details,
        # A completed job may have recovered from an error on the way (an expired export restarted).
        "error": error,
    }


def _backup_details(state: WorkflowState) -> dict[str, Any]:
    job, manifest = state.get("job") or {}, state.get("manifest", {})
    keys = list(manifest.get("file_keys") or [])
    return {
        "verify": _verify(state),
        "counts": {
            "contacts": manifest.get("contact_count", job.get("contact_count")),
            "files": len(keys),
            "bytes": manifest.get("total_bytes", 0),
        },
        "s3": {
            "bucket": manifest.get("bucket"),
            "prefix": job.get("prefix"),
            "manifest_key": manifest.get("manifest_key"),
            "keys": keys[:MAX_KEYS],
            "keys_truncated": len(keys) > MAX_KEYS,
        },
    }


def _verify(state: WorkflowState) -> dict[str, Any] | None:
    """What reading the backup back found (None when it was not read back)."""
    progress = state.get("verify")
    if not progress:
        return None
    return {
        "verified": bool(progress.get("done") and progress.get("verified")),
        "manifest_key": progress.get("manifest_key"),
        "files": progress.get("files"),
        "bytes": progress.get("bytes"),
        "rows": progress.get("rows"),
        "problem_count": progress.get("problem_count", 0),
        "problems": list(progress.get("problems") or []),  # the first MAX_PROBLEMS, {"file", "problem"}
    }


def _verify_details(state: WorkflowState) -> dict[str, Any]:
    verified = _verify(state) or {}
    return {
        "counts": {
            "files": verified.get("files"),
            "bytes": verified.get("bytes"),
            "contacts": verified.get("rows"),
        },
        "s3": {"manifest_key": verified.get("manifest_key") or state.get("manifest_key")},
        "verify": verified or None,
    }


def _restore_details(state: WorkflowState) -> dict[str, Any]:
    job = state.get("job") or {}
    details = _import_details(state)
    details["s3"] = {
        "manifest_key": job.get("manifest_key") or state.get("manifest_key"),
        "errors_keys": state.get("errors_keys") or [],
    }
    details["verify"] = _verify(state)
    details["target"] = {"list_id": job.get("target") or None}
    if job.get("dry_run"):
        details["dry_run"] = True
        details["plan"] = {
            "files": len(job.get("files") or []),
            "contacts": job.get("rows"),
            "imports": len(job.get("parts") or []),
            "columns": _planned_columns(job),
        }
    return details


def _import_details(state: WorkflowState) -> dict[str, Any]:
    job = state.get("job") or {}
    source = job.get("source") or state.get("source") or {}
    counts = job.get("counts") or {}
    return {
        "counts": {name: counts.get(name) for name in ("requested", "created", "updated", "errored")},
        "provider_counts": dict(job.get("details") or {}),
        "parts": len(job.get("parts") or []),
        "s3": {
            "bucket": source.get("bucket"),
            "source_key": source.get("key"),
            "errors_keys": state.get("errors_keys") or [],
        },
        "warnings": list(job.get("warnings") or []) + _missing_report(state.get("errors_report_error")),
    }


def _planned_columns(job: dict[str, Any]) -> dict[str, str | None]:
    """The first file's columns and the field ids they go to (None: skipped; the warnings say why)."""
    files = job.get("files") or []
    if not files:
        return {}
    header = next(csv.reader([files[0]["header"]]), [])
    return dict(zip(header, files[0]["field_mappings"], strict=False))


DETAILS = {"import": _import_details, "verify": _verify_details, "restore": _restore_details}


def _missing_report(error: dict[str, Any] | None) -> list[str]:
    """CopyImportErrors failed after the provider imported the rows: the counts stand, the report is
    missing, and the subscriber is told why (the provider keeps it only until its URL expires)."""
    reason = failure_reason(error)
    if reason is None:
        return []
    return [f"the provider's error report could not be copied to S3: {reason['type']}: {reason['message']}"]


def _import_ids(job: dict[str, Any]) -> str | None:
    ids = [str(upload["provider_job_id"]) for upload in job.get("uploads") or []]
    return ",".join(ids) or None


def message_attributes(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Attributes subscribers filter on (SNS filter policies)."""
    return {
        name: {"DataType": "String", "StringValue": str(document[name])}
        for name in ("event_type", "provider", "outcome")
    }


def publish(sns: Any, topic_arn: str, document: dict[str, Any]) -> str:
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=f"contact-jobs {document['event_type']}"[:100],
        Message=json.dumps(document),
        MessageAttributes=message_attributes(document),
    )
    return str(response["MessageId"])
