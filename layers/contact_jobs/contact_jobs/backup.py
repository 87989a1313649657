"""The backup job's steps, one per state machine Task. State payloads carry ids and keys, never URLs
(they are signed links to contact data) and never contact data."""

from datetime import datetime
from typing import Any

from contact_jobs import manifest as manifest_schema
from contact_jobs.config import PollSettings
from contact_jobs.errors import (
    CopyFailed,
    DownloadUrlExpired,
    ExportExpired,
    ExportFailed,
    InvalidRequest,
    ProviderError,
    TransientError,
)
from contact_jobs.manifest import MANIFEST_NAME
from contact_jobs.polling import first_poll, next_poll
from contact_jobs.providers.base import ExportProvider, ExportRequest, ExportState
from contact_jobs.state import (
    BackupDescription,
    BackupJob,
    CopiedFile,
    CopyItem,
    Execution,
    Manifest,
    WorkflowState,
)
from contact_jobs.timeutil import isoformat, parse_timestamp
from contact_jobs.transfer import CopyResult, CopySettings, ObjectExists, copy_url_to_s3
from contact_jobs.urlguard import UrlGuard

FILE_TYPES = ("csv", "json")


def _list_name(provider: ExportProvider, list_id: str) -> str | None:
    """A name is for people reading the manifest: one the provider will not give is recorded as null
    (the export, not this lookup, decides whether the list can be backed up)."""
    try:
        return provider.list_name(list_id)
    except ProviderError as exc:
        if exc.status != 404:
            raise
        return None


def export_request(request: WorkflowState) -> ExportRequest:
    """The export asked for in the execution input, checked before anything is sent."""
    file_type = str(request.get("file_type") or "csv")
    if file_type not in FILE_TYPES:
        raise InvalidRequest(f"file_type must be one of {', '.join(FILE_TYPES)}, got {file_type!r}")
    max_size = int(request.get("max_file_size_mb") or 5000)
    if max_size < 1:
        raise InvalidRequest(f"max_file_size_mb must be at least 1, got {max_size}")
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
    state: WorkflowState, provider: ExportProvider, execution: Execution, poll: PollSettings
) -> BackupJob:
    """Start (or join) the export; a restart after expiry keeps the job id and prefix, counts up."""
    request = export_request(state)
    previous = state.get("job") or {}
    started_at = previous.get("started_at") or execution["start_time"]
    described = _described(previous, provider, request)
    return {
        "operation": "backup",
        "provider": provider.name,
        "job_id": execution["name"],
        "provider_job_id": provider.start_export(request),
        "started_at": started_at,
        "prefix": backup_prefix(provider.name, execution["name"], started_at),
        "file_type": request.file_type,
        "restarts": int(previous["restarts"]) + 1 if "restarts" in previous else 0,
        "status": ExportState.RUNNING.value,
        "poll": first_poll(poll),
        "fields": described["fields"],
        "lists": described["lists"],
        "segments": described["segments"],
    }


def _described(previous: Any, provider: ExportProvider, request: ExportRequest) -> BackupDescription:
    """What a restore needs besides the files, read when the export starts (a restart keeps it): the
    field definitions and the lists exported, by name. Segments are kept by id (the contracts this
    project follows have no segment endpoint)."""
    if "fields" in previous:
        return {"fields": previous["fields"], "lists": previous["lists"], "segments": previous["segments"]}
    definitions = provider.field_definitions()
    fields = [
        {
            "name": d["name"],
            "field_type": d.get("field_type") or "Text",
            "reserved": kind == "reserved_fields",
        }
        for kind in ("reserved_fields", "custom_fields")
        for d in definitions.get(kind) or []
    ]
    lists = [{"id": list_id, "name": _list_name(provider, list_id)} for list_id in request.list_ids]
    return {
        "fields": fields,
        "lists": lists,
        "segments": [{"id": s, "name": None} for s in request.segment_ids],
    }


def check(job: BackupJob, provider: ExportProvider, now: datetime, poll: PollSettings) -> BackupJob:
    """Poll once: ``running`` comes with the next wait; ``ready`` with the files to copy."""
    status = provider.export_status(job["provider_job_id"])
    if status.state is ExportState.FAILED:
        raise ExportFailed(f"export {status.job_id} ended in failure: {status.message or 'no reason given'}")
    checked: BackupJob = {**job, "status": status.state.value}
    if status.state is ExportState.RUNNING:
        checked["poll"] = next_poll(job["poll"]["attempt"], job["started_at"], now, poll)
        return checked
    if not status.urls:
        raise ExportFailed(f"export {status.job_id} is ready but lists no files")
    checked["files"] = [{"index": index} for index in range(len(status.urls))]
    checked["contact_count"] = status.contact_count
    checked["expires_at"] = isoformat(status.expires_at) if status.expires_at else None
    return checked


