"""Twilio SendGrid Marketing Contacts API (exports), as described in shared/specs/sendgrid."""

from datetime import datetime
from typing import Any

import requests

from contact_jobs.errors import TransientError
from contact_jobs.http import raise_for_status
from contact_jobs.providers.base import ExportRequest, ExportState, ExportStatus
from contact_jobs.timeutil import parse_timestamp

EXPORT_STATES = {"pending": ExportState.RUNNING, "ready": ExportState.READY, "failure": ExportState.FAILED}


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
