"""A restore's plan: what is asked, which columns go where, which custom fields are made first.

A restore puts a verified backup's contacts back into a provider account through the import machinery
(the same send loop, waits, polls and error reports). What is decided here, before anything is sent: the
request (checked by name), the execution name (one restore request runs once), and, per backup file, the
columns: read-only fields are dropped, custom fields the target account lacks are created first (with the
type the manifest recorded) or skipped, each with a warning.
"""

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from contact_jobs import csvscan, ndjson
from contact_jobs.config import PollSettings
from contact_jobs.csvscan import open_decompressed
from contact_jobs.errors import InvalidImportFile, InvalidRequest
from contact_jobs.imports import FieldMapping, ImportAdapter, capped, check_state_size
from contact_jobs.manifest import FieldDefinition, Manifest, ManifestFile
from contact_jobs.manifest import manifest_key as manifest_key_of
from contact_jobs.polling import first_poll
from contact_jobs.state import Execution, ImportJob, Part, PartFile, Source, WorkflowState
from contact_jobs.streams import ChunksReader, open_object, open_sized
from contact_jobs.verify import read_manifest

RESTORABLE = ("sendgrid",)  # providers whose accounts a backup can be put back into
RESTORES = "restores/"  # in the backup bucket: a restore's staged CSVs and error reports
NO_LIST = "_"  # restore into the account without adding the contacts to a list
NAME_LIMIT = 80
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class RestoreRequest:
    provider: str
    manifest_key: str
    list_id: str | None
    create_missing_fields: bool
    dry_run: bool


def restore_request(state: WorkflowState | dict[str, Any], restorable: tuple[str, ...]) -> RestoreRequest:
    """The restore asked for in the execution input; ``InvalidRequest`` names what is wrong."""
    provider = state.get("provider")
    if provider not in restorable:
        raise InvalidRequest(
            f"provider {provider!r} cannot restore a backup; restorable: {', '.join(restorable) or 'none'}"
        )
    manifest_key = state.get("manifest_key")
    if not isinstance(manifest_key, str) or not manifest_key.strip():
        raise InvalidRequest("manifest_key is required: the backup's manifest key or its prefix")
    list_id = state.get("list_id", NO_LIST)
    if not isinstance(list_id, str) or not list_id:
        raise InvalidRequest(f"list_id must be a list id or {NO_LIST!r} (no list), got {list_id!r}")
    return RestoreRequest(
        provider=str(provider),
        manifest_key=manifest_key_of(manifest_key.strip()),  # b1, b1/ and b1/manifest.json: one restore
        list_id=None if list_id == NO_LIST else list_id,
        create_missing_fields=_flag(state, "create_missing_fields"),
        dry_run=_flag(state, "dry_run"),
    )


def _flag(state: WorkflowState | dict[str, Any], name: str) -> bool:
    value = state.get(name, False)
    if not isinstance(value, bool):
        raise InvalidRequest(f"{name} must be true or false, got {value!r}")
    return value


def restore_execution_name(
    provider: str, manifest_key: str, list_id: str | None, dry_run: bool = False
) -> str:
    """One name per (backup, target) and per dry run: a repeated request joins the execution or is refused
    by name, and a dry run never takes the name of the restore it plans. Readable where it fits, unique
    through a digest of the whole."""
    target = list_id or NO_LIST
    plan = "\nplan" if dry_run else ""
    digest = hashlib.sha256(f"{provider}\n{manifest_key}\n{target}{plan}".encode()).hexdigest()[:16]
    job = manifest_key.rstrip("/").removesuffix("/manifest.json").rsplit("/", 1)[-1]
    kind = "plan" if dry_run else "restore"
    readable = UNSAFE_NAME.sub("-", f"{kind}-{provider}-{job}").strip("-")
    return f"{readable[: NAME_LIMIT - len(digest) - 1]}-{digest}"


@dataclass(frozen=True)
class ColumnPlan:
    create: tuple[FieldDefinition, ...]  # custom fields to create before sending
    warnings: tuple[str, ...]