def file_key(prefix: str, export_id: str, index: int, file_type: str) -> str:
    """A file's key carries its attempt (the export it came from): a copy from an expired export, still
    running when the export was started anew, can never write where the new export's copy lives."""
    return f"{prefix}{export_id}/part-{index + 1:05d}.{file_type}"


def _fresh_url(provider: ExportProvider, export_id: str, index: int, now: datetime) -> str:
    status = provider.export_status(export_id)
    if status.expires_at is not None and status.expires_at <= now:
        raise ExportExpired(f"export {status.job_id} expired at {isoformat(status.expires_at)}")
    if status.state is not ExportState.READY or index >= len(status.urls):
        raise ExportFailed(f"export {export_id} no longer lists file {index + 1}")
    return status.urls[index]


def copy_file(
    item: CopyItem,
    provider: ExportProvider,
    s3: Any,
    bucket: str,
    guard: UrlGuard,
    settings: CopySettings,
    clock: Any,
) -> CopiedFile:
    """Copy one export file. URLs are read fresh from the export status (they expire; the state never
    holds them); a refused URL is read once more before giving up to the state machine's Retry."""
    export_id, index = item["provider_job_id"], int(item["index"])
    key = file_key(item["prefix"], export_id, index, item.get("file_type", "csv"))

    def copy_from_a_fresh_url() -> CopyResult:
        return copy_url_to_s3(
            s3, _fresh_url(provider, export_id, index, clock()), bucket, key, guard, settings
        )

    try:
        try:
            result = copy_from_a_fresh_url()
        except DownloadUrlExpired:
            result = copy_from_a_fresh_url()
    except ObjectExists as exists:
        return _stored_by_another_attempt(exists.result, s3, index)
    etag = s3.head_object(Bucket=bucket, Key=result.key)["ETag"]
    _withdraw_if_discarded(s3, bucket, item["prefix"], export_id, result.key)
    return _file_entry(result, index, etag)


def fence_key(prefix: str, export_id: str) -> str:
    """Written by a discard before it lists, beside (not under) the backup's prefix: an attempt's copies
    that land after the discard listed find it and withdraw what they wrote."""
    return f"{prefix.rstrip('/')}.discarded/{export_id}"


def _withdraw_if_discarded(s3: Any, bucket: str, prefix: str, export_id: str, key: str) -> None:
    """A copy that outlived its Task (Step Functions does not stop it) may finish after its backup was
    discarded. Checked after the write: either the discard's listing saw the object, or the fence was
    there before this check (S3 is read-after-write consistent), so nothing is left behind."""
    if not s3_has(s3, bucket, fence_key(prefix, export_id)):
        return
    s3.delete_object(Bucket=bucket, Key=key)
    raise CopyFailed(f"the backup was discarded while s3://{bucket}/{key} was being copied; withdrawn")


def _stored_by_another_attempt(result: CopyResult, s3: Any, index: int) -> CopiedFile:
    """Another attempt of this very copy (same export, same file: a retried Task beside a late Lambda)
    stored the key first. Its object stands if it holds as many bytes as this attempt read."""
    head = s3.head_object(Bucket=result.bucket, Key=result.key)
    if head["ContentLength"] != result.bytes:
        raise CopyFailed(
            f"s3://{result.bucket}/{result.key} holds {head['ContentLength']} bytes from another attempt, "
            f"this attempt read {result.bytes}"
        )
    return _file_entry(result, index, head["ETag"])


def _file_entry(result: CopyResult, index: int, etag: str) -> CopiedFile:
    return CopiedFile(index=index, key=result.key, bytes=result.bytes, sha256=result.sha256, gzip=result.gzip,
                      etag=etag, outcome="copied")  # fmt: skip  # the ASL's Choice reads outcome


