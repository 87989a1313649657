"""Twilio SendGrid Marketing Contacts API (exports), as described in contracts/sendgrid."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from contact_jobs.errors import TransientError
from contact_jobs.providers.api import Call, JsonApi, Reply, api_path
from contact_jobs.providers.base import ExportRequest, ExportState, ExportStatus

IMPORT_TERMINAL = ("completed", "errored", "failed")
EXPORT_STATES = {"pending": ExportState.RUNNING, "ready": ExportState.READY, "failure": ExportState.FAILED}
IDENTIFIER_FIELDS = ("email", "phone_number_id", "external_id", "anonymous_id")  # an import needs one
FIELD_KINDS = ("reserved_fields", "custom_fields")
EXPORTS_PATH = "/v3/marketing/contacts/exports"  # POST starts an export, GET lists them
# Pages of the export list read before starting a new export: the list holds recent exports, so an
# in-flight one is near the front; a bound keeps a looping or endless list from holding the step.
EXPORT_LIST_MAX_PAGES = 10


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
        self._api = JsonApi("SendGrid", api_base, {"Authorization": f"Bearer {api_key}"}, session, timeout_s)
        self._api_base = api_base.rstrip("/")

    # Imports -------------------------------------------------------------------------------------

    def field_definitions(self) -> dict[str, list[dict[str, Any]]]:
        """Reserved and custom fields as ``{"name", "id", "read_only"}``; an answer that defines no
        identifier field is SendGrid's fault, not the file's, and is refused here."""
        reply = self._api.read(Call("get field definitions", "GET", "/v3/marketing/field_definitions"))
        definitions = {
            kind: [_definition(item) for item in reply.objects(kind, required=kind == "reserved_fields")]
            for kind in FIELD_KINDS
        }
        names = {definition["name"].lower() for definition in definitions["reserved_fields"]}
        if not names.intersection(IDENTIFIER_FIELDS):
            raise reply.problem("reserved_fields", f"defines none of {', '.join(IDENTIFIER_FIELDS)}")
        return definitions

    def create_import(self, list_ids: list[str], field_mappings: list[str | None]) -> ImportJob:
        body: dict[str, Any] = {"file_type": "csv", "field_mappings": field_mappings}
        if list_ids:
            body["list_ids"] = list_ids
        created = self._api.read(Call("create import", "PUT", "/v3/marketing/contacts/imports"), body)
        headers = {item.text("header"): item.text("value") for item in created.objects("upload_headers")}
        return ImportJob(created.text("job_id"), created.text("upload_uri"), headers)

    def import_status(self, job_id: str) -> ImportStatus:
        path = api_path("/v3/marketing/contacts/imports/{}", job_id)
        reply = self._api.read(Call("get import status", "GET", path))
        results = reply.object("results")  # absent while pending
        return ImportStatus(
            job_id=job_id,
            status=reply.text("status"),
            requested=results.count("requested_count"),
            created=results.count("created_count"),
            updated=results.count("updated_count"),
            errored=results.count("errored_count"),
            errors_url=results.optional_text("errors_url"),
        )

    def check_list(self, list_id: str) -> None:
        """A missing list is a 404 that names it, before any contact is sent."""
        self.list_name(list_id)

    def list_name(self, list_id: str) -> str | None:
        reply = self._api.read(Call("get list", "GET", api_path("/v3/marketing/lists/{}", list_id)))
        return reply.optional_text("name")

    def create_field_definition(self, name: str, field_type: str) -> dict[str, Any]:
        """A custom field, created with the type a backup recorded (a restore's create_missing_fields)."""
        call = Call("create field definition", "POST", "/v3/marketing/field_definitions")
        return _definition(self._api.read(call, {"name": name, "field_type": field_type}))

    # Exports -------------------------------------------------------------------------------------

    def start_export(self, request: ExportRequest) -> str:
        """Join an export in flight that is the same export (see ``same_export``), else start one."""
        in_flight = self.find_export_in_flight(request)
        if in_flight:
            return in_flight
        body: dict[str, Any] = {"file_type": request.file_type, "max_file_size": request.max_file_size_mb}
        if request.list_ids:
            body["list_ids"] = list(request.list_ids)
        if request.segment_ids:
            body["segment_ids"] = list(request.segment_ids)
        return self._api.read(Call("create export", "POST", EXPORTS_PATH), body).text("id")

    def list_exports(self) -> list[Reply]:
        """The recent exports, following ``_metadata.next`` for at most ``EXPORT_LIST_MAX_PAGES`` pages.
        Past the bound the rest is not read: an export not seen is not joined, which is safe (a new
        export is started). A next link off the API's host is refused, never followed."""
        items: list[Reply] = []
        call: Call | None = Call("list exports", "GET", EXPORTS_PATH)
        seen: set[str] = set()
        for page in range(1, EXPORT_LIST_MAX_PAGES + 1):
            if call is None or call.path in seen:  # no next page, or a link back to a page already read
                break
            seen.add(call.path)
            listed = self._api.read(call)
            items.extend(listed.objects("result"))
            call = self._next_page(listed, page + 1)
        return items

    def _next_page(self, listed: Reply, number: int) -> Call | None:
        link = listed.object("_metadata").optional_text("next")
        if link is None:
            return None
        path = self._api_relative(link)
        if path is None:
            raise listed.problem("_metadata.next", f"points off the API host ({_origin(link)}): not followed")
        return Call(f"list exports, page {number}", "GET", path)

    def _api_relative(self, link: str) -> str | None:
        """``link`` as a path under the API base, or None when it leads anywhere else (another scheme,
        host or port, or outside the base path): the API key is only ever sent to the API base."""
        base, target = urlsplit(self._api_base), urlsplit(link)
        same_origin = (target.scheme, target.netloc.lower()) == (base.scheme, base.netloc.lower())
        base_path = base.path.rstrip("/")
        if not same_origin or target.username or not target.path.startswith(f"{base_path}/"):
            return None
        relative = target.path[len(base_path) :]
        return f"{relative}?{target.query}" if target.query else relative

    def find_export_in_flight(self, request: ExportRequest) -> str | None:
        for item in self.list_exports():
            if item.optional_text("status") == "pending" and same_export(item, request):
                return item.text("id")
        return None

    def export_status(self, job_id: str) -> ExportStatus:
        call = Call("get export status", "GET", api_path("/v3/marketing/contacts/exports/{}", job_id))
        reply = self._api.read(call)
        raw_status = reply.text("status")
        state = EXPORT_STATES.get(raw_status)
        if state is None:
            raise TransientError(f"{call}: unknown status {raw_status!r}")
        return ExportStatus(
            job_id=job_id,
            state=state,
            urls=tuple(reply.texts("urls")),
            expires_at=reply.timestamp("expires_at"),
            created_at=reply.timestamp("created_at"),
            contact_count=reply.optional_integer("contact_count"),
            message=reply.optional_text("message") or "",
        )


def same_export(item: Reply, request: ExportRequest) -> bool:
    """Whether a listed export is the export ``request`` asks for: same lists and segments (as sets:
    their order does not change the export), same file type and same maximum file size.

    The contract's list answer carries lists and segments but neither ``file_type`` nor
    ``max_file_size``; when an item does not say them, they are unknown and the export is not joined
    (joining on an unknown stored CSV bytes as JSON, and one run's 1 MB split in a 5000 MB backup)."""
    lists = {entry.text("ID") for entry in item.objects("lists")}
    segments = {entry.text("ID") for entry in item.objects("segments")}
    return (
        lists == set(request.list_ids)
        and segments == set(request.segment_ids)
        and item.optional_text("file_type") == request.file_type
        and item.optional_integer("max_file_size") == request.max_file_size_mb
    )


def _origin(link: str) -> str:
    """Where a link leads, for an error message: scheme and host only (never its path or query)."""
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.hostname or ''}"


def _definition(item: Reply) -> dict[str, Any]:
    """A field that can be written needs its id (the import maps columns to ids); a read-only one not."""
    read_only = item.flag("read_only")
    field_id = item.optional_text("id") if read_only else item.text("id")
    return {
        "name": item.text("name"),
        "id": field_id,
        "read_only": read_only,
        "field_type": item.optional_text("field_type"),
    }
