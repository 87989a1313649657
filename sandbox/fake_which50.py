"""A fake Which50 on 127.0.0.1, following contracts/which50/which50-api.yaml.

Authentication is whatever header and scheme it is told (Which50 documents none); requests are validated
against the contract (a batch over 10,000 contacts is refused); pushed batches are applied only after
``/run``, with ``ProgressPercent`` rising over time; it can fail jobs, rate-limit, or refuse batches.
"""

import collections
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_core.exceptions import OpenAPIError
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.loopback import LoopbackFake
from sandbox.misbehaviour import Tamper, tampered
from sandbox.specs import contracts_dir

ROOT_PATH = "/Which50API"
KNOWN_LIST = 101
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}$")


@dataclass
class FakeWhich50Options:
    api_key: str = "w50-sandbox-key"
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    lists: tuple[int, ...] = (KNOWN_LIST,)
    existing_emails: frozenset[str] = frozenset()
    progress_s: float = 0.2  # from /run to ProgressPercent 100
    running_status: str = "Processing"
    finished_status: str = "Complete"
    fail_jobs: bool = False
    apply_nothing: bool = False  # /run finishes the job without applying a contact (counts stay 0)
    rate_limit_every: int = 0  # every Nth request answers 429 with Retry-After: retry_after_s
    retry_after_s: int = 1
    refuse_batches: dict[int, int] = field(default_factory=dict)  # batch number -> how many 500s first
    tamper: dict[str, Tamper] = field(default_factory=dict)  # endpoint -> how its 2xx answer is broken
    clock: Callable[[], float] = time.time  # what a job's progress is read against (tests move it by hand)


@dataclass
class ImportJob:
    id: int
    list_id: int
    field_names: list[str]
    started: float
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    run_at: float | None = None
    inserted: int = 0
    updated: int = 0
    not_updated: int = 0
    invalid_email: int = 0


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _message(status: int, message: str) -> Response:
    return _json({"Message": message}, status)


