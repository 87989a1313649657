"""What the workflow needs of a provider that can export contacts."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ExportState(StrEnum):
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class ExportRequest:
    list_ids: tuple[str, ...] = ()
    segment_ids: tuple[str, ...] = ()
    file_type: str = "csv"
    max_file_size_mb: int = 5000


@dataclass(frozen=True)
class ExportStatus:
    job_id: str
    state: ExportState
    urls: tuple[str, ...] = ()
    expires_at: datetime | None = None
    contact_count: int | None = None
    message: str = ""
    created_at: datetime | None = None


class ExportProvider(Protocol):
    name: str

    def start_export(self, request: ExportRequest) -> str:
        """Start an export, or join one in flight known to be the same export (lists, segments, file type
        and maximum file size all equal; any of them unknown: not joined); return its id."""
        ...

    def export_status(self, job_id: str) -> ExportStatus: ...

    def field_definitions(self) -> dict[str, list[dict[str, Any]]]:
        """``reserved_fields`` and ``custom_fields``, each ``{"name", "field_type", ...}``."""
        ...

    def list_name(self, list_id: str) -> str | None: ...
