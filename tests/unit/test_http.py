"""Rate limits and retries of provider API calls."""

import json
import time
from typing import Any

import pytest
import requests
from urllib3 import HTTPResponse

from contact_jobs import http
from contact_jobs.errors import ProviderError, RateLimited, TransientError
from contact_jobs.http import (
    ProviderRetry,
    call_deadline,
    error_message,
    provider_session,
    raise_for_status,
    rate_limit_delay,
)
from contact_jobs.providers.sendgrid.client import SendGridClient


def _response(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


def test_rate_limit_reset_as_delta_is_seconds_to_wait():
    assert rate_limit_delay({"X-RateLimit-Reset": "7"}, now=1_800_000_000) == 7


def test_rate_limit_reset_as_epoch_is_time_until_then():
    assert rate_limit_delay({"X-RateLimit-Reset": "1800000012"}, now=1_800_000_000) == 12


def test_rate_limit_reset_in_the_past_waits_nothing():
    assert rate_limit_delay({"X-RateLimit-Reset": "1799999990"}, now=1_800_000_000) == 0


def test_rate_limit_without_headers_gives_no_delay():
    assert rate_limit_delay({}) is None


def test_backoff_is_full_jitter_below_the_exponential_ceiling():
    retry = ProviderRetry(total=10, backoff_factor=1, backoff_max=100)
    for _ in range(4):
        retry = retry.increment(method="GET", url="/", error=requests.exceptions.ConnectionError())  # type: ignore[arg-type]
    samples = [retry.get_backoff_time() for _ in range(200)]
    assert all(0 <= sample <= 8 for sample in samples)
    assert max(samples) - min(samples) > 2, "full jitter spreads the waits over the whole range"


def test_429_is_retried_even_for_post():
    retry = ProviderRetry(total=3, status_forcelist={500})
    assert retry.is_retry("POST", 429)
    assert not retry.is_retry("POST", 500), "a 5xx POST may have been applied: not retried blindly"


def test_error_message_joins_sendgrid_errors_with_their_fields():
    response = _response(400, b'{"errors":[{"field":"list_ids","message":"invalid id"},{"message":"x"}]}')
    assert error_message(response) == "list_ids: invalid id; x"


def test_error_message_of_a_bare_list_of_errors_is_their_messages():
    response = _response(404, b'[{"field":"id","message":"list ID does not exist"},{"message":"and more"}]')
    assert error_message(response) == "id: list ID does not exist; and more"


def test_error_message_of_a_single_error_object_is_its_message():
    assert error_message(_response(400, b'{"errors":{"field":"id","message":"bad id"}}')) == "id: bad id"


def test_error_message_of_which50_is_its_message():
    assert error_message(_response(404, b'{"Message":"The specified Contactlist was not found."}')) == (
        "The specified Contactlist was not found."
    )


def test_error_message_of_json_without_messages_names_its_fields_without_quoting_values():
    body = b'{"detail": ["ada@example.com"], "code": 7}'
    message = error_message(_response(400, body))
    assert message == f"an error body in no known shape (dict with fields code, detail, {len(body)} bytes)"
    assert "ada@example.com" not in message


def test_4xx_becomes_provider_error_naming_the_request():
    with pytest.raises(ProviderError, match=r"create export failed: HTTP 401: authorization required"):
        raise_for_status(
            _response(401, b'{"errors":[{"field":null,"message":"authorization required"}]}'), "create export"
        )


def test_5xx_and_429_become_transient_errors():
    with pytest.raises(TransientError):
        raise_for_status(_response(503, b"unavailable"), "get export status")
    with pytest.raises(TransientError):
        raise_for_status(_response(429, b'{"errors":[{"message":"too many requests"}]}'), "list exports")


def _rate_limited(reset_s: int) -> HTTPResponse:
    return HTTPResponse(status=429, headers={"X-RateLimit-Reset": str(reset_s)})


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The in-function sleeps asked for (none really taken)."""
    asked: list[float] = []
    monkeypatch.setattr(http.time, "sleep", asked.append)
    return asked


def test_a_short_reset_is_slept_in_the_function(sleeps):
    ProviderRetry(total=3, retry_after_max=10).sleep(_rate_limited(2))
    assert len(sleeps) == 1
    assert 2 <= sleeps[0] <= 2 + http.RESET_JITTER_S


def test_a_reset_longer_than_the_longest_sleep_raises_rate_limited_with_the_wait(sleeps):
    with pytest.raises(RateLimited) as raised:
        ProviderRetry(total=3, retry_after_max=10).sleep(_rate_limited(30))
    assert raised.value.wait_s in (30, 31)
    assert sleeps == [], "not a second slept in the function"


def test_a_short_reset_past_the_invocations_deadline_raises_rate_limited(sleeps):
    with call_deadline(remaining_ms=8000, reserve_s=5), pytest.raises(RateLimited) as raised:
        ProviderRetry(total=3, retry_after_max=10).sleep(_rate_limited(4))
    assert raised.value.wait_s in (4, 5)
    assert sleeps == []


def test_the_rate_limited_message_is_json_with_the_wait_for_the_state_machine():
    assert json.loads(str(RateLimited(31, "resets in 30 s"))) == {"wait_s": 31, "reason": "resets in 30 s"}


def test_a_backoff_past_the_deadline_is_a_transient_error_not_a_sleep(sleeps):
    retry = ProviderRetry(total=10, backoff_factor=100, backoff_max=100)
    for _ in range(3):
        retry = retry.increment(method="GET", url="/", error=requests.exceptions.ConnectionError())  # type: ignore[arg-type]
    retry.get_backoff_time = lambda: 50.0  # type: ignore[method-assign]
    with call_deadline(remaining_ms=20_000, reserve_s=5), pytest.raises(TransientError, match="no time left"):
        retry.sleep()
    assert sleeps == []


def test_the_deadline_applies_only_inside_its_block():
    with call_deadline(remaining_ms=60_000, reserve_s=5):
        left = http.time_left()
        assert left is not None
        assert 54 < left <= 55
    assert http.time_left() is None


def test_a_request_timeout_is_capped_by_the_time_left(monkeypatch: pytest.MonkeyPatch):
    seen: dict[str, Any] = {}

    def send(self: Any, request: Any, **kwargs: Any) -> requests.Response:
        seen.update(kwargs)
        raise requests.ConnectionError("recorded")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    with call_deadline(remaining_ms=9000, reserve_s=5), pytest.raises(requests.ConnectionError):
        provider_session(0, 10).get("http://127.0.0.1:9/", timeout=30)
    assert 3 < seen["timeout"] <= 4


def test_no_request_starts_once_the_deadline_has_passed():
    with call_deadline(remaining_ms=1000, reserve_s=5), pytest.raises(TransientError, match="no time left"):
        provider_session(0, 10).get("http://127.0.0.1:9/", timeout=30)


@pytest.mark.slow
def test_a_provider_that_keeps_rate_limiting_is_not_waited_past_the_deadline(fake_sendgrid):
    fake_sendgrid.options.rate_limit_every = 1
    fake_sendgrid.options.rate_limit_reset_s = 2
    client = SendGridClient(
        fake_sendgrid.base_url, fake_sendgrid.options.api_key, provider_session(50, 10), 10
    )
    started = time.monotonic()
    with call_deadline(remaining_ms=9000, reserve_s=5), pytest.raises(RateLimited):
        client.list_exports()
    assert time.monotonic() - started < 4, "the call ended before the invocation's deadline"
