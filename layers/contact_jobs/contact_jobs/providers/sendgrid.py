"""Twilio SendGrid Marketing Contacts API (exports), as described in contracts/sendgrid."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from contact_jobs.errors import TransientError
from contact_jobs.http import raise_for_status
from contact_jobs.providers.base import ExportRequest, ExportState, ExportStatus
from contact_jobs.timeutil import parse_timestamp

IMPORT_TERMINAL = ("completed", "errored", "failed")
EXPORT_STATES = {"pending": ExportState.RUNNING, "ready": ExportState.READY, "failure": ExportState.FAILED}


@dataclass(frozen=True)
class ImportJob:
    job_id: str
    upload_uri: str
    upload_headers: dict[str, str]


@dataclass(frozen=True)
class ImportStatus:
    job_id: str
    status: str  # pending | completed | errored | failed (the spec's prose; the schema says any string)
    requested: int = 0
    created: int = 0
    updated: int = 0
    errored: int = 0
    errors_url: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in IMPORT_TERMINAL


class SendGridClient:
    name = "sendgrid"

    def __init__(self, api_base: str, api_key: str, session: requests.Session, timeout_s: float) -> None:
        self._base = api_base.rstrip("/")
        self._session = session
        self._timeout = timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def _call(self, method: str, path: str, what: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._session.request(
                method,
                f"{self._base}{path}",
                json=body,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # The message names the request, not the URL's query or our headers.
            raise TransientError(f"{what} failed: {type(exc).__name__}") from None
        raise_for_status(response, what)
        return response.json() if response.content else {}

    # Imports -------------------------------------------------------------------------------------

    def field_definitions(self) -> dict[str, Any]:
        definitions: dict[str, Any] = self._call(
            "GET", "/v3/marketing/field_definitions", "get field definitions"
        )
        return definitions

    def create_import(self, list_ids: list[str], field_mappings: list[str | None]) -> ImportJob:
        body: dict[str, Any] = {"file_type": "csv", "field_mappings": field_mappings}
        if list_ids:
            body["list_ids"] = list_ids
        created = self._call("PUT", "/v3/marketing/contacts/imports", "create import", body)
        headers = {str(item["header"]): str(item["value"]) for item in created.get("upload_headers") or []}
        return ImportJob(str(created["job_id"]), str(created["upload_uri"]), headers)

    def import_status(self, job_id: str) -> ImportStatus:
        body = self._call("GET", f"/v3/marketing/contacts/imports/{job_id}", "get import status")
        results = body.get("results") or {}
        return ImportStatus(
            job_id=job_id,
            status=str(body.get("status", "")),
            requested=int(results.get("requested_count") or 0),
            created=int(results.get("created_count") or 0),
            updated=int(results.get("updated_count") or 0),
            errored=int(results.get("errored_count") or 0),
            errors_url=results.get("errors_url") or None,
        )

    def check_list(self, list_id: str) -> None:
        """A missing list is a 404 that names it, before any contact is sent."""
        self._call("GET", f"/v3/marketing/lists/{list_id}", f"get list {list_id}")

    # Exports -------------------------------------------------------------------------------------

    def start_export(self, request: ExportRequest) -> str:
        """Join an export already in flight for the same lists and segments, else start one."""
        in_flight = self.find_export_in_flight(request)
        if in_flight:
            return in_flight
        body: dict[str, Any] = {"file_type": request.file_type, "max_file_size": request.max_file_size_mb}
        if request.list_ids:
            body["list_ids"] = list(request.list_ids)
        if request.segment_ids:
            body["segment_ids"] = list(request.segment_ids)
        created = self._call("POST", "/v3/marketing/contacts/exports", "create export", body)
        return str(created["id"])

    def list_exports(self) -> list[dict[str, Any]]:
        listed = self._call("GET", "/v3/marketing/contacts/exports", "list exports")
        result = listed.get("result") or []
        return [item for item in result if isinstance(item, dict)]

    def find_export_in_flight(self, request: ExportRequest) -> str | None:
        for item in self.list_exports():
            if item.get("status") != "pending":
                continue
            lists = {entry.get("ID") for entry in item.get("lists") or []}
            segments = {entry.get("ID") for entry in item.get("segments") or []}
            if lists == set(request.list_ids) and segments == set(request.segment_ids):
                return str(item["id"])
        return None

    def export_status(self, job_id: str) -> ExportStatus:
        body = self._call("GET", f"/v3/marketing/contacts/exports/{job_id}", "get export status")
        raw_status = str(body.get("status", ""))
        state = EXPORT_STATES.get(raw_status)
        if state is None:
            raise TransientError(f"get export status: unknown status {raw_status!r}")
        return ExportStatus(
            job_id=job_id,
            state=state,
            urls=tuple(str(url) for url in body.get("urls") or ()),
            expires_at=_maybe_time(body.get("expires_at")),
            created_at=_maybe_time(body.get("created_at")),
            contact_count=body.get("contact_count"),
            message=str(body.get("message") or ""),
        )


def _maybe_time(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) and value else None
