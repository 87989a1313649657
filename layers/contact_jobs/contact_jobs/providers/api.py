"""How the provider clients call their JSON APIs and read the answers.

A request is named by what it does, its method and its path (never the base URL, a query or the headers,
which carry the API key). Path segments taken from data are percent-encoded, so ``abc#2`` stays one id.
Answers are read through ``Reply``: a body that is not JSON, a missing field, a field of the wrong type
or an unparseable timestamp is a ``ProviderError`` that names the request and the field, not a bare
KeyError or ValueError from deep inside a step.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from contact_jobs.errors import ProviderError, TransientError
from contact_jobs.http import raise_for_status
from contact_jobs.timeutil import parse_timestamp

SHOWN_VALUE_CHARS = 60  # of a malformed value, in an error message


def api_path(template: str, *segments: object) -> str:
    """``template`` with each ``{}`` replaced by one percent-encoded path segment."""
    return template.format(*(quote(str(segment), safe="") for segment in segments))


@dataclass(frozen=True)
class Call:
    what: str  # what the request does, in words: "create import"
    method: str
    path: str  # relative to the API base, built with ``api_path``

    def __str__(self) -> str:
        return f"{self.what} ({self.method} {self.path})"


class JsonApi:
    """One provider's API: base URL, headers (with the key), session and timeout, used the same way by
    every client (a new provider's client is its calls and how it reads their answers, not its HTTP)."""

    def __init__(
        self, provider: str, base: str, headers: dict[str, str], session: requests.Session, timeout_s: float
    ) -> None:
        self.provider = provider
        self._base = base.rstrip("/")
        self._headers = {**headers, "Accept": "application/json"}
        self._session = session
        self._timeout = timeout_s

    def send(self, call: Call, body: Any = None) -> requests.Response:
        """Make the request; any answer but a 2xx raises, naming the call and the provider's reason."""
        try:
            response = self._session.request(
                call.method, f"{self._base}{call.path}", json=body, headers=self._headers,
                timeout=self._timeout, allow_redirects=False,
            )  # fmt: skip
        except requests.RequestException as exc:
            raise TransientError(f"{call} failed: {type(exc).__name__}") from None
        raise_for_status(response, str(call))
        return response

    def read(self, call: Call, body: Any = None) -> "Reply":
        """Make the request and return its answer, which must be a JSON object."""
        return Reply.of(self.send(call, body), call, self.provider)


class Reply:
    """A JSON object from a provider, read field by field. Each read checks what the contract promises
    (present, of its type) and otherwise raises a ``ProviderError`` naming the request and the field."""

    def __init__(self, data: dict[str, Any], call: Call, provider: str, where: str = "") -> None:
        self._data = data
        self._call = call
        self._provider = provider
        self._where = where  # the path of this object inside the answer: "results." or "result[2]."

    @classmethod
    def of(cls, response: requests.Response, call: Call, provider: str) -> "Reply":
        what = f"{call}: {provider} answered HTTP {response.status_code} with"
        if not response.content:
            raise ProviderError(f"{what} an empty body, not a JSON object")
        try:
            data = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type") or "no Content-Type"
            raise ProviderError(
                f"{what} a body that is not JSON ({kind}, {len(response.content)} bytes)"
            ) from None
        if not isinstance(data, dict):
            raise ProviderError(f"{what} JSON that is not an object ({type(data).__name__})")
        return cls(data, call, provider)

    def problem(self, name: str, what: str) -> ProviderError:
        """The error for field ``name`` of this answer, e.g. ``problem(name, "is empty")``."""
        return ProviderError(
            f"{self._call}: {self._provider}'s answer is unusable: '{self._where}{name}' {what}"
        )

    def _get(self, name: str, kind: type, expected: str, required: bool) -> Any:
        value = self._data.get(name)
        if value is None:
            if required:
                raise self.problem(name, "is missing")
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.problem(name, f"is {_shown(value)}, not {expected}")
        return value

    def text(self, name: str) -> str:
        value: str = self._get(name, str, "a string", required=True)
        if not value:
            raise self.problem(name, "is empty")
        return value

    def optional_text(self, name: str) -> str | None:
        """Missing, null and "" are all None."""
        value: str | None = self._get(name, str, "a string", required=False)
        return value or None

    def integer(self, name: str) -> int:
        value: int = self._get(name, int, "an integer", required=True)
        return value

    def optional_integer(self, name: str) -> int | None:
        value: int | None = self._get(name, int, "an integer", required=False)
        return value

    def count(self, name: str) -> int:
        """A count the provider may leave out (or null) until it has one: 0 then."""
        return self.optional_integer(name) or 0

    def flag(self, name: str) -> bool:
        value: bool | None = self._get(name, bool, "true or false", required=False)
        return bool(value)

    def timestamp(self, name: str) -> datetime | None:
        value = self.optional_text(name)
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            raise self.problem(name, f"is {_shown(value)}, not an ISO 8601 timestamp") from None

    def texts(self, name: str) -> list[str]:
        values: list[Any] = self._get(name, list, "a list", required=False) or []
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value:
                raise self.problem(f"{name}[{index}]", f"is {_shown(value)}, not a string")
        return values

    def object(self, name: str) -> "Reply":
        """A nested object; one left out (or null) reads as empty, so its fields are optional or missing."""
        value: dict[str, Any] = self._get(name, dict, "an object", required=False) or {}
        return Reply(value, self._call, self._provider, f"{self._where}{name}.")

    def objects(self, name: str, required: bool = False) -> list["Reply"]:
        """A list of objects; ``required``: present and not empty."""
        values: list[Any] = self._get(name, list, "a list", required=required) or []
        if required and not values:
            raise self.problem(name, "is empty")
        replies = []
        for index, value in enumerate(values):
            item = f"{name}[{index}]"
            if not isinstance(value, dict):
                raise self.problem(item, f"is {_shown(value)}, not an object")
            replies.append(Reply(value, self._call, self._provider, f"{self._where}{item}."))
        return replies


def _shown(value: Any) -> str:
    """A malformed value as an error message shows it: its repr, cut short."""
    shown = repr(value)
    return shown if len(shown) <= SHOWN_VALUE_CHARS else f"{shown[:SHOWN_VALUE_CHARS]}…"
