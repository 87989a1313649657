"""The poll schedule: a short first wait, doubling up to a cap, never past the job's deadline."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from contact_jobs.config import PollSettings
from contact_jobs.errors import JobTimedOut
from contact_jobs.state import Poll as PollRecord
from contact_jobs.timeutil import isoformat, parse_timestamp


@dataclass(frozen=True)
class Poll:
    attempt: int
    delay_s: int

    def as_dict(self) -> PollRecord:
        return {"attempt": self.attempt, "delay_s": self.delay_s}


def first_poll(settings: PollSettings) -> Poll:
    return Poll(attempt=0, delay_s=settings.first_delay_s)


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
    return Poll(attempt=attempt + 1, delay_s=max(1, min(growing, settings.max_delay_s, remaining)))
