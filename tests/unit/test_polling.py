"""The poll schedule: short first wait, doubling, capped, never past the deadline."""

from datetime import UTC, datetime, timedelta

import pytest

from contact_jobs.config import PollSettings
from contact_jobs.errors import JobTimedOut
from contact_jobs.polling import first_poll, next_poll

SETTINGS = PollSettings(first_delay_s=10, max_delay_s=300, max_job_duration_s=3600)
START = datetime(2026, 1, 1, tzinfo=UTC)


def test_first_wait_is_the_short_one():
    assert first_poll(SETTINGS)["delay_s"] == 10


def test_waits_double_up_to_the_cap():
    delays = [next_poll(attempt, START.isoformat(), START, SETTINGS)["delay_s"] for attempt in range(7)]
    assert delays == [20, 40, 80, 160, 300, 300, 300]


def test_a_wait_never_runs_past_the_deadline():
    now = START + timedelta(seconds=3600 - 45)
    assert next_poll(9, START.isoformat(), now, SETTINGS)["delay_s"] == 45


def test_past_the_maximum_duration_the_job_times_out():
    with pytest.raises(JobTimedOut, match="within 3600 s"):
        next_poll(20, START.isoformat(), START + timedelta(seconds=3601), SETTINGS)


def test_a_day_long_job_stays_far_below_the_history_limit():
    """Each poll costs about 9 history events; 25,000 is the Standard workflow limit."""
    day = PollSettings(first_delay_s=10, max_delay_s=300, max_job_duration_s=24 * 3600)
    elapsed, attempt = 0, 0
    while elapsed < day.max_job_duration_s:
        poll = next_poll(attempt, START.isoformat(), START + timedelta(seconds=elapsed), day)
        elapsed, attempt = elapsed + poll["delay_s"], poll["attempt"]
    assert attempt * 9 < 25_000 / 5
