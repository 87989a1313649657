"""Rate limits and retries of provider API calls."""

import pytest
import requests

from contact_jobs.errors import ProviderError, TransientError
from contact_jobs.http import ProviderRetry, error_message, raise_for_status, rate_limit_delay


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
