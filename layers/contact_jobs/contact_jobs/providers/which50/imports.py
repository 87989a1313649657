"""Which50's side of an import: one import job, contacts pushed in batches from a byte cursor (resumable
across calls), then ``/run``. A push that fails after its HTTP retries returns the cursor of the last
batch Which50 accepted, so the next call neither resends nor skips a batch.

The job id and the cursor after every accepted batch are recorded in the progress table before the step
goes on, and each call resumes from the record: a step that died after Which50 accepted a batch (its
return value lost, so Step Functions retries with the old cursor) does not push that batch again."""

import dataclasses
import json
import time
from typing import Any

from contact_jobs import csvscan
from contact_jobs.errors import InvalidImportFile, RateLimited, TransientError
from contact_jobs.imports import FieldMapping
from contact_jobs.progress import Progress, ProgressStore
from contact_jobs.progress import required as progress_required
from contact_jobs.providers.which50.client import Which50Client, Which50Settings, Which50Status
from contact_jobs.state import ImportJob, PartResult, SendProgress, Upload
from contact_jobs.streams import open_at

MAX_CONSECUTIVE_FAILURES = 5
# Which50's own counts (fields of Which50Status), reported as they are beside the common ones
DETAILS = ("not_updated", "dropped", "invalid_email", "invalid_sms", "total")


