"""The import job's steps, one per state machine Task, for every provider. What differs between
providers lives in an ``ImportAdapter`` (``providers/<name>/imports.py``): a third ESP is a new
adapter, not a new workflow. The state carries the source's bucket, key and version, the part plan,
cursors and provider job ids; never contact data, never URLs."""

import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from contact_jobs import csvscan, importkey
from contact_jobs.config import PollSettings
from contact_jobs.errors import ImportFailed, InvalidImportFile
from contact_jobs.polling import first_poll, next_poll
from contact_jobs.state import (
    Execution,
    ImportJob,
    Part,
    PartResult,
    SendProgress,
    Source,
    Upload,
    WorkflowState,
)
from contact_jobs.streams import open_sized
from contact_jobs.transfer import CopySettings, copy_url_to_s3
from contact_jobs.urlguard import UrlGuard

COUNTS = ("requested", "created", "updated", "errored")
MAX_WARNINGS = 20  # the rest are counted in one more warning
# Step Functions refuses a state over 256 KiB with States.DataLimitExceeded, which no Catch sees (no
# notification). The prepared job is held well under it: the rest of the state (results per part, the
# notification, an error) must fit beside it.
MAX_PREPARED_JOB_BYTES = 128 * 1024


@dataclass(frozen=True)
class FieldMapping:  # CSV header -> provider field ids, by name: nobody writes field ids by hand
    field_ids: list[str | None]  # one per column; None skips it
    warnings: list[str]


class ImportAdapter(Protocol):
    name: str

    def limits(self, configured: csvscan.Limits) -> csvscan.Limits: ...

    def map_fields(self, header: list[str]) -> FieldMapping: ...

    def check_target(self, target: str) -> None: ...

    def send(self, job: ImportJob, s3: Any, deadline: float) -> tuple[SendProgress, list[Upload]]:
        """Send what fits before ``deadline`` (monotonic seconds); the job's next progress and uploads."""

    def results(self, job: ImportJob) -> tuple[list[PartResult] | None, list[str]]:
        """Every part's result once all have finished (else None), and warnings to report."""

    def errors_url(self, provider_job_id: str) -> str | None: ...


def prepare(
    state: WorkflowState,
    adapter: ImportAdapter,
    s3: Any,
    limits: csvscan.Limits,
    execution: Execution,
    poll: PollSettings,
    deadline: float | None = None,
) -> ImportJob:
    """Check the file (one streaming pass, done by ``deadline``), map its columns, check the target:
    before anything is sent."""
    source = state["source"]
    key = importkey.parse(source["key"])
    body, size = open_sized(s3, source["bucket"], source["key"], source.get("version_id"))
    read_limits = adapter.limits(limits)
    scanned = csvscan.scan(body, key.gzipped, read_limits, compressed_size=size, deadline=deadline)
    mapping = adapter.map_fields(scanned.header)
    adapter.check_target(key.target)
    job: ImportJob = {
        "operation": "import",
        "provider": key.provider,
        "job_id": execution["name"],
        "started_at": execution["start_time"],
        "source": {**source, "gzipped": key.gzipped},
        "target": key.target,
        "errors_prefix": key.errors_prefix,
        "field_mappings": mapping.field_ids,
        "warnings": capped(mapping.warnings),
        "header": scanned.header_bytes.decode(),
        "rows": scanned.rows,
        "limits": asdict(read_limits),  # later reads of the file keep the bounds it was checked with
        # One part uploads the object as it is (gzip too); several upload header + their slice.
        "parts": cast(list[Part], [asdict(part) for part in scanned.parts]),
        "send": {"calls": 0, "done": False, "retry_in_s": 0},
        "uploads": [],
        "status": "sending",
        "poll": first_poll(poll),
    }
    check_state_size(job)
    return job


