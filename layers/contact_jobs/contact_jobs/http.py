"""HTTP sessions for provider APIs: bounded retries with full jitter, and rate limits honoured.

urllib3's ``Retry`` does the retrying; this module only teaches it two things it lacks: SendGrid's
``X-RateLimit-Reset`` header (an epoch or a delta, the docs say both) and AWS-style full jitter.
"""

import random
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from contact_jobs.errors import ProviderError, TransientError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
EPOCH_THRESHOLD = 1_000_000_000  # a reset value above this is a Unix time, below it a delay in seconds


def rate_limit_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait before the limit resets, from ``X-RateLimit-Reset`` (or ``Retry-After``)."""
    raw = headers.get("X-RateLimit-Reset") or headers.get("Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if value > EPOCH_THRESHOLD:
        value -= time.time() if now is None else now
    return max(value, 0.0)


class ProviderRetry(Retry):
    """``Retry`` with full-jitter backoff and rate-limit headers; 429 is retried for every method."""

    def get_backoff_time(self) -> float:
        ceiling = super().get_backoff_time()  # exponential, capped by backoff_max (jitter is ours)
        return random.uniform(0, ceiling) if ceiling > 0 else 0.0  # noqa: S311 - jitter, not crypto

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        delay = rate_limit_delay(response.headers)
        return None if delay is None else min(delay, self.retry_after_max)

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        delay = self.get_retry_after(response) if response.status == 429 else None
        if delay is None:
            return False
        # A reset of 0 still needs a moment; a little jitter keeps concurrent workers apart.
        time.sleep(delay + random.uniform(0, 0.25))  # noqa: S311
        return True

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:  # nothing was processed: safe for POST too
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)


def provider_session(retries: int, max_rate_limit_wait_s: int) -> requests.Session:
    """A session for a provider's JSON API. Redirects are not followed: an API never needs them."""
    retry = ProviderRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        redirect=0,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.5,
        backoff_max=20,
        retry_after_max=max_rate_limit_wait_s,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    # Every request passes allow_redirects=False; ``max_redirects = 0`` would add nothing but make
    # requests raise TooManyRedirects even then, hiding the status behind a retried "transient" error.
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def error_message(response: requests.Response) -> str:
    """The provider's own words for an error, from any of the shapes its contract gives them: SendGrid's
    ``{"errors": [{"field", "message"}]}``, a bare list of those (its lists API's 404), a single error
    object, or Which50's ``{"Message": ...}``; a non-JSON body's first line; else a description."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip().split("\n", 1)[0][:120] or response.reason or ""
    parts = [_one_error(item) for item in _error_items(body)]
    return "; ".join(part for part in parts if part) or _unknown_shape(body, len(response.content))


def _unknown_shape(body: Any, size: int) -> str:
    """An error body in no known shape is described, not quoted: it may echo the contacts sent."""
    fields = f" with fields {', '.join(sorted(map(str, body)))}" if isinstance(body, dict) and body else ""
    return f"an error body in no known shape ({type(body).__name__}{fields}, {size} bytes)"


def _error_items(body: Any) -> list[Any]:
    if isinstance(body, dict) and "errors" in body:
        body = body["errors"]
    return body if isinstance(body, list) else [body]


def _one_error(item: Any) -> str:
    if isinstance(item, str):
        return item.strip()
    if not isinstance(item, dict):
        return ""
    message = str(item.get("message") or item.get("Message") or "").strip()
    field = item.get("field")
    return f"{field}: {message}" if field and message else message


def raise_for_status(response: requests.Response, what: str) -> None:
    """Turn any answer but a 2xx into an error that names the request and the provider's reason. A
    redirect counts as a failure: an API never needs one, and not following it must not look like success."""
    if 200 <= response.status_code < 300:
        return
    detail = error_message(response)
    reason = f"{what} failed: HTTP {response.status_code}" + (f": {detail}" if detail else "")
    if response.status_code in RETRY_STATUSES:
        raise TransientError(reason)
    raise ProviderError(reason, response.status_code)