def plan_columns(
    header: list[str], manifest: Manifest, target: dict[str, Any], create_missing: bool
) -> ColumnPlan:
    """Custom fields the backup's columns need that the target account lacks: created first when asked,
    else skipped with a warning. (Read-only and unknown columns are the field mapping's to report.)"""
    known = {
        str(definition["name"]).lower()
        for kind in ("reserved_fields", "custom_fields")
        for definition in target.get(kind) or []
    }
    recorded = {f.name.lower(): f for f in manifest.field_definitions if not f.reserved}
    needed = dict.fromkeys(c.strip().lower() for c in header)  # every file repeats the header: once each
    missing = [recorded[name] for name in needed if name in recorded and name not in known]
    if create_missing:
        return ColumnPlan(tuple(missing), ())
    warnings = tuple(
        f"custom field {field.name!r} ({field.field_type}) does not exist in the target account: skipped "
        "(create_missing_fields creates it)"
        for field in missing
    )
    return ColumnPlan((), warnings)


def stage_json_as_csv(s3: Any, bucket: str, key: str, gzipped: bool, staged_key: str) -> int:
    """A JSON (NDJSON) backup file written as CSV under ``staged_key``, for SendGrid's import; its size.
    Streamed twice (columns, then rows) into a multipart upload: memory holds a line and a part or two."""

    def lines() -> Iterator[bytes]:
        return ndjson.bounded_lines(open_decompressed(open_object(s3, bucket, key), gzipped))

    header = ndjson.columns(lines())
    if not header:
        raise InvalidImportFile(f"s3://{bucket}/{key} holds no contacts")
    reader = ChunksReader(ndjson.to_csv(lines(), header))
    s3.upload_fileobj(reader, bucket, staged_key, ExtraArgs={"ContentType": "text/csv"})
    return int(s3.head_object(Bucket=bucket, Key=staged_key)["ContentLength"])


@runtime_checkable
class RestoreTarget(Protocol):
    """What a restore needs of the provider account besides the import adapter."""

    def field_definitions(self) -> dict[str, list[dict[str, Any]]]: ...

    def create_field_definition(self, name: str, field_type: str) -> dict[str, Any]: ...


def restore_target(client: object) -> RestoreTarget:
    if not isinstance(client, RestoreTarget):
        raise InvalidRequest(f"{type(client).__name__} cannot create fields: its provider cannot restore")
    return client


@dataclass(frozen=True)
class RestoreContext:
    s3: Any
    bucket: str  # the backup bucket: the backup's files, the staged CSVs, the error reports
    adapter: ImportAdapter
    target: RestoreTarget
    limits: csvscan.Limits
    deadline: float | None = None