class Which50Imports:
    name = "which50"

    def __init__(
        self, client: Which50Client, settings: Which50Settings, progress: ProgressStore | None = None
    ) -> None:
        """``progress``: the record of what Which50 accepted (only benchmarks send without one)."""
        self._client = client
        self._settings = settings
        self._progress = progress

    def limits(self, configured: csvscan.Limits) -> csvscan.Limits:
        # One job takes the whole file: no parts. The reading bounds stay as configured.
        return dataclasses.replace(configured, max_rows=10**12, max_bytes=10**15)

    def map_fields(self, header: list[str]) -> FieldMapping:
        """Which50 keys values by field name as it spells it: a column that names a known field in
        another case (``email``) is sent under Which50's spelling (``Email``), or it would be ignored."""
        identifiers = (*self._settings.email_fields, *self._settings.sms_fields)
        canonical = {name.lower(): name for name in identifiers}
        names = [column.strip() for column in header]
        if not canonical.keys() & {name.lower() for name in names}:
            raise InvalidImportFile(
                f"no identifier column: the header needs an email or SMS column ({', '.join(identifiers)})"
            )
        field_names: list[str | None] = [canonical.get(name.lower(), name) for name in names]
        return FieldMapping(field_names, [])

    def check_target(self, target: str) -> None:
        if not target.isdigit():
            raise InvalidImportFile(f"Which50 contact list id must be a number, got {target!r}")
        self._client.check_list(int(target))

    def send(self, job: ImportJob, s3: Any, deadline: float) -> tuple[SendProgress, list[Upload]]:
        cursor: SendProgress = {
            "offset": job["parts"][0]["start"],
            "rows_sent": 0,
            "failures": 0,
            **job["send"],
        }
        list_id = int(job["target"])
        try:
            already_run = self._resume(cursor, job, list_id)
            finished = already_run or self._push_from(cursor, job, s3, list_id, deadline)
            if finished and not already_run:
                self._client.run(list_id, cursor["import_job_id"])
                self._store().finish(job["job_id"], 0, str(cursor["import_job_id"]))
        except RateLimited as exc:
            if not cursor.get("import_job_id"):
                raise  # no job yet: the state machine waits out the reset, then runs this step again
            # Keep the cursor (batches accepted stay sent); WaitBeforeSending waits out the reset.
            return {**cursor, "retry_in_s": exc.wait_s, "last_error": exc.reason}, self._uploads(cursor, job)
        except TransientError as exc:
            if not cursor.get("import_job_id"):
                raise  # nothing to resume from yet: Step Functions' Retry starts the step again
            failures = cursor["failures"] + 1
            if failures > MAX_CONSECUTIVE_FAILURES:
                raise
            # Resume from the last batch Which50 accepted, after a growing pause (a Wait state).
            return {
                **cursor,
                "failures": failures,
                "retry_in_s": min(300, 5 * 2**failures),
                "last_error": str(exc),
            }, self._uploads(cursor, job)
        sent: SendProgress = {**cursor, "failures": 0, "retry_in_s": 0, "done": finished}
        return {**sent, "run_called": finished}, self._uploads(cursor, job)

    @staticmethod
    def _uploads(cursor: SendProgress, job: ImportJob) -> list[Upload]:
        """The one provider job this import is, as the send loop reports uploads."""
        return [{"index": 0, "provider_job_id": str(cursor["import_job_id"]), "rows": job["rows"]}]

    def _resume(self, cursor: SendProgress, job: ImportJob, list_id: int) -> bool:
        """Bring the cursor to what was recorded (the state's copy may be older); True if ``/run`` was
        already called for this job."""
        recorded = self._store().get(job["job_id"], 0)
        if recorded is None:
            created = str(cursor.get("import_job_id") or self._create(job, list_id))
            recorded = self._store().start(job["job_id"], 0, self.name, created, offset=cursor["offset"])
        self._adopt(cursor, recorded)
        return recorded.sent

    def _create(self, job: ImportJob, list_id: int) -> int:
        return self._client.create_import(list_id, [n for n in job["field_mappings"] if n])

    @staticmethod
    def _adopt(cursor: SendProgress, recorded: Progress) -> None:
        cursor["import_job_id"] = int(recorded.provider_job_id)
        if recorded.offset > cursor["offset"]:
            cursor["offset"], cursor["rows_sent"] = recorded.offset, recorded.rows_sent

    def _store(self) -> ProgressStore:
        return progress_required(self._progress, self.name)

    def _push_from(
        self, cursor: SendProgress, job: ImportJob, s3: Any, list_id: int, deadline: float
    ) -> bool:
        """Push batches from the cursor until the file ends (True) or the time budget does (False)."""
        names = job["field_mappings"]
        data_end = job["parts"][0]["end"]  # where the scan found the last record ends
        if cursor["offset"] >= data_end:
            return True
        batch: list[dict[str, Any]] = []
        body_bytes = 0
        end = cursor["offset"]
        limits = csvscan.Limits(**job.get("limits", {}))
        stream = open_at(s3, job["source"], cursor["offset"])
        for row, end in csvscan.records(stream, limits, cursor["offset"]):
            # The scan refused rows whose width differs from the header's: nothing can shift here.
            contact = {"Values": {name: value for name, value in zip(names, row, strict=True) if name}}
            batch.append(contact)
            # A batch ends at 10,000 contacts or at its request body's byte bound, counted as sent (JSON
            # repeats every field name per contact: a wide header makes the body far larger than the CSV).
            body_bytes += len(json.dumps(contact)) + 2
            if len(batch) == self._settings.batch_size or body_bytes >= self._settings.batch_bytes:
                self._push(cursor, job["job_id"], list_id, batch, end)
                batch, body_bytes = [], 0
                if end < data_end and time.monotonic() > deadline:
                    return False
        if batch:
            self._push(cursor, job["job_id"], list_id, batch, end)
        return True

    def _push(
        self, cursor: SendProgress, job_id: str, list_id: int, batch: list[dict[str, Any]], end: int
    ) -> None:
        self._client.push(list_id, cursor["import_job_id"], batch)
        # Recorded before anything else happens: a retry of this step resumes after this batch. A
        # record already further on (another attempt) raises ProgressConflict and this attempt stops.
        self._store().advance(job_id, 0, end, cursor["rows_sent"] + len(batch))
        cursor["offset"] = end  # only once Which50 has accepted the batch
        cursor["rows_sent"] += len(batch)

    def results(self, job: ImportJob) -> tuple[list[PartResult] | None, list[str]]:
        status = self._client.status(int(job["target"]), int(job["send"]["import_job_id"]))
        warnings = []
        if status.status and status.meaning is None:
            warnings.append(
                f"Which50 reported CurrentStatus {status.status!r}, which WHICH50_STATUS_MAP does not map"
            )
        if not status.finished:
            return None, warnings
        errored = status.invalid_email + status.invalid_sms
        outcome, reason = _outcome(status, errored)
        counts = {
            "requested": job["send"]["rows_sent"],
            "created": status.inserted,
            "updated": status.updated,
            "errored": errored,
        }
        details = {name: getattr(status, name) for name in DETAILS}
        result = PartResult(
            index=0, provider_job_id=str(status.job_id), status=outcome, counts=counts, details=details
        )
        return [{**result, "reason": reason}], warnings

    def errors_url(self, provider_job_id: str) -> str | None:
        return None  # Which50 reports counts, not an errors file


def _outcome(status: Which50Status, errored: int) -> tuple[str, str]:
    """The outcome and, for a failure the status alone does not explain, its reason.

    A finished job whose status nobody mapped is judged by what it applied: contacts inserted or updated
    are a result (the unmapped status is a warning); nothing applied under an unknown status is no evidence
    of success, so it fails, naming the status so the operator can map it (WHICH50_STATUS_MAP)."""
    if status.meaning == "failed":
        return "failed", ""
    if status.meaning is None and status.inserted + status.updated == 0:
        return "failed", (
            f"it finished with CurrentStatus {status.status!r}, which WHICH50_STATUS_MAP does not map, "
            "and applied no contacts (0 inserted, 0 updated)"
        )
    return ("errored" if errored else "completed"), ""
