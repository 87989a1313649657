"""What a provider has accepted for one part of an import, kept in DynamoDB so that a retried SendImport
resumes from it instead of repeating it.

Step Functions retries a Task whose Lambda died, timed out or lost its answer, with the Task's original
input: a cursor carried only in the state forgets whatever the provider accepted during that attempt. So
each fact is written here as soon as the provider has answered, before the step goes on:

- ``start``: the provider's import job exists (SendGrid's ``PUT /imports``, Which50's job). Put only if no
  record exists, so two attempts agree on one job: the later one adopts the earlier one's.
- ``advance``: Which50 accepted every contact before ``offset``. Conditional: the offset only grows, and
  never once the part is ``sent``, so a stale attempt cannot move it backwards.
- ``finish``: the part is wholly with the provider (SendGrid: uploaded; Which50: ``/run`` called).

A record holds ids, offsets and counts, never contact data. Items expire (DynamoDB TTL on ``expires_at``)
long after any execution can still run (``MAX_JOB_DURATION_S``, 6 h by default).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from contact_jobs.errors import ConfigurationError, TransientError

STARTED = "started"  # the provider's job exists; what it holds is told by offset (Which50) or unknown
SENT = "sent"  # everything for this part is with the provider
TTL_S = 14 * 24 * 3600


class ProgressConflict(TransientError):
    """Another attempt recorded more progress than this one: this one stops and the next call resumes
    from the record. A TransientError, so the send step's retry path handles it."""


@dataclass(frozen=True)
class Progress:
    provider_job_id: str
    stage: str
    offset: int = 0
    rows_sent: int = 0

    @property
    def sent(self) -> bool:
        return self.stage == SENT


class ProgressStore:
    """One item per (job id = execution name, part index) in the progress table."""

    def __init__(self, table: Any, clock: Callable[[], float] = time.time, ttl_s: int = TTL_S) -> None:
        self._table = table
        self._clock = clock
        self._ttl_s = ttl_s

    def get(self, job_id: str, part: int) -> Progress | None:
        # Strongly consistent: a retry must see what the attempt before it wrote a moment ago.
        item = self._table.get_item(Key=_key(job_id, part), ConsistentRead=True).get("Item")
        return _progress(item) if item else None

    def start(self, job_id: str, part: int, provider: str, provider_job_id: str, offset: int = 0) -> Progress:
        """Record the provider's job for this part; if an earlier attempt recorded one, that one holds
        (returned) and the caller's new job is left unused."""
        item = {
            **_key(job_id, part),
            "provider": provider,
            "provider_job_id": provider_job_id,
            "stage": STARTED,
            "offset": offset,
            "rows_sent": 0,
            **self._stamp(),
        }
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(job_id)")
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            earlier = self.get(job_id, part)
            if earlier is None:  # pragma: no cover - a record never disappears before its TTL
                raise
            return earlier
        return Progress(provider_job_id, STARTED, offset)

    def advance(self, job_id: str, part: int, offset: int, rows_sent: int) -> None:
        """Everything before ``offset`` was accepted. Raises ``ProgressConflict`` when the record is
        already further on, or finished: a stale attempt never moves it backwards."""
        self._update(
            job_id,
            part,
            "SET #offset = :offset, rows_sent = :rows, updated_at = :now, expires_at = :expires",
            "#stage = :started AND #offset < :offset",
            {":offset": offset, ":rows": rows_sent, ":started": STARTED},
        )

    def finish(self, job_id: str, part: int, provider_job_id: str) -> None:
        """The part is with the provider. Only for the job the record names; finishing twice is allowed
        (a retry that finds the part sent writes the same again)."""
        self._update(
            job_id,
            part,
            "SET #stage = :sent, updated_at = :now, expires_at = :expires",
            "provider_job_id = :job",
            {":sent": SENT, ":job": provider_job_id},
        )

    def _update(self, job_id: str, part: int, update: str, condition: str, values: dict[str, Any]) -> None:
        try:
            self._table.update_item(
                Key=_key(job_id, part),
                UpdateExpression=update,
                ConditionExpression=condition,
                # only the names this expression uses: DynamoDB refuses unused ones
                ExpressionAttributeNames={
                    name: attribute
                    for name, attribute in (("#offset", "offset"), ("#stage", "stage"))
                    if name in update or name in condition
                },
                ExpressionAttributeValues={**values, **_prefixed(self._stamp())},
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise ProgressConflict(
                    f"import progress of {job_id} part {part} was moved by another attempt; resuming from it"
                ) from None
            raise

    def _stamp(self) -> dict[str, Any]:
        now = self._clock()
        return {"updated_at": int(now), "expires_at": int(now) + self._ttl_s}


def _key(job_id: str, part: int) -> dict[str, Any]:
    return {"job_id": job_id, "part": part}


def _prefixed(stamp: dict[str, Any]) -> dict[str, Any]:
    return {":now": stamp["updated_at"], ":expires": stamp["expires_at"]}


def _progress(item: dict[str, Any]) -> Progress:
    return Progress(
        provider_job_id=str(item["provider_job_id"]),
        stage=str(item["stage"]),
        offset=int(item.get("offset", 0)),
        rows_sent=int(item.get("rows_sent", 0)),
    )


def _condition_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def required(store: ProgressStore | None, provider: str) -> ProgressStore:
    """The store a sending step records in: one built without it is misconfigured, never silently unsafe."""
    if store is None:
        raise ConfigurationError(f"sending a {provider} import needs the progress table")
    return store
