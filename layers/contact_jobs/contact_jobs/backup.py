"""The backup job's steps, one per state machine Task. State payloads carry ids and keys, never URLs
(they are signed links to contact data) and never contact data."""

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from contact_jobs.config import PollSettings
from contact_jobs.errors import CopyFailed, DownloadUrlExpired, ExportExpired, ExportFailed, ProviderError
from contact_jobs.polling import first_poll, next_poll
from contact_jobs.providers.base import ExportProvider, ExportRequest, ExportState, ExportStatus
from contact_jobs.timeutil import isoformat, parse_timestamp
from contact_jobs.transfer import CopyResult, CopySettings, copy_url_to_s3
from contact_jobs.urlguard import UrlGuard

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA_VERSION = "1"
FILE_TYPES = ("csv", "json")


def export_request(request: dict[str, Any]) -> ExportRequest:
    """The export asked for in the execution input, checked before anything is sent."""
    file_type = str(request.get("file_type") or "csv")
    if file_type not in FILE_TYPES:
        raise ProviderError(f"file_type must be one of {', '.join(FILE_TYPES)}, got {file_type!r}")
    max_size = int(request.get("max_file_size_mb") or 5000)
    if max_size < 1:
        raise ProviderError(f"max_file_size_mb must be at least 1, got {max_size}")
    return ExportRequest(
        list_ids=_ids(request.get("list_ids")),
        segment_ids=_ids(request.get("segment_ids")),
        file_type=file_type,
        max_file_size_mb=max_size,
    )


def backup_prefix(provider: str, job_id: str, started_at: str) -> str:
    day = parse_timestamp(started_at)
    return f"backups/{provider}/{day:%Y/%m/%d}/{job_id}/"


def start(
    state: dict[str, Any], provider: ExportProvider, execution: dict[str, str], poll: PollSettings
) -> dict[str, Any]:
    """Start (or join) the export; a restart after expiry keeps the job id and prefix, counts up."""
    request = export_request(state)
    previous = state.get("job") or {}
    started_at = previous.get("started_at") or execution["start_time"]
    return {
        "operation": "backup",
        "provider": provider.name,
        "job_id": execution["name"],
        "provider_job_id": provider.start_export(request),
        "started_at": started_at,
        "prefix": backup_prefix(provider.name, execution["name"], started_at),
        "file_type": request.file_type,
        "restarts": int(previous["restarts"]) + 1 if "restarts" in previous else 0,
        "state": ExportState.RUNNING.value,
        "poll": first_poll(poll).as_dict(),
    }


def check(job: dict[str, Any], provider: ExportProvider, now: datetime, poll: PollSettings) -> dict[str, Any]:
    """Poll once: ``running`` comes with the next wait; ``ready`` with the files to copy."""
    status = provider.export_status(job["provider_job_id"])
    if status.state is ExportState.FAILED:
        raise ExportFailed(f"export {status.job_id} ended in failure: {status.message or 'no reason given'}")
    checked = {**job, "state": status.state.value}
    if status.state is ExportState.RUNNING:
        checked["poll"] = next_poll(job["poll"]["attempt"], job["started_at"], now, poll).as_dict()
        return checked
    if not status.urls:
        raise ExportFailed(f"export {status.job_id} is ready but lists no files")
    checked["files"] = [{"index": index} for index in range(len(status.urls))]
    checked["contact_count"] = status.contact_count
    checked["expires_at"] = isoformat(status.expires_at) if status.expires_at else None
    return checked


def file_key(prefix: str, index: int, file_type: str) -> str:
    return f"{prefix}part-{index + 1:05d}.{file_type}"


def _fresh_url(provider: ExportProvider, export_id: str, index: int, now: datetime) -> str:
    status = provider.export_status(export_id)
    _ensure_not_expired(status, now)
    if status.state is not ExportState.READY or index >= len(status.urls):
        raise ExportFailed(f"export {export_id} no longer lists file {index + 1}")
    return status.urls[index]


def _ensure_not_expired(status: ExportStatus, now: datetime) -> None:
    if status.expires_at is not None and status.expires_at <= now:
        raise ExportExpired(f"export {status.job_id} expired at {isoformat(status.expires_at)}")


def copy_file(
    item: dict[str, Any],
    provider: ExportProvider,
    s3: Any,
    bucket: str,
    guard: UrlGuard,
    settings: CopySettings,
    clock: Any,
) -> dict[str, Any]:
    """Copy one export file. URLs are read fresh from the export status (they expire; the state never
    holds them); a refused URL is read once more before giving up to the state machine's Retry."""
    export_id, index = item["provider_job_id"], int(item["index"])
    key = file_key(item["prefix"], index, item.get("file_type", "csv"))

    def copy_from_a_fresh_url() -> CopyResult:
        return copy_url_to_s3(
            s3, _fresh_url(provider, export_id, index, clock()), bucket, key, guard, settings
        )

    try:
        result = copy_from_a_fresh_url()
    except DownloadUrlExpired:
        result = copy_from_a_fresh_url()
    return _file_entry(result, index)


def _file_entry(result: CopyResult, index: int) -> dict[str, Any]:
    entry = asdict(result)
    entry.pop("bucket")
    return {"index": index, **entry}


def write_manifest(state: dict[str, Any], s3: Any, bucket: str, now: datetime) -> dict[str, Any]:
    """Check every copied file is in S3 at its recorded size, then write the manifest, last."""
    job = state["job"]
    files = sorted(state["files"], key=lambda entry: entry["index"])
    for entry in files:
        size = s3.head_object(Bucket=bucket, Key=entry["key"])["ContentLength"]
        if size != entry["bytes"]:
            raise CopyFailed(
                f"s3://{bucket}/{entry['key']} holds {size} bytes, the copy recorded {entry['bytes']}"
            )
    manifest = {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "operation": "backup",
        "provider": job["provider"],
        "job_id": job["job_id"],
        "provider_job_id": job["provider_job_id"],
        "started_at": job["started_at"],
        "completed_at": isoformat(now),
        "contact_count": job.get("contact_count"),
        "file_type": job.get("file_type", "csv"),
        "total_bytes": sum(entry["bytes"] for entry in files),
        "files": [{k: entry[k] for k in ("key", "bytes", "sha256", "gzip")} for entry in files],
    }
    key = f"{job['prefix']}{MANIFEST_NAME}"
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(manifest, indent=2).encode(),
        ContentType="application/json",
    )
    return {
        "bucket": bucket,
        "manifest_key": key,
        "file_keys": [entry["key"] for entry in files],
        "total_bytes": manifest["total_bytes"],
        "contact_count": manifest["contact_count"],
    }


def discard_partial(state: dict[str, Any], s3: Any, bucket: str) -> dict[str, Any]:
    """Remove what a failed or restarted backup copied, unless its manifest exists (then it is whole)."""
    prefix = (state.get("job") or {}).get("prefix")
    if not prefix:
        return {"discarded": 0}
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    if f"{prefix}{MANIFEST_NAME}" in keys:
        return {"discarded": 0}
    for start_at in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start_at : start_at + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    return {"discarded": len(keys)}


def _ids(values: Any) -> tuple[str, ...]:
    """Ids from the input; blanks dropped (the schedule's template turns an empty parameter into [""])."""
    return tuple(str(value).strip() for value in values or () if str(value).strip())
