"""A fake Twilio SendGrid on 127.0.0.1, following the official OpenAPI documents in contracts/sendgrid.

Every API request is checked for the bearer key and validated against the spec (a request the spec
forbids gets a 400 in SendGrid's error shape). Exports go pending -> ready (or failure) after a set time
and are served, gzip and split by ``max_file_size``, from signed URLs that expire like S3 presigned URLs.

The account behind it (``FakeSendGrid.account``, a ``SendGridAccount``) holds field definitions, lists
and contacts: imports upsert into it and exports are rendered from it. An account nobody has seeded or
imported into is *synthetic*: its exports hold ``options.contacts`` generated contacts in the original
nine-column layout, whatever lists they name (what the backup tests and benchmarks were built on).
"""

import csv
import gzip
import hashlib
import hmac
import io
import itertools
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_core.exceptions import OpenAPIError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.contacts import EMAIL_DOMAIN, export_files, seed_account
from sandbox.loopback import LoopbackFake
from sandbox.misbehaviour import Tamper, tampered
from sandbox.sendgrid_account import FieldDefinition, FieldDefinitionError, SendGridAccount
from sandbox.specs import sendgrid_contracts

DAY = 24 * 3600
KNOWN_LIST = "3c4b8a52-4f0e-4d5b-8f7a-2b1c9d0e6f11"
UPLOAD_HEADERS = {"x-amz-server-side-encryption": "AES256"}  # what SendGrid's upload_headers typically hold


@dataclass
class FakeSendGridOptions:
    api_key: str = "SG.sandbox-key"
    email_domain: str = EMAIL_DOMAIN  # of the contacts it exports
    contacts: int = 1000  # of a synthetic account (never seeded nor imported into): its exports hold these
    # None: the account starts synthetic. A number: it starts stateful with that many contacts from
    # sandbox.contacts.seed_account (custom fields of each type, values that need CSV quoting); 0: empty
    # (no contacts, only the default custom field: a restore's target).
    seed_contacts: int | None = None
    export_ready_after_s: float = 0.2
    fail_exports: bool = False
    # The first export's URLs and expires_at lapse this long after it is ready (later ones: export_ttl_s).
    expire_first_export_after_s: float | None = None
    export_ttl_s: float = 3 * DAY
    url_ttl_s: float = 3600  # lifetime of one signed URL; the status call signs fresh ones
    rate_limit_every: int = 0  # every Nth API request answers 429 (0: never)
    rate_limit_reset_s: int = 1
    rate_limit_calls: frozenset[int] = frozenset()  # these API requests (1-based) answer 429 too
    server_error_every: int = 0  # every Nth API request answers 500 (0: never)
    gzip_files: bool = True
    import_ready_after_s: float = 0.1
    apply_before_answer_s: float = 10.0  # an upload is answered once applied, or after this (then pending)
    fail_imports: bool = False
    lose_upload_answers: int = 0  # the first N uploads are applied, then answered 500 (the answer is lost)
    refuse_error_reports: bool = False  # an import's errors_url answers 403, as a lapsed S3 URL does
    lists: tuple[str, ...] = (KNOWN_LIST,)  # the account's lists at start (more: POST /v3/marketing/lists)
    existing_emails: frozenset[str] = frozenset()  # contacts already in the account: updated, not created
    tamper: dict[str, Tamper] = field(default_factory=dict)  # endpoint -> how its 2xx answer is broken
    # Exports -------------------------------------------------------------------------------------
    export_list_page_size: int = 0  # exports per page of the list, linked by _metadata.next (0: one page)
    # Export requests (POST bodies) already in flight in the account when the fake starts: pending until
    # their status is first asked for by id (a run that joins one then sees it ready).
    pending_exports: tuple[dict[str, Any], ...] = ()
    # The list's items say the file_type and max_file_size they were asked with. The contract's list
    # answer carries neither: off by default, so the fake answers as the contract says.
    list_shows_export_request: bool = False
    serve_without_content_length: bool = False  # downloads sent without Content-Length (chunked)
    truncate_after_bytes: int | None = None  # downloads cut short after this many bytes, as if complete
    # Per file (0-based index) of the first export: its first download is this slow (whole body, seconds)
    # or answers 404 every time (a copy that fails for good). For races between sibling copies.
    slow_first_download_s: dict[int, float] = field(default_factory=dict)
    missing_files: frozenset[int] = frozenset()
    # The first request for this file of the first export makes the export expire at once (the request
    # itself is answered: its URL was signed before): copies that start later find the export expired.
    expire_first_export_on_download: int | None = None
    distinct_exports: bool = False  # each export's gzip files differ in bytes (header mtime), as real ones do