def capped(warnings: list[str]) -> list[str]:
    """At most ``MAX_WARNINGS``: the last one says how many more there were."""
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    more = len(warnings) - (MAX_WARNINGS - 1)
    return [*warnings[: MAX_WARNINGS - 1], f"... and {more} more warnings like these"]


def check_state_size(job: ImportJob) -> None:
    size = len(json.dumps(job))  # ASCII-escaped: never less than what Step Functions counts
    if size > MAX_PREPARED_JOB_BYTES:
        raise InvalidImportFile(
            f"header is too large to carry through the workflow: the job would take {size} bytes of "
            f"state, more than {MAX_PREPARED_JOB_BYTES}; use fewer or shorter column names "
            f"({len(job['field_mappings'])} columns now)"
        )


@dataclass(frozen=True)
class PartSource:
    """Where a part's bytes come from and how its columns map: the import's one file, or a restore's."""

    source: Source
    header: str
    field_mappings: list[str | None]
    whole: bool  # the file's only part: its object is sent as it is (gzip too)


def part_source(job: ImportJob, part: Part) -> PartSource:
    if "file" in part and "files" in job:
        file = job["files"][part["file"]]
        whole = sum(1 for other in job["parts"] if other.get("file") == part["file"]) == 1
        return PartSource(file["source"], file["header"], file["field_mappings"], whole)
    return PartSource(job["source"], job["header"], job["field_mappings"], len(job["parts"]) == 1)


def send(job: ImportJob, adapter: ImportAdapter, s3: Any, budget_s: int) -> ImportJob:
    progress, uploads = adapter.send(job, s3, time.monotonic() + budget_s)
    return {**job, "send": {**progress, "calls": job["send"]["calls"] + 1}, "uploads": uploads}


def check(job: ImportJob, adapter: ImportAdapter, now: datetime, poll: PollSettings) -> ImportJob:
    """Poll every part; finished when all are, with summed counts and one outcome."""
    results, warnings = adapter.results(job)
    job = {**job, "warnings": job["warnings"] + [w for w in warnings if w not in job["warnings"]]}
    if results is None:
        return {
            **job,
            "status": "running",
            "poll": next_poll(job["poll"]["attempt"], job["started_at"], now, poll),
        }
    statuses = [result["status"] for result in results]
    details: dict[str, int] = {}
    for result in results:
        for name, value in result.get("details", {}).items():
            details[name] = details.get(name, 0) + value
    failed = [result["provider_job_id"] for result in results if result["status"] == "failed"]
    reasons = [r.get("reason", "") for r in results if r["status"] == "failed" and r.get("reason")]
    return {
        **job,
        "status": "finished",
        "results": results,
        "counts": {name: sum(result["counts"][name] for result in results) for name in COUNTS},
        "details": details,
        "outcome": "failed" if failed else ("errored" if "errored" in statuses else "completed"),
        "failure": _failure(adapter.name, failed, reasons),
    }


def _failure(provider: str, failed: list[str], reasons: list[str]) -> str | None:
    if not failed:
        return None
    return f"{provider} import job(s) {', '.join(failed)} failed" + "".join(f": {r}" for r in reasons)


def copy_errors(
    job: ImportJob, adapter: ImportAdapter, s3: Any, guard: UrlGuard, settings: CopySettings
) -> list[str]:
    """Copy each part's error report into S3 before its URL expires (the URL is read fresh here)."""
    keys = []
    folder = job.get("errors_folder")
    stem = "" if folder else importkey.parse(job["source"]["key"]).stem + "-"
    folder = folder or f"{job['errors_prefix']}{job['job_id']}/"
    for result in job.get("results", []):
        if not result.get("has_errors_file"):
            continue
        url = adapter.errors_url(result["provider_job_id"])
        if not url:
            raise ImportFailed(f"import {result['provider_job_id']} no longer lists its errors file")
        key = f"{folder}{stem}part-{result['index'] + 1:03d}-errors.csv"
        keys.append(copy_url_to_s3(s3, url, job["source"]["bucket"], key, guard, settings).key)
    return keys
