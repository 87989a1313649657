"""The state machine's one pattern for a long rate-limit reset: Catch RateLimited, count, Wait, resume."""

import json

import pytest

from sandbox.stack import deployed_definition

STATES = json.loads(deployed_definition())["States"]
PROVIDER_TASKS = (
    "PrepareImport",
    "SendImport",
    "CheckImport",
    "CopyImportErrors",
    "StartExport",
    "CheckExport",
)


@pytest.mark.parametrize("task", PROVIDER_TASKS)
def test_a_task_calling_a_provider_catches_rate_limited_before_anything_else(task):
    first = STATES[task]["Catch"][0]
    assert first["ErrorEquals"] == ["RateLimited"]
    assert STATES[first["Next"]]["Next"] == "CountRateLimitWait"


@pytest.mark.parametrize("task", PROVIDER_TASKS)
def test_after_the_wait_the_same_task_is_called_again(task):
    step = STATES[f"{task}RateLimited"]["Result"]
    resumes = {choice["StringEquals"]: choice["Next"] for choice in STATES["ResumeAfterRateLimit"]["Choices"]}
    assert resumes[step] == task


def test_the_wait_is_bounded_in_count_and_length():
    bounds = STATES["CanWaitForRateLimit"]["Choices"][0]["And"]
    assert {b["Variable"]: b["NumericLessThanEquals"] for b in bounds} == {
        "$.rate_limit.count": 20,
        "$.rate_limit.reset.wait_s": 3600,
    }
    assert STATES["CanWaitForRateLimit"]["Default"] == "RateLimitNotWaited"
    assert STATES["WaitForRateLimit"]["SecondsPath"] == "$.rate_limit.reset.wait_s"
