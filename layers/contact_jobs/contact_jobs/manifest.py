"""The backup manifest: what a backup holds, written last, read by verify and restore.

Schema 2 adds what a restore needs (the custom field definitions at backup time, what was exported, each
file's row count). Schema 1 manifests still read: their files carry no row count, so verify checks
everything else, and a restore maps columns through the target account's fields alone.
"""

import json
from dataclasses import asdict, dataclass
from typing import Any

from contact_jobs.errors import BackupUnreadable

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = "2"
READABLE_VERSIONS = ("1", "2")


@dataclass(frozen=True)
class ManifestFile:
    key: str
    bytes: int
    sha256: str
    gzip: bool
    rows: int | None = None  # schema 1: not recorded


@dataclass(frozen=True)
class FieldDefinition:
    name: str
    field_type: str  # Text, Number or Date, as SendGrid names them
    reserved: bool = False


@dataclass(frozen=True)
class ExportedGroup:
    id: str
    name: str | None = None


@dataclass(frozen=True)
class Manifest:
    provider: str
    job_id: str
    provider_job_id: str
    started_at: str
    completed_at: str
    file_type: str
    contact_count: int | None
    files: tuple[ManifestFile, ...]
    schema_version: str = SCHEMA_VERSION
    field_definitions: tuple[FieldDefinition, ...] = ()
    lists: tuple[ExportedGroup, ...] = ()
    segments: tuple[ExportedGroup, ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(entry.bytes for entry in self.files)

    def to_json(self) -> bytes:
        document: dict[str, Any] = {"schema_version": self.schema_version, "operation": "backup"}
        document.update((k, v) for k, v in asdict(self).items() if k != "schema_version")
        document["total_bytes"] = self.total_bytes
        return json.dumps(document, indent=2).encode()


def manifest_key(location: str) -> str:
    """A manifest's key from what a person gives: the key itself, or the backup's prefix."""
    if location.endswith(".json"):
        return location
    return f"{location.rstrip('/')}/{MANIFEST_NAME}"


def parse_manifest(key: str, body: bytes) -> Manifest:
    """The manifest at ``key``; ``BackupUnreadable`` names what is wrong with it."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupUnreadable(f"manifest {key} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BackupUnreadable(f"manifest {key} is not a JSON object")
    version = str(document.get("schema_version"))
    if version not in READABLE_VERSIONS:
        raise BackupUnreadable(
            f"manifest {key} has schema_version {version!r}; "
            f"this version reads {', '.join(READABLE_VERSIONS)}"
        )
    try:
        return _manifest(document, version)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupUnreadable(f"manifest {key} lacks or misstates {exc}") from None


def _manifest(document: dict[str, Any], version: str) -> Manifest:
    return Manifest(
        schema_version=version,
        provider=str(document["provider"]),
        job_id=str(document["job_id"]),
        provider_job_id=str(document["provider_job_id"]),
        started_at=str(document["started_at"]),
        completed_at=str(document["completed_at"]),
        file_type=str(document.get("file_type") or "csv"),
        contact_count=_optional_int(document.get("contact_count")),
        files=tuple(_file(entry) for entry in document["files"]),
        field_definitions=tuple(
            FieldDefinition(str(f["name"]), str(f["field_type"]), bool(f.get("reserved", False)))
            for f in document.get("field_definitions") or ()
        ),
        lists=_groups(document.get("lists")),
        segments=_groups(document.get("segments")),
    )


def _file(entry: dict[str, Any]) -> ManifestFile:
    return ManifestFile(
        key=str(entry["key"]),
        bytes=int(entry["bytes"]),
        sha256=str(entry["sha256"]),
        gzip=bool(entry["gzip"]),
        rows=_optional_int(entry.get("rows")),
    )


def _groups(raw: Any) -> tuple[ExportedGroup, ...]:
    return tuple(ExportedGroup(str(g["id"]), g.get("name")) for g in raw or ())


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
