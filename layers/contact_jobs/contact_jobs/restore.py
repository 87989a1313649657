"""A restore's plan: what is asked, which columns go where, which custom fields are made first.

A restore puts a verified backup's contacts back into a provider account through the import machinery
(the same send loop, waits, polls and error reports). What is decided here, before anything is sent: the
request (checked by name), the execution name (one restore request runs once), and, per backup file, the
columns: read-only fields are dropped, custom fields the target account lacks are created first (with the
type the manifest recorded) or skipped, each with a warning.
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contact_jobs import ndjson
from contact_jobs.csvscan import open_decompressed
from contact_jobs.errors import InvalidImportFile, InvalidRequest
from contact_jobs.manifest import FieldDefinition, Manifest
from contact_jobs.streams import ChunksReader, open_object

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


def restore_request(state: dict[str, Any], restorable: tuple[str, ...]) -> RestoreRequest:
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
        manifest_key=manifest_key.strip(),
        list_id=None if list_id == NO_LIST else list_id,
        create_missing_fields=_flag(state, "create_missing_fields"),
        dry_run=_flag(state, "dry_run"),
    )


def _flag(state: dict[str, Any], name: str) -> bool:
    value = state.get(name, False)
    if not isinstance(value, bool):
        raise InvalidRequest(f"{name} must be true or false, got {value!r}")
    return value


def restore_execution_name(provider: str, manifest_key: str, list_id: str | None) -> str:
    """One name per (backup, target): a repeated request joins the execution or is refused by name.
    Readable where it fits, unique through a digest of the whole."""
    target = list_id or NO_LIST
    digest = hashlib.sha256(f"{provider}\n{manifest_key}\n{target}".encode()).hexdigest()[:16]
    job = manifest_key.rstrip("/").removesuffix("/manifest.json").rsplit("/", 1)[-1]
    readable = UNSAFE_NAME.sub("-", f"restore-{provider}-{job}").strip("-")
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
    missing = [recorded[c.strip().lower()] for c in header if c.strip().lower() in recorded]
    missing = [field for field in missing if field.name.lower() not in known]
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