@dataclass
class Export:
    id: str
    request: dict[str, Any]
    created_at: float
    ready_at: float
    expires_at: float
    failed: bool
    files: list[bytes] = field(default_factory=list)
    contact_count: int = 0
    ready_when_checked: bool = False  # pending until its status is asked for by id (pre-existing ones)


@dataclass
class ImportJob:
    id: str
    field_mappings: list[str | None]
    list_ids: list[str]
    created_at: float
    uploaded_at: float | None = None
    received_sha256: str | None = None
    received_bytes: int = 0
    requested: int = 0
    created: int = 0
    updated: int = 0
    errors_csv: bytes = b""
    problem: str = ""  # why the upload was refused, for tests
    unreadable: str = ""  # why the uploaded file could not be read (not gzip, not UTF-8): the import fails

    @property
    def errored(self) -> int:
        return max(0, self.errors_csv.count(b"\n") - 1)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: Any
    authorization: bool
    status: int
    target: str = ""  # the request target as sent (still percent-encoded)


class _HashingReader(io.RawIOBase):
    """A binary stream that hashes what is read through it (the import's uncompressed bytes)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        self.sha256.update(data)
        return len(data)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _errors(status: int, message: str, field_name: str | None = None) -> Response:
    body = {"errors": [{"field": field_name, "message": message}]}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class FakeSendGrid(LoopbackFake):
    API_ROUTES = Map(
        [
            Rule("/v3/marketing/contacts/exports", methods=["POST"], endpoint="create_export"),
            Rule("/v3/marketing/contacts/exports", methods=["GET"], endpoint="list_exports"),
            Rule("/v3/marketing/contacts/exports/<export_id>", methods=["GET"], endpoint="export_status"),
            Rule("/files/<export_id>/<int:index>", methods=["GET"], endpoint="download"),
            Rule("/v3/marketing/field_definitions", methods=["GET"], endpoint="field_definitions"),
            Rule("/v3/marketing/field_definitions", methods=["POST"], endpoint="create_field"),
            Rule("/v3/marketing/lists", methods=["GET"], endpoint="list_lists"),
            Rule("/v3/marketing/lists", methods=["POST"], endpoint="create_list"),
            Rule("/v3/marketing/lists/<list_id>", methods=["GET"], endpoint="get_list"),
            Rule("/v3/marketing/contacts/imports", methods=["PUT"], endpoint="create_import"),
            Rule("/v3/marketing/contacts/imports/<import_id>", methods=["GET"], endpoint="import_status"),
            Rule("/uploads/<import_id>", methods=["PUT"], endpoint="upload"),
            Rule("/import-errors/<import_id>", methods=["GET"], endpoint="import_errors"),
        ]
    )

    def __init__(self, options: FakeSendGridOptions | None = None) -> None:
        self.options = options or FakeSendGridOptions()
        self.exports: dict[str, Export] = {}
        self.imports: dict[str, ImportJob] = {}
        self.account = SendGridAccount(self.options.lists)
        if self.options.seed_contacts:
            seed_account(self.account, self.options.seed_contacts, self.options.email_domain)
        self.account.written = self.options.seed_contacts is not None
        if self.options.existing_emails:
            email = [self.account.field_named("email")]
            self.account.apply_rows(email, ([e] for e in sorted(self.options.existing_emails)), [])
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._api_calls = itertools.count(1)
        self._signing_key = secrets.token_bytes(32)
        self._downloads_started: dict[tuple[str, int], int] = {}
        self._uploads_answered = 0
        self._created_exports = 0
        for body in self.options.pending_exports:
            self._add_pending_export(body)

    def _add_pending_export(self, body: dict[str, Any]) -> None:
        now = time.time()
        export = Export(
            str(uuid.uuid4()), dict(body), now, now + DAY, now + DAY + self.options.export_ttl_s, False
        )
        export.ready_when_checked = True
        self.exports[export.id] = export

    # Server lifecycle ----------------------------------------------------------------------------

    # Inspection for tests ------------------------------------------------------------------------

    @property
    def contacts(self) -> set[str]:
        """The emails of the account's contacts."""
        return self.account.emails()

    def api_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/v3/")]

    def download_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/files/")]

    def served_sha256(self, export_id: str) -> list[str]:
        return [hashlib.sha256(data).hexdigest() for data in self._ready_files(self.exports[export_id])]

    # WSGI ----------------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        body = request.get_data(cache=True)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body[:200]
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.path,
                    parsed,
                    "Authorization" in request.headers,
                    response.status_code,
                    environ.get("RAW_URI") or environ.get("REQUEST_URI") or "",
                )
            )
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        adapter = self.API_ROUTES.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return _errors(404, "resource not found")
        except HTTPException as exc:
            return _errors(exc.code or 400, exc.description or "bad request")
        if endpoint in ("download", "upload", "import_errors"):  # presigned: no API key, a signature
            response: Response = getattr(self, f"_{endpoint}")(request, **args)
            return response
        refused = self._refuse_api_request(request)
        if refused:
            return refused
        answer: Response = getattr(self, f"_{endpoint}")(request, **args)
        return tampered(answer, self.options.tamper.get(endpoint))

    def _refuse_api_request(self, request: Request) -> Response | None:
        """Authentication, rate limit and the spec, in the order SendGrid applies them."""
        if request.headers.get("Authorization") != f"Bearer {self.options.api_key}":
            return _errors(401, "authorization required")
        call = next(self._api_calls)
        every = self.options.rate_limit_every
        if (every and call % every == 0) or call in self.options.rate_limit_calls:
            response = _errors(429, "too many requests")
            response.headers["X-RateLimit-Limit"] = "600"
            response.headers["X-RateLimit-Remaining"] = "0"
            response.headers["X-RateLimit-Reset"] = str(int(time.time()) + self.options.rate_limit_reset_s)
            return response
        if self.options.server_error_every and call % self.options.server_error_every == 0:
            return _errors(500, "internal server error")
        return self._validate(request)

    @staticmethod
    def _validate(request: Request) -> Response | None:
        wrapped = WerkzeugOpenAPIRequest(request)
        for contract in sendgrid_contracts():
            try:
                contract.openapi.validate_request(wrapped)
                return None
            except OpenAPIError as exc:
                if "Path not found" in str(exc) or type(exc).__name__ in ("PathNotFound", "ServerNotFound"):
                    continue
                cause = exc.__cause__ or exc
                details = getattr(cause, "schema_errors", None) or []
                message = "; ".join(str(getattr(d, "message", d)) for d in details) or str(cause)
                return _errors(400, message)
        return _errors(404, "resource not found")

    # Exports -------------------------------------------------------------------------------------

    def _create_export(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        unknown = self._unknown_selection(body)
        if unknown:
            return _errors(404, unknown, "list_ids" if "list" in unknown else "segment_ids")
        now = time.time()
        first = self._created_exports == 0  # pre-existing exports do not count
        self._created_exports += 1
        ready_at = now + self.options.export_ready_after_s
        lapse = self.options.expire_first_export_after_s
        expires_at = ready_at + (lapse if first and lapse is not None else self.options.export_ttl_s)
        export = Export(
            id=str(uuid.uuid4()),
            request=body,
            created_at=now,
            ready_at=ready_at,
            expires_at=expires_at,
            failed=self.options.fail_exports,
        )
        with self._lock:
            self.exports[export.id] = export
        return _json(
            {"id": export.id, "_metadata": {"self": f"{self.base_url}{request.path}/{export.id}"}}, 202
        )

    def _unknown_selection(self, body: dict[str, Any]) -> str:
        """Why a (stateful) account cannot export these lists or segments; synthetic ones export any."""
        if not self.account.written:
            return ""
        for list_id in body.get("list_ids") or []:
            if self.account.get_list(list_id) is None:
                return f"list ID {list_id} does not exist"
        for segment_id in body.get("segment_ids") or []:
            if self.account.get_segment(segment_id) is None:
                return f"segment ID {segment_id} does not exist"
        return ""

    def _list_name(self, list_id: str) -> str:
        found = self.account.get_list(list_id)
        return found.name if found else f"list {list_id[:8]}"

    def _segment_name(self, segment_id: str) -> str:
        found = self.account.get_segment(segment_id)
        return found.name if found else f"segment {segment_id[:8]}"

    def _status_of(self, export: Export) -> dict[str, Any]:
        now = time.time()
        body: dict[str, Any] = {
            "id": export.id,
            "created_at": _iso(export.created_at),
            "updated_at": _iso(min(now, export.ready_at)),
            "expires_at": _iso(export.expires_at),
            "export_type": self._export_type(export.request),
            "lists": [{"ID": i, "Name": self._list_name(i)} for i in export.request.get("list_ids") or []],
            "segments": [
                {"ID": i, "Name": self._segment_name(i)} for i in export.request.get("segment_ids") or []
            ],
        }
        if now < export.ready_at:
            return {**body, "status": "pending"}
        if export.failed:
            return {
                **body,
                "status": "failure",
                "message": "export failed: the export job could not be completed",
            }
        files = self._ready_files(export)
        url_expiry = min(now + self.options.url_ttl_s, export.expires_at)
        return {
            **body,
            "status": "ready",
            "completed_at": _iso(export.ready_at),
            "contact_count": export.contact_count,
            "urls": [self._signed_url(export.id, index, url_expiry) for index in range(len(files))],
        }

    @staticmethod
    def _export_type(request: dict[str, Any]) -> str:
        if request.get("list_ids"):
            return "list_export"
        return "segment_export" if request.get("segment_ids") else "contacts_export"

    def _export_status(self, request: Request, export_id: str) -> Response:
        export = self.exports.get(export_id)
        if export is None:
            return _errors(404, "export not found", "id")
        if export.ready_when_checked:
            export.ready_when_checked = False
            export.ready_at = min(export.ready_at, time.time())
        return _json(self._status_of(export))

    def _list_exports(self, request: Request) -> Response:
        """One page of exports; ``page_token`` (in the ``_metadata.next`` link) says where it starts."""
        exports = list(self.exports.values())
        size = self.options.export_list_page_size or max(len(exports), 1)
        token = request.args.get("page_token", "0")
        start = int(token) if token.isdigit() else 0
        result = [self._listed(export) for export in exports[start : start + size]]
        link = f"{self.base_url}{request.path}"
        metadata = {"self": f"{link}?page_token={start}" if start else link}
        if start + size < len(exports):
            metadata["next"] = f"{link}?page_token={start + size}"
        if start:
            metadata["prev"] = f"{link}?page_token={max(start - size, 0)}"
        return _json({"result": result, "_metadata": metadata})

    def _listed(self, export: Export) -> dict[str, Any]:
        item = self._status_of(export)
        if self.options.list_shows_export_request:
            item["file_type"] = str(export.request.get("file_type") or "csv")
            item["max_file_size"] = int(export.request.get("max_file_size") or 5000)
        return item

    def _ready_files(self, export: Export) -> list[bytes]:
        with self._lock:
            if not export.files and self.account.written:
                self._render_from_account(export)
            if not export.files:
                max_mb = int(export.request.get("max_file_size") or 5000)
                file_type = str(export.request.get("file_type") or "csv")
                csv_files = export_files(
                    self.options.contacts, max_mb * 1024 * 1024, file_type, self.options.email_domain
                )
                export.contact_count = self.options.contacts
                mtime = list(self.exports).index(export.id) if self.options.distinct_exports else 0
                export.files = [
                    gzip.compress(data, mtime=mtime) if self.options.gzip_files else data
                    for data in csv_files
                ]
            return export.files

    def _render_from_account(self, export: Export) -> None:
        request = export.request
        export.files, export.contact_count = self.account.render_export(
            str(request.get("file_type") or "csv"),
            int(request.get("max_file_size") or 5000) * 1024 * 1024,
            self.account.selection(request.get("list_ids") or (), request.get("segment_ids") or ()),
            self.options.gzip_files,
            mtime=list(self.exports).index(export.id) + 1 if self.options.distinct_exports else 0,
        )

    # Downloads: signed, expiring, unauthenticated (like S3 presigned URLs) -----------------------

    def _signature(self, export_id: str, index: int, expires: int) -> str:
        message = f"{export_id}/{index}/{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def _signed_url(self, export_id: str, index: int, expires_at: float) -> str:
        expires = int(expires_at)
        signature = self._signature(export_id, index, expires)
        return f"{self.base_url}/files/{export_id}/{index}?Expires={expires}&Signature={signature}"

    def _download(self, request: Request, export_id: str, index: int) -> Response:
        expires = int(request.args.get("Expires", "0") or 0)
        signature = request.args.get("Signature", "")
        if not hmac.compare_digest(signature, self._signature(export_id, index, expires)):
            return Response(
                "<Error><Code>SignatureDoesNotMatch</Code></Error>", 403, mimetype="application/xml"
            )
        if time.time() >= expires:
            return Response(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                403,
                mimetype="application/xml",
            )
        first_export = next(iter(self.exports)) == export_id
        first_download = first_export and self._first_download(export_id, index)
        if first_download and index == self.options.expire_first_export_on_download:
            export = self.exports[export_id]
            export.expires_at = min(export.expires_at, time.time())
        if first_export and index in self.options.missing_files:
            return Response("<Error><Code>NoSuchKey</Code></Error>", 404, mimetype="application/xml")
        data = self._ready_files(self.exports[export_id])[index]
        if first_download:
            time.sleep(self.options.slow_first_download_s.get(index, 0))
        return self._file_response(data)

    def _file_response(self, data: bytes) -> Response:
        """A file as S3 serves it, or misbehaving as asked: no Content-Length, or cut short."""
        cut = self.options.truncate_after_bytes
        sent = data if cut is None else data[:cut]
        if self.options.serve_without_content_length:
            # An iterable body: werkzeug sends it chunked, and the client cannot tell it was cut short.
            return Response(iter([sent]), 200, mimetype="application/octet-stream")
        response = Response(sent, 200, mimetype="application/octet-stream")
        response.headers["Content-Length"] = str(len(data))  # the whole file's, even when cut short
        if len(sent) < len(data):
            response.headers["Connection"] = "close"  # the socket ends where the bytes do
        return response

    def _first_download(self, export_id: str, index: int) -> bool:
        with self._lock:
            started = self._downloads_started.get((export_id, index), 0)
            self._downloads_started[(export_id, index)] = started + 1
        return started == 0

    # Imports: field definitions, lists, import jobs and their presigned upload URL -----------------

    def _field_definitions(self, request: Request) -> Response:
        definitions = self.account.field_definitions()
        return _json({**definitions, "_metadata": {"self": f"{self.base_url}{request.path}"}})

    def _create_field(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            field = self.account.create_field(str(body["name"]), str(body["field_type"]))
        except FieldDefinitionError as exc:
            return _errors(400, str(exc), "name")
        link = f"{self.base_url}{request.path}/{field.id}"
        return _json({**field.as_json(), "_metadata": {"self": link}})

    def _list_body(self, list_id: str) -> dict[str, Any]:
        return {
            "id": list_id,
            "name": self._list_name(list_id),
            "contact_count": self.account.list_count(list_id),
            "_metadata": {"self": f"{self.base_url}/v3/marketing/lists/{list_id}"},
        }

    def _get_list(self, request: Request, list_id: str) -> Response:
        if self.account.get_list(list_id) is None:  # this endpoint's 404 is a bare list of errors (its spec)
            return _json([{"field": "id", "message": "list ID does not exist"}], 404)
        return _json(self._list_body(list_id))

    def _list_lists(self, request: Request) -> Response:
        """One page of lists (``page_size``, default 100); ``page_token`` says where it starts."""
        lists = self.account.lists()
        size = int(float(request.args.get("page_size", "100")))
        token = request.args.get("page_token", "0")
        start = int(token) if token.isdigit() else 0
        link = f"{self.base_url}{request.path}?page_size={size}"
        metadata: dict[str, Any] = {"self": f"{link}&page_token={start}", "count": len(lists)}
        if start + size < len(lists):
            metadata["next"] = f"{link}&page_token={start + size}"
        if start:
            metadata["prev"] = f"{link}&page_token={max(start - size, 0)}"
        page = [self._list_body(item.id) for item in lists[start : start + size]]
        return _json({"result": page, "_metadata": metadata})

    def _create_list(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        name = str(body["name"])
        if any(item.name == name for item in self.account.lists()):
            return _errors(400, f"a list named {name!r} already exists", "name")
        return _json(self._list_body(self.account.add_list(name).id), 201)

    def _mapped_fields(self, mappings: list[str | None]) -> tuple[list[FieldDefinition | None], str]:
        """The field definitions an import's ``field_mappings`` name, or why the API refuses them."""
        fields = [None if field_id is None else self.account.field(field_id) for field_id in mappings]
        for field_id, definition in zip(mappings, fields, strict=True):
            if field_id is not None and definition is None:
                return fields, f"field_mappings: no field with id {field_id!r}"
            if definition is not None and definition.read_only:
                return fields, f"field_mappings: field {definition.name!r} is read-only"
        return fields, ""

    def _create_import(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        for list_id in body.get("list_ids") or []:
            if self.account.get_list(list_id) is None:
                return _errors(404, f"list ID {list_id} does not exist", "list_ids")
        _, refused = self._mapped_fields(list(body["field_mappings"]))
        if refused:
            return _errors(400, refused, "field_mappings")
        job = ImportJob(
            str(uuid.uuid4()), list(body["field_mappings"]), list(body.get("list_ids") or []), time.time()
        )
        with self._lock:
            self.imports[job.id] = job
        expires = int(time.time() + self.options.url_ttl_s)
        return _json(
            {
                "job_id": job.id,
                "upload_uri": f"{self.base_url}/uploads/{job.id}?Expires={expires}"
                f"&Signature={self._signature(job.id, -1, expires)}",
                "upload_headers": [
                    {"header": name, "value": value} for name, value in UPLOAD_HEADERS.items()
                ],
            }
        )

    def _upload(self, request: Request, import_id: str) -> Response:
        job = self.imports.get(import_id)
        refused = self._refuse_upload(request, job)
        if refused or job is None:
            if job is not None:
                job.problem = refused.get_data(as_text=True) if refused else ""
            return refused or Response(status=404)
        data = request.get_data()
        job.received_bytes = len(data)
        # Applied on a thread, as SendGrid applies imports after the upload: a million rows outlast an
        # upload's timeout. A small file is applied before the answer, so its status is known at once.
        worker = threading.Thread(target=self._apply_upload, args=(job, data), daemon=True)
        worker.start()
        worker.join(self.options.apply_before_answer_s)
        with self._lock:
            self._uploads_answered += 1
            lost = self._uploads_answered <= self.options.lose_upload_answers
        if lost:
            return Response("<Error><Code>InternalError</Code></Error>", 500, mimetype="application/xml")
        return Response(status=200)

    def _refuse_upload(self, request: Request, job: ImportJob | None) -> Response | None:
        expires = int(request.args.get("Expires", "0") or 0)
        signature = request.args.get("Signature", "")
        if job is None or not hmac.compare_digest(signature, self._signature(job.id, -1, expires)):
            return Response(
                "<Error><Code>SignatureDoesNotMatch</Code></Error>", 403, mimetype="application/xml"
            )
        if "Authorization" in request.headers:
            return Response(
                "<Error><Code>InvalidArgument</Code><Message>one auth mechanism only</Message></Error>",
                400,
                mimetype="application/xml",
            )
        missing = [name for name, value in UPLOAD_HEADERS.items() if request.headers.get(name) != value]
        if missing:
            return Response(
                f"<Error><Code>AccessDenied</Code><Message>missing {missing}</Message></Error>", 403
            )
        if request.headers.get("Transfer-Encoding") or request.content_length is None:
            return Response(
                "<Error><Code>MissingContentLength</Code></Error>", 411, mimetype="application/xml"
            )
        if "multipart/form-data" in (request.content_type or ""):
            return Response("<Error><Code>InvalidRequest</Code></Error>", 400, mimetype="application/xml")
        return None

    def _apply_upload(self, job: ImportJob, data: bytes) -> None:
        """Upsert the uploaded rows into the account by email, as SendGrid does, streaming (a million
        rows are never one string); rows it refuses (no valid email, a value that does not fit its
        field's type) go to the errors file; a file it cannot read fails the import."""
        fields, _ = self._mapped_fields(job.field_mappings)
        raw = _HashingReader(
            gzip.GzipFile(fileobj=io.BytesIO(data)) if data[:2] == b"\x1f\x8b" else io.BytesIO(data)
        )
        text = io.TextIOWrapper(io.BufferedReader(raw, 1 << 20), encoding="utf-8-sig", newline="")
        try:
            rows = csv.reader(text)
            next(rows, None)  # the header: the mapping says what each column is
            outcome = self.account.apply_rows(fields, rows, job.list_ids)
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            job.unreadable = f"{type(exc).__name__}: {exc}"
        else:
            errors = io.StringIO()
            writer = csv.writer(errors, lineterminator="\n")
            writer.writerow(["row", "error"])
            writer.writerows(outcome.errors)
            job.created += outcome.created  # a second upload to the same URL counts again, as before
            job.updated += outcome.updated
            job.requested += outcome.created + outcome.updated + len(outcome.errors)
            job.errors_csv = errors.getvalue().encode()
        job.received_sha256 = raw.sha256.hexdigest()
        job.uploaded_at = time.time()

    def _import_status(self, request: Request, import_id: str) -> Response:
        job = self.imports.get(import_id)
        if job is None:
            return _errors(404, "import job not found", "id")
        body: dict[str, Any] = {"id": job.id, "job_type": "upsert", "started_at": _iso(job.created_at)}
        if job.uploaded_at is None or time.time() < job.uploaded_at + self.options.import_ready_after_s:
            return _json({**body, "status": "pending"})
        failed = self.options.fail_imports or job.unreadable
        status = "failed" if failed else ("errored" if job.errored else "completed")
        results: dict[str, Any] = {
            "requested_count": job.requested,
            "created_count": job.created,
            "updated_count": job.updated,
            "deleted_count": 0,
            "errored_count": job.errored,
        }
        if job.errored or status == "failed":
            expires = int(time.time() + self.options.url_ttl_s)
            results["errors_url"] = (
                f"{self.base_url}/import-errors/{job.id}?Expires={expires}"
                f"&Signature={self._signature(job.id, -2, expires)}"
            )
        return _json({**body, "status": status, "results": results, "finished_at": _iso(job.uploaded_at)})

    def _import_errors(self, request: Request, import_id: str) -> Response:
        expires = int(request.args.get("Expires", "0") or 0)
        job = self.imports.get(import_id)
        if job is None or not hmac.compare_digest(
            request.args.get("Signature", ""), self._signature(import_id, -2, expires)
        ):
            return Response(
                "<Error><Code>SignatureDoesNotMatch</Code></Error>", 403, mimetype="application/xml"
            )
        if time.time() >= expires or self.options.refuse_error_reports:
            return Response("<Error><Code>AccessDenied</Code></Error>", 403, mimetype="application/xml")
        return Response(
            job.errors_csv, 200, mimetype="text/csv", headers={"Content-Length": str(len(job.errors_csv))}
        )