class FakeWhich50(LoopbackFake):
    root_path = ROOT_PATH

    ROUTES = Map(
        [
            Rule(f"{ROOT_PATH}/contactLists/<int:list_id>", methods=["GET"], endpoint="get_list"),
            Rule(f"{ROOT_PATH}/contactLists/<int:list_id>/import", methods=["POST"], endpoint="create_job"),
            Rule(
                f"{ROOT_PATH}/contactLists/<int:list_id>/import/<int:job_id>",
                methods=["POST"],
                endpoint="push",
            ),
            Rule(
                f"{ROOT_PATH}/contactLists/<int:list_id>/import/<int:job_id>",
                methods=["GET"],
                endpoint="status",
            ),
            Rule(
                f"{ROOT_PATH}/contactLists/<int:list_id>/import/<int:job_id>/run",
                methods=["POST"],
                endpoint="run",
            ),
        ]
    )

    def __init__(self, options: FakeWhich50Options | None = None) -> None:
        self.options = options or FakeWhich50Options()
        self.jobs: dict[int, ImportJob] = {}
        self.contacts: set[str] = set(self.options.existing_emails)
        self.received: collections.Counter[str] = collections.Counter()  # contacts received, by email
        self.batch_sizes: list[int] = []
        self.batch_body_bytes: list[int] = []  # each accepted push's request body, as received
        self.run_calls: list[int] = []
        self.statuses: list[int] = []
        self._ids = itertools.count(5001)
        self._calls = itertools.count(1)
        self._accepted_pushes = 0
        self._refusals: collections.Counter[int] = collections.Counter()
        self._lock = threading.Lock()
        self._openapi = _contract()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        response = self._dispatch(Request(environ))
        with self._lock:
            self.statuses.append(response.status_code)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = self.ROUTES.bind_to_environ(request.environ).match()
        except NotFound:
            return _message(404, "No HTTP resource was found that matches the request URI.")
        expected = f"{self.options.auth_scheme} {self.options.api_key}".strip()
        if request.headers.get(self.options.auth_header) != expected:
            return _message(401, "Authorization has been denied for this request.")
        every = self.options.rate_limit_every
        if every and next(self._calls) % every == 0:
            response = _message(429, "Too many requests")
            response.headers["Retry-After"] = str(self.options.retry_after_s)
            return response
        refused = self._validate(request)
        if refused:
            return refused
        answer: Response = getattr(self, f"_{endpoint}")(request, **args)
        return tampered(answer, self.options.tamper.get(endpoint))

    def _validate(self, request: Request) -> Response | None:
        try:
            self._openapi.validate_request(WerkzeugOpenAPIRequest(request))
        except OpenAPIError as exc:
            cause = exc.__cause__ or exc
            details = getattr(cause, "schema_errors", None) or []
            # jsonschema's message repeats the whole body; the rule broken says it in a few words.
            reasons = (
                "; ".join(f"{d.validator} {d.validator_value} broken" for d in details) or str(cause)[:300]
            )
            return _message(400, f"The request is invalid: {reasons}")
        return None

    # Endpoints -----------------------------------------------------------------------------------

    def _get_list(self, request: Request, list_id: int) -> Response:
        if list_id not in self.options.lists:
            return _message(404, "The specified Contactlist was not found.")
        return _json({"Id": list_id, "Name": f"List {list_id}", "Count": len(self.contacts)})

    def _create_job(self, request: Request, list_id: int) -> Response:
        if list_id not in self.options.lists:
            return _message(404, "The specified Contactlist was not found.")
        names = list((request.get_json(silent=True) or {}).get("FieldNames") or [])
        job = ImportJob(next(self._ids), list_id, names, self.options.clock())
        with self._lock:
            self.jobs[job.id] = job
        return _json(self._job_body(job))

    def _push(self, request: Request, list_id: int, job_id: int) -> Response:
        job = self.jobs.get(job_id)
        if job is None or job.list_id != list_id:
            return _message(404, "The specified Contactlist or ImportJob were not found.")
        if job.run_at is not None:
            return _message(400, "The ImportJob has already been run.")
        with self._lock:
            number = self._accepted_pushes + 1  # a refused batch keeps its number for the next try
            if self._refusals[number] < self.options.refuse_batches.get(number, 0):
                self._refusals[number] += 1
                return _message(500, "An error occurred while processing this request.")
            self._accepted_pushes = number
        contacts = request.get_json()
        with self._lock:
            job.batches.append(contacts)
            self.batch_sizes.append(len(contacts))
            self.batch_body_bytes.append(len(request.get_data()))
            self.received.update(str(c.get("Values", {}).get("Email", "")).lower() for c in contacts)
        return Response(status=200)

    def _run(self, request: Request, list_id: int, job_id: int) -> Response:
        job = self.jobs.get(job_id)
        if job is None or job.list_id != list_id:
            return _message(404, "The specified Contactlist or ImportJob were not found.")
        if request.args.get("customevents"):
            return _message(400, "customevents were passed: journeys would fire")
        with self._lock:
            self.run_calls.append(job_id)
            if job.run_at is None:
                job.run_at = self.options.clock()
                if not self.options.apply_nothing:
                    self._apply(job)
        return _json(self._job_body(job))

    def _apply(self, job: ImportJob) -> None:
        for contact in itertools.chain.from_iterable(job.batches):
            email = str(contact.get("Values", {}).get("Email", "")).strip().lower()
            if not EMAIL.match(email):
                job.invalid_email += 1
            elif email in self.contacts:
                job.updated += 1
            else:
                self.contacts.add(email)
                job.inserted += 1

    def _status(self, request: Request, list_id: int, job_id: int) -> Response:
        job = self.jobs.get(job_id)
        if job is None or job.list_id != list_id:
            return _message(404, "The specified Contactlist or ImportJob were not found.")
        return _json(self._job_body(job))

    def _job_body(self, job: ImportJob) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Id": job.id, "ContactListId": job.list_id, "StartDate": _iso(job.started), "ProgressPercent": 0,
            "CurrentStatus": "Created", "InvalidEmailCount": 0, "InvalidSmsCount": 0, "InsertedContacts": 0,
            "UpdatedContacts": 0, "DroppedContacts": 0, "NotUpdatedContacts": 0, "TotalContacts": 0,
        }  # fmt: skip
        if job.run_at is None:
            return body
        progress = min(
            100, int(100 * (self.options.clock() - job.run_at) / max(self.options.progress_s, 1e-6))
        )
        body.update(ProgressPercent=progress, CurrentStatus=self.options.running_status)
        if progress < 100:
            return body
        body.update(
            CurrentStatus="Failed" if self.options.fail_jobs else self.options.finished_status,
            FinishDate=_iso(job.run_at + self.options.progress_s),
            InvalidEmailCount=job.invalid_email,
            InsertedContacts=job.inserted,
            UpdatedContacts=job.updated,
            TotalContacts=job.inserted + job.updated,
        )
        return body


def _contract() -> OpenAPI:
    document: dict[str, Any] = yaml.safe_load((contracts_dir() / "which50" / "which50-api.yaml").read_text())
    document["servers"] = [{"url": ROOT_PATH}]  # the fake's root on 127.0.0.1, not the assumed host
    return OpenAPI.from_dict(document)
