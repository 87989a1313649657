"""Every row applied once: a SendImport that Step Functions retries after the provider accepted the work
resumes from the progress table instead of sending it again (issue 11, section 3)."""

from collections.abc import Callable
from typing import Any

import pytest

from contact_jobs import jobs
from sandbox.fake_sendgrid import FakeSendGridOptions
from sandbox.fake_which50 import FakeWhich50Options
from tests.integration.conftest import only_notification

# What Step Functions sees when a Lambda dies (runtime crash, out of memory) after doing its work: the
# error type its Retry matches (the sandbox reports an exception's class name as the errorType).
LambdaDied = type("Lambda.Unknown", (Exception,), {})


def dying_once(monkeypatch: pytest.MonkeyPatch, after: Callable[[dict[str, Any]], bool]) -> list[str]:
    """SendImport runs for real, then the first attempt whose result matches ``after`` dies before
    returning it: whatever the provider accepted during that attempt is missing from the retry's input."""
    send_import = jobs.send_import
    died: list[str] = []

    def send_then_die(job: dict[str, Any]) -> dict[str, Any]:
        sent = send_import(job)
        if not died and after(sent):
            died.append(sent["job_id"])
            raise LambdaDied("the function died after the provider accepted the work")
        return sent

    # The handler module binds send_import when the sandbox loads it, after this patch.
    monkeypatch.setattr(jobs, "send_import", send_then_die)
    return died


def test_a_lost_upload_answer_does_not_create_a_second_sendgrid_import(import_file):
    fake = FakeSendGridOptions(import_ready_after_s=2.0, lose_upload_answers=1)
    result = import_file(fake=fake, contacts=3)
    assert result["status"] == "SUCCEEDED"
    assert len(result["provider_jobs"]) == 1
    assert result["counts"]["requested"] == 3
    note = only_notification(result)
    assert note["message"]["provider_job_id"] == result["provider_jobs"][0]
    assert note["message"]["counts"]["requested"] == 3


def test_a_resumed_part_whose_upload_answer_was_lost_is_reported_as_not_sent_again(import_file):
    fake = FakeSendGridOptions(import_ready_after_s=2.0, lose_upload_answers=1)
    warnings = only_notification(import_file(fake=fake, contacts=3))["message"]["warnings"]
    assert any("was not sent again" in warning for warning in warnings), warnings


def test_a_sendgrid_step_that_died_after_its_upload_is_polled_not_sent_again(import_file, monkeypatch):
    died = dying_once(monkeypatch, after=lambda sent: bool(sent["uploads"]))
    result = import_file(contacts=3)
    assert died, "the injected death did not happen"
    assert result["status"] == "SUCCEEDED"
    assert len(result["provider_jobs"]) == 1
    assert result["counts"]["requested"] == 3
    assert only_notification(result)["message"]["provider_job_id"] == result["provider_jobs"][0]


def test_a_which50_step_that_died_after_a_batch_was_accepted_does_not_push_it_again(import_file, monkeypatch):
    died = dying_once(monkeypatch, after=lambda sent: sent["send"].get("rows_sent") == 20)
    result = import_file(
        provider="which50",
        which50=FakeWhich50Options(progress_s=0.05),
        contacts=25,
        environment={"WHICH50_BATCH_SIZE": "10", "SEND_TIME_BUDGET_S": "0"},
    )
    assert died, "the injected death did not happen"
    assert result["status"] == "SUCCEEDED"
    assert result["batches"] == [10, 10, 5]
    assert result["received"] == 25
    assert result["received_more_than_once"] == []
    assert only_notification(result)["message"]["counts"]["requested"] == 25
