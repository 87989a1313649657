"""A long rate-limit reset is waited out by the state machine (a Wait state, free), not slept in a Lambda
(billed, and killed at its timeout). Waits are scaled in the sandbox but recorded as asked; the in-function
sleeps are real, so a run that ends well before the reset shows that no function slept it."""

import json
import time
from typing import Any

from sandbox.fake_sendgrid import FakeSendGridOptions
from sandbox.fake_which50 import FakeWhich50Options
from tests.integration.conftest import only_notification

RESET_S = 30


def rate_limited_at(*calls: int) -> FakeSendGridOptions:
    """SendGrid answering 429 with a reset RESET_S ahead to these API requests (1-based)."""
    return FakeSendGridOptions(
        export_ready_after_s=0.05,
        import_ready_after_s=0.05,
        rate_limit_calls=frozenset(calls),
        rate_limit_reset_s=RESET_S,
    )


def rate_limit_waits(history: dict[str, Any]) -> list[int]:
    """The seconds each WaitForRateLimit state was given, from its input in the execution history."""
    return [
        json.loads(event["stateEnteredEventDetails"]["input"])["rate_limit"]["reset"]["wait_s"]
        for event in history["events"]
        if event["type"] == "WaitStateEntered"
        and event["stateEnteredEventDetails"]["name"] == "WaitForRateLimit"
    ]


def timed(run: Any, **scenario: Any) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    result = run(**scenario)
    return result, time.monotonic() - started


def test_a_long_reset_when_starting_an_export_is_a_state_machine_wait(backup):
    result, elapsed = timed(backup, fake=rate_limited_at(1), contacts=100)
    assert result["status"] == "SUCCEEDED"
    assert "StartExportRateLimited" in result["states"]
    assert rate_limit_waits(result["history"][0]) == [result["waits"][0]]
    assert RESET_S - 1 <= result["waits"][0] <= RESET_S + 1
    assert elapsed < RESET_S, "no function slept out the reset"


def test_a_long_reset_when_polling_an_export_is_a_state_machine_wait(backup):
    # Requests 1-3 start the export (field definitions, the export list, the export); 4 is the first poll.
    result, elapsed = timed(backup, fake=rate_limited_at(4), contacts=100)
    assert result["status"] == "SUCCEEDED"
    assert "CheckExportRateLimited" in result["states"]
    assert [RESET_S - 1 <= wait <= RESET_S + 1 for wait in rate_limit_waits(result["history"][0])] == [True]
    assert elapsed < RESET_S, "no function slept out the reset"


def test_a_long_reset_when_preparing_an_import_is_a_state_machine_wait(import_file):
    result, elapsed = timed(import_file, fake=rate_limited_at(1), contacts=10)
    assert result["status"] == "SUCCEEDED"
    assert "PrepareImportRateLimited" in result["states"]
    assert [RESET_S - 1 <= wait <= RESET_S + 1 for wait in rate_limit_waits(result["history"][0])] == [True]
    assert only_notification(result)["message"]["counts"]["created"] == 10
    assert elapsed < RESET_S, "no function slept out the reset"


def test_which50_rate_limited_throughout_delivers_each_contact_once_without_sleeping_the_resets(import_file):
    limited = FakeWhich50Options(progress_s=0.05, rate_limit_every=3, retry_after_s=RESET_S)
    result, elapsed = timed(
        import_file,
        provider="which50",
        which50=limited,
        contacts=30000,
        environment={"SEND_TIME_BUDGET_S": "0"},
    )
    assert result["status"] == "SUCCEEDED"
    assert result["received"] == 30000
    assert result["received_more_than_once"] == []
    assert elapsed < RESET_S, "no function slept out a reset"


def test_a_provider_that_never_stops_rate_limiting_fails_after_a_bounded_number_of_waits(backup):
    always = FakeSendGridOptions(rate_limit_every=1, rate_limit_reset_s=RESET_S)
    result = backup(fake=always, contacts=10)
    assert result["status"] == "FAILED"
    assert len(rate_limit_waits(result["history"][0])) == 20
    error = only_notification(result)["message"]["error"]
    assert error["type"] == "RateLimited"
    assert "StartExport was rate limited 21 times" in error["message"]