def write_manifest(state: WorkflowState, s3: Any, bucket: str, now: datetime) -> Manifest:
    """Check the prefix holds exactly the copied files, then write the manifest (schema 2), last. Row
    counts are left to the first verify (counting here would mean inflating every file again)."""
    job = state["job"]
    files = sorted(state["files"], key=lambda entry: entry["index"])
    _check_prefix_holds_exactly(s3, bucket, job["prefix"], files)
    manifest = manifest_schema.Manifest(
        provider=job["provider"],
        job_id=job["job_id"],
        provider_job_id=job["provider_job_id"],
        started_at=job["started_at"],
        completed_at=isoformat(now),
        file_type=job.get("file_type", "csv"),
        contact_count=job.get("contact_count"),
        files=tuple(
            manifest_schema.ManifestFile(e["key"], e["bytes"], e["sha256"], e["gzip"]) for e in files
        ),
        field_definitions=tuple(manifest_schema.FieldDefinition(**f) for f in job.get("fields") or ()),
        lists=tuple(manifest_schema.ExportedGroup(**g) for g in job.get("lists") or ()),
        segments=tuple(manifest_schema.ExportedGroup(**g) for g in job.get("segments") or ()),
    )
    key = f"{job['prefix']}{MANIFEST_NAME}"
    s3.put_object(Bucket=bucket, Key=key, Body=manifest.to_json(), ContentType="application/json")
    return {
        "bucket": bucket,
        "manifest_key": key,
        "file_keys": [entry["key"] for entry in files],
        "total_bytes": manifest.total_bytes,
        "contact_count": manifest.contact_count,
    }


def _listed(s3: Any, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    """Every object under the prefix (every attempt's), by key."""
    found: dict[str, dict[str, Any]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update((item["Key"], item) for item in page.get("Contents", []))
    return found


def _check_prefix_holds_exactly(s3: Any, bucket: str, prefix: str, files: list[CopiedFile]) -> None:
    """The copies are what is stored: no object the copies did not record (a late writer's), none missing,
    each at the size and ETag its copy saw right after writing it (the ETag changes if it is replaced)."""
    listed = _listed(s3, bucket, prefix)
    listed.pop(f"{prefix}{MANIFEST_NAME}", None)
    extra = sorted(set(listed) - {entry["key"] for entry in files})
    if extra:
        raise CopyFailed(f"s3://{bucket}/{prefix} holds files no copy recorded: {', '.join(extra[:5])}")
    for entry in files:
        stored = listed.get(entry["key"])
        if stored is None:
            raise CopyFailed(f"s3://{bucket}/{entry['key']} is missing")
        if stored["Size"] != entry["bytes"] or stored["ETag"] != entry["etag"]:
            raise CopyFailed(
                f"s3://{bucket}/{entry['key']} holds {stored['Size']} bytes (ETag {stored['ETag']}), "
                f"the copy stored {entry['bytes']} (ETag {entry['etag']})"
            )


def discard_partial(state: WorkflowState, s3: Any, bucket: str) -> dict[str, int]:
    """Remove every attempt's objects and unfinished multipart uploads under the backup's prefix, unless
    its manifest exists (then it is whole). Called only once every copy has ended."""
    job = state.get("job") or {}
    prefix = job.get("prefix")
    if not prefix or s3_has(s3, bucket, f"{prefix}{MANIFEST_NAME}"):
        return {"discarded": 0}
    if job.get("provider_job_id"):  # before listing: a copy of this attempt still running withdraws itself
        s3.put_object(Bucket=bucket, Key=fence_key(prefix, job["provider_job_id"]), Body=b"")
    keys = sorted(_listed(s3, bucket, prefix))
    for start_at in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start_at : start_at + 1000]]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        refused = answer.get("Errors") or []  # a 200 can still refuse keys, one by one
        if refused:
            named = ", ".join(f"{e.get('Key')} ({e.get('Code')})" for e in refused[:5])
            raise TransientError(f"{len(refused)} files under s3://{bucket}/{prefix} not deleted: {named}")
    return {"discarded": len(keys), "aborted_uploads": _abort_uploads(s3, bucket, prefix)}


def s3_has(s3: Any, bucket: str, key: str) -> bool:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
    return bool(listed) and listed[0]["Key"] == key


def _abort_uploads(s3: Any, bucket: str, prefix: str) -> int:
    """Multipart uploads left unfinished under the prefix (their parts are billed, and invisible)."""
    aborted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
    return aborted


def _ids(values: Any) -> tuple[str, ...]:
    """Ids from the input; blanks dropped (the schedule's template turns an empty parameter into [""])."""
    return tuple(str(value).strip() for value in values or () if str(value).strip())
