"""HTTP sessions for provider APIs: bounded retries with full jitter, and rate limits honoured.

urllib3's ``Retry`` does the retrying; this module teaches it what it lacks: SendGrid's
``X-RateLimit-Reset`` header (an epoch or a delta, the docs say both), AWS-style full jitter, and the
invocation's deadline. A Lambda is billed while it sleeps and killed at its timeout, so no sleep or request
may run past the deadline set by ``call_deadline`` (from the Lambda context), and a rate-limit reset longer
than ``max_rate_limit_wait_s`` (or than the time left) is not slept here at all: it raises ``RateLimited``,
which the state machine turns into a Wait state (free) before calling the same Task again.
"""

import math
import random
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from contact_jobs.errors import ProviderError, RateLimited, TransientError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
EPOCH_THRESHOLD = 1_000_000_000  # a reset value above this is a Unix time, below it a delay in seconds
RESET_JITTER_S = 0.25  # added to a reset: a reset of 0 still needs a moment; spreads concurrent workers
# Kept back from the Lambda's remaining time: to raise, log, and hand the error to Step Functions.
DEADLINE_RESERVE_S = 5.0

# The monotonic time by which this invocation's provider calls must be done (None: no bound, outside Lambda).
_deadline: ContextVar[float | None] = ContextVar("provider_call_deadline", default=None)


@contextmanager
def call_deadline(remaining_ms: int | None, reserve_s: float = DEADLINE_RESERVE_S) -> Iterator[None]:
    """Bound every provider call made inside by the invocation's remaining time (the Lambda context's
    ``get_remaining_time_in_millis()``), less ``reserve_s``."""
    deadline = None if remaining_ms is None else time.monotonic() + remaining_ms / 1000 - reserve_s
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds before the deadline (negative once past it), or None when no deadline is set."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


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
    """``Retry`` with full-jitter backoff, rate-limit headers and the invocation's deadline; 429 is retried
    for every method."""

    def get_backoff_time(self) -> float:
        ceiling = super().get_backoff_time()  # exponential, capped by backoff_max (jitter is ours)
        return random.uniform(0, ceiling) if ceiling > 0 else 0.0  # noqa: S311 - jitter, not crypto

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        return rate_limit_delay(response.headers)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Wait before the next attempt, never past the deadline: a short rate-limit reset is slept here, a
        long one is handed to the state machine (``RateLimited``); a backoff that does not fit fails the
        attempt as transient (the Task's Retry, or the next call, tries again)."""
        delay = self.get_retry_after(response) if response is not None and response.status == 429 else None
        if delay is not None:
            _check_rate_limit_fits(delay, self.retry_after_max)
            time.sleep(delay + random.uniform(0, RESET_JITTER_S))  # noqa: S311
            return
        backoff = self.get_backoff_time()
        left = time_left()
        if left is not None and backoff >= left:
            raise TransientError(f"no time left in this invocation to retry ({max(left, 0):.0f} s left)")
        if backoff > 0:
            time.sleep(backoff)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:  # nothing was processed: safe for POST too
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)


def _check_rate_limit_fits(delay: float, longest_sleep_s: float) -> None:
    """Raise ``RateLimited`` when a reset is longer than a Lambda should sleep, or than its time left."""
    left = time_left()
    needed = delay + RESET_JITTER_S
    if delay > longest_sleep_s or (left is not None and needed >= left):
        wait_s = max(1, math.ceil(needed))
        raise RateLimited(wait_s, f"rate limited: the limit resets in {delay:.0f} s")


class DeadlineAdapter(HTTPAdapter):
    """Caps each request's timeout by the time left, so that a slow answer cannot outlive the invocation."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        left = time_left()
        timeout = kwargs.get("timeout")
        if left is not None:
            if left <= 0:
                raise TransientError("no time left in this invocation for another provider request")
            if timeout is None or isinstance(timeout, int | float):
                kwargs["timeout"] = left if timeout is None else min(float(timeout), left)
        response: requests.Response = super().send(request, *args, **kwargs)
        return response


def provider_session(retries: int, max_rate_limit_wait_s: int) -> requests.Session:
    """A session for a provider's JSON API. Redirects are not followed: an API never needs them.
    ``max_rate_limit_wait_s``: the longest rate-limit reset slept inside the function; a longer one raises
    ``RateLimited`` for a Wait state."""
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
    adapter = DeadlineAdapter(max_retries=retry)
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
