"""Which50 contact list imports, from contracts/which50/which50-api.yaml.

Undocumented by Which50 and so configuration here: the base URL, the authentication header and scheme,
and what ``CurrentStatus`` values mean. Finished is ``FinishDate`` set or ``ProgressPercent == 100``.
"""

from dataclasses import dataclass
from typing import Any

import requests

from contact_jobs.providers.api import Call, JsonApi, api_path

MAX_BATCH = 10_000  # contacts per push, per the contract
STATUS_MEANINGS = ("running", "finished", "failed")


@dataclass(frozen=True)
class Which50Settings:
    api_base: str
    secret_id: str
    auth_header: str
    auth_scheme: str
    status_map: dict[str, str]
    email_fields: tuple[str, ...]
    sms_fields: tuple[str, ...]
    batch_size: int
    batch_bytes: int = 4 * 1024 * 1024  # JSON body per push; Which50's limit is undocumented (ASP.NET: 4 MB)


@dataclass(frozen=True)
class Which50Auth:
    header: str = "Authorization"
    scheme: str = "Bearer"  # empty: the key alone is the header's value

    def headers(self, api_key: str) -> dict[str, str]:
        return {self.header: f"{self.scheme} {api_key}".strip()}


@dataclass(frozen=True)
class Which50Status:
    job_id: int
    status: str  # Which50's own CurrentStatus, as reported
    meaning: str | None  # from the configured mapping; None when the value is not in it
    finished: bool
    inserted: int
    updated: int
    not_updated: int
    dropped: int
    invalid_email: int
    invalid_sms: int
    total: int


class Which50Client:
    name = "which50"

    def __init__(self, api_base: str, api_key: str, auth: Which50Auth, status_map: dict[str, str],
                 session: requests.Session, timeout_s: float) -> None:  # fmt: skip
        self._api = JsonApi("Which50", api_base, auth.headers(api_key), session, timeout_s)
        self._status_map = {key.lower(): value for key, value in status_map.items()}

    def check_list(self, list_id: int) -> None:
        self._api.send(Call("get contact list", "GET", api_path("/contactLists/{}", list_id)))

    def create_import(self, list_id: int, field_names: list[str]) -> int:
        call = Call("create import job", "POST", api_path("/contactLists/{}/import", list_id))
        return self._api.read(call, {"FieldNames": field_names}).integer("Id")

    def push(self, list_id: int, job_id: int, contacts: list[dict[str, Any]]) -> None:
        if len(contacts) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} contacts, got {len(contacts)}")
        path = api_path("/contactLists/{}/import/{}", list_id, job_id)
        self._api.send(Call("push batch", "POST", path), contacts)  # the answer is undocumented: unread

    def run(self, list_id: int, job_id: int) -> None:
        """Nothing pushed is applied before this. ``customevents`` is never passed: it can fire journeys."""
        path = api_path("/contactLists/{}/import/{}/run", list_id, job_id)
        self._api.send(Call("run import job", "POST", path))

    def status(self, list_id: int, job_id: int) -> Which50Status:
        path = api_path("/contactLists/{}/import/{}", list_id, job_id)
        reply = self._api.read(Call("get import job", "GET", path))
        current = reply.optional_text("CurrentStatus") or ""
        meaning = self._status_map.get(current.lower())
        # FinishDate counts by its presence: Which50's date format is undocumented.
        finished = reply.optional_text("FinishDate") is not None or reply.count("ProgressPercent") == 100
        return Which50Status(
            job_id=job_id,
            status=current,
            meaning=meaning,
            finished=finished or meaning in ("finished", "failed"),
            inserted=reply.count("InsertedContacts"),
            updated=reply.count("UpdatedContacts"),
            not_updated=reply.count("NotUpdatedContacts"),
            dropped=reply.count("DroppedContacts"),
            invalid_email=reply.count("InvalidEmailCount"),
            invalid_sms=reply.count("InvalidSmsCount"),
            total=reply.count("TotalContacts"),
        )
