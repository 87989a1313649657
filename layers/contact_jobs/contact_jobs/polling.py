"""The poll schedule: a short first wait, doubling up to a cap, never past the job's deadline."""

from datetime import datetime, timedelta

from contact_jobs.config import PollSettings
from contact_jobs.errors import JobTimedOut
from contact_jobs.state import Poll
from contact_jobs.timeutil import isoformat, parse_timestamp


def first_poll(settings: PollSettings) -> Poll:
    return {"attempt": 0, "delay_s": settings.first_delay_s}


def next_poll(attempt: int, started_at: str, now: datetime, settings: PollSettings) -> Poll:
    """The wait before poll ``attempt + 1``; raises ``JobTimedOut`` once the deadline has passed."""
    deadline = parse_timestamp(started_at) + timedelta(seconds=settings.max_job_duration_s)
    remaining = int((deadline - now).total_seconds())
    if remaining <= 0:
        raise JobTimedOut(
            f"job did not finish within {settings.max_job_duration_s} s (started {started_at}, "
            f"deadline {isoformat(deadline)})"
        )
    growing = settings.first_delay_s * 2 ** min(attempt + 1, 30)
    return {"attempt": attempt + 1, "delay_s": max(1, min(growing, settings.max_delay_s, remaining))}