def prepare(
    state: WorkflowState, context: RestoreContext, execution: Execution, poll: PollSettings
) -> ImportJob:
    """A verified backup as one import job of several parts (a part per file, or more where a file is past
    the provider's limits): fields created first if asked, columns mapped per file, the target checked.
    With ``dry_run`` nothing is created or staged: the job is the plan."""
    request = restore_request(state, RESTORABLE)
    expected = restore_execution_name(
        request.provider, request.manifest_key, request.list_id, request.dry_run
    )
    if execution["name"] != expected:
        raise InvalidRequest(
            f"a restore of this backup into this target runs as the execution named {expected!r} (one "
            f"request runs once); start it with that name, not {execution['name']!r}"
        )
    key, manifest = read_manifest(context.s3, context.bucket, request.manifest_key)
    if manifest.provider != request.provider:
        raise InvalidRequest(
            f"the backup is of {manifest.provider}, not {request.provider}: not restorable there"
        )
    if not manifest.files:
        raise InvalidRequest(f"the backup {key} lists no files: nothing to restore")
    context.adapter.check_target(request.list_id or "")
    warnings: list[str] = []
    files = [_read_file(entry, manifest, index, context, execution, request.dry_run) for index, entry in
             enumerate(manifest.files)]  # fmt: skip
    headers = [column for file in files for column in file.scan.header]
    plan = plan_columns(headers, manifest, context.target.field_definitions(), request.create_missing_fields)
    warnings += list(dict.fromkeys(plan.warnings))
    if not request.dry_run:
        for field in plan.create:
            context.target.create_field_definition(field.name, field.field_type)
    mappings: dict[tuple[str, ...], FieldMapping] = {}
    part_files: list[PartFile] = []
    parts: list[Part] = []
    for number, file in enumerate(files):
        mapping = _mapping(context.adapter, file.scan.header, mappings)
        warnings += [w for w in mapping.warnings if w not in warnings]
        part_files.append({"source": file.source, "header": file.scan.header_bytes.decode(),
                           "field_mappings": mapping.field_ids})  # fmt: skip
        for part in file.scan.parts:
            parts.append({"index": len(parts), "start": part.start, "end": part.end, "rows": part.rows,
                          "file": number})  # fmt: skip
    job: ImportJob = {
        "operation": "restore",
        "provider": request.provider,
        "job_id": execution["name"],
        "started_at": execution["start_time"],
        "source": part_files[0]["source"],
        "target": request.list_id or "",
        "errors_prefix": RESTORES,
        "errors_folder": f"{RESTORES}{execution['name']}/errors/",
        "field_mappings": part_files[0]["field_mappings"],
        "warnings": capped(warnings),
        "header": part_files[0]["header"],
        "rows": sum(file.scan.rows for file in files),
        "limits": asdict(context.limits),
        "parts": parts,
        "files": part_files,
        "manifest_key": key,
        "dry_run": request.dry_run,
        "send": {"calls": 0, "done": False, "retry_in_s": 0},
        "uploads": [],
        "status": "planned" if request.dry_run else "sending",
        "poll": first_poll(poll),
    }
    check_state_size(job)
    return job


def _mapping(
    adapter: ImportAdapter, header: list[str], known: dict[tuple[str, ...], FieldMapping]
) -> FieldMapping:
    """A header's field mapping, asked of the provider once: an export's files all share one header."""
    if tuple(header) not in known:
        known[tuple(header)] = adapter.map_fields(header)
    return known[tuple(header)]


@dataclass(frozen=True)
class _ReadFile:
    source: Source
    scan: csvscan.ScanResult


def _read_file(
    entry: ManifestFile, manifest: Manifest, index: int, context: RestoreContext, execution: Execution,
    dry_run: bool,
) -> _ReadFile:  # fmt: skip
    """A backup file as the import reads it: CSV as it is; JSON staged as CSV first (not on a dry run,
    which reads its columns only and counts it as one part)."""
    s3, bucket = context.s3, context.bucket
    source: Source = {"bucket": bucket, "key": entry.key, "version_id": None, "gzipped": entry.gzip}
    if manifest.file_type == "json":
        staged = f"{RESTORES}{execution['name']}/staged/part-{index + 1:05d}.csv"
        if dry_run:
            lines = ndjson.bounded_lines(open_decompressed(open_object(s3, bucket, entry.key), entry.gzip))
            header = ndjson.columns(lines)
            line = _csv_line(header)
            result = csvscan.ScanResult(header=header, header_bytes=line)
            result.rows = entry.rows or 0
            result.parts.append(csvscan.Part(0, len(line), len(line), result.rows))
            return _ReadFile(source, result)
        stage_json_as_csv(s3, bucket, entry.key, entry.gzip, staged)
        source = {"bucket": bucket, "key": staged, "version_id": None, "gzipped": False}
    body, size = open_sized(s3, bucket, source["key"])
    limits = context.adapter.limits(context.limits)
    scan = csvscan.scan(
        body, bool(source.get("gzipped")), limits, compressed_size=size, deadline=context.deadline
    )
    return _ReadFile(source, scan)


def _csv_line(row: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue().encode()
