"""Which50 contact list imports, from contracts/which50/which50-api.yaml.

Undocumented by Which50 and so configuration here: the base URL, the authentication header and scheme,
and what ``CurrentStatus`` values mean. Finished is ``FinishDate`` set or ``ProgressPercent == 100``.
"""

from dataclasses import dataclass
from typing import Any

import requests

from contact_jobs.errors import TransientError
from contact_jobs.http import raise_for_status

MAX_BATCH = 10_000  # contacts per push, per the contract
STATUS_MEANINGS = ("running", "finished", "failed")


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
        self._base = api_base.rstrip("/")
        self._session = session
        self._timeout = timeout_s
        self._headers = {**auth.headers(api_key), "Accept": "application/json"}
        self._status_map = {key.lower(): value for key, value in status_map.items()}

    def _call(self, method: str, path: str, what: str, body: Any = None) -> Any:
        try:
            response = self._session.request(
                method, f"{self._base}{path}", json=body, headers=self._headers, timeout=self._timeout,
                allow_redirects=False,
            )  # fmt: skip
        except requests.RequestException as exc:
            raise TransientError(f"{what} failed: {type(exc).__name__}") from None
        raise_for_status(response, what)
        return response.json() if response.content else {}

    def check_list(self, list_id: int) -> None:
        self._call("GET", f"/contactLists/{list_id}", f"get contact list {list_id}")

    def create_import(self, list_id: int, field_names: list[str]) -> int:
        job = self._call(
            "POST", f"/contactLists/{list_id}/import", "create import job", {"FieldNames": field_names}
        )
        return int(job["Id"])

    def push(self, list_id: int, job_id: int, contacts: list[dict[str, Any]]) -> None:
        if len(contacts) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} contacts, got {len(contacts)}")
        self._call(
            "POST", f"/contactLists/{list_id}/import/{job_id}", f"push batch to import job {job_id}", contacts
        )

    def run(self, list_id: int, job_id: int) -> None:
        """Nothing pushed is applied before this. ``customevents`` is never passed: it can fire journeys."""
        self._call("POST", f"/contactLists/{list_id}/import/{job_id}/run", f"run import job {job_id}")

    def status(self, list_id: int, job_id: int) -> Which50Status:
        body = self._call("GET", f"/contactLists/{list_id}/import/{job_id}", f"get import job {job_id}")
        current = str(body.get("CurrentStatus") or "")
        meaning = self._status_map.get(current.lower())
        finished = bool(body.get("FinishDate")) or int(body.get("ProgressPercent") or 0) == 100
        return Which50Status(
            job_id=job_id,
            status=current,
            meaning=meaning,
            finished=finished or meaning in ("finished", "failed"),
            inserted=int(body.get("InsertedContacts") or 0),
            updated=int(body.get("UpdatedContacts") or 0),
            not_updated=int(body.get("NotUpdatedContacts") or 0),
            dropped=int(body.get("DroppedContacts") or 0),
            invalid_email=int(body.get("InvalidEmailCount") or 0),
            invalid_sms=int(body.get("InvalidSmsCount") or 0),
            total=int(body.get("TotalContacts") or 0),
        )
