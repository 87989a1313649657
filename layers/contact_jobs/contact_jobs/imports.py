"""The import job's steps, one per state machine Task. The state carries the source's bucket, key and
version, the part plan and provider job ids; never contact data, never URLs."""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from contact_jobs import csvscan, importkey
from contact_jobs.config import PollSettings
from contact_jobs.errors import ImportFailed
from contact_jobs.fieldmap import map_sendgrid_fields
from contact_jobs.polling import first_poll, next_poll
from contact_jobs.providers.sendgrid import SendGridClient
from contact_jobs.streams import ExactBody, open_object, part_chunks, read_chunks
from contact_jobs.transfer import CopySettings, copy_url_to_s3, upload_to_url
from contact_jobs.urlguard import UrlGuard

COUNTS = ("requested", "created", "updated", "errored")


def source_of(state: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = state["source"]
    return source


def prepare(
    state: dict[str, Any],
    client: SendGridClient,
    s3: Any,
    limits: csvscan.Limits,
    execution: dict[str, str],
    poll: PollSettings,
) -> dict[str, Any]:
    """Check the file (one streaming pass), map its columns, check the list: before any contact is sent."""
    source = source_of(state)
    key = importkey.parse(source["key"])
    body = open_object(s3, source["bucket"], source["key"], source.get("version_id"))
    scanned = csvscan.scan(body, key.gzipped, limits)
    mapping = map_sendgrid_fields(scanned.header, client.field_definitions())
    if key.target:
        client.check_list(key.target)
    whole_file = len(scanned.parts) == 1
    return {
        "operation": "import",
        "provider": key.provider,
        "job_id": execution["name"],
        "started_at": execution["start_time"],
        "source": {**source, "gzipped": key.gzipped},
        "list_ids": [key.target] if key.target else [],
        "errors_prefix": key.errors_prefix,
        "field_mappings": mapping.field_ids,
        "warnings": mapping.warnings,
        "header": scanned.header_bytes.decode(),
        "rows": scanned.rows,
        # One part uploads the object as it is (gzip too); several upload header + their slice.
        "parts": [{**asdict(part), "whole_file": whole_file} for part in scanned.parts],
        "state": "running",
        "poll": first_poll(poll).as_dict(),
    }


def upload_part(
    job: dict[str, Any],
    part: dict[str, Any],
    client: SendGridClient,
    s3: Any,
    guard: UrlGuard,
    settings: CopySettings,
) -> dict[str, Any]:
    """Create the provider's import job for one part and stream the part to its upload URL."""
    source = job["source"]
    created = client.create_import(job["list_ids"], job["field_mappings"])
    if part["whole_file"]:
        head = s3.head_object(Bucket=source["bucket"], Key=source["key"], **_version(source))
        stream = open_object(s3, source["bucket"], source["key"], source.get("version_id"))
        body = ExactBody(read_chunks(stream), int(head["ContentLength"]))
    else:
        header = job["header"].encode()
        chunks = part_chunks(
            s3, source["bucket"], source["key"], source.get("version_id"), source["gzipped"], header,
            part["start"], part["end"],
        )  # fmt: skip
        body = ExactBody(chunks, len(header) + part["end"] - part["start"])
    upload_to_url(created.upload_uri, created.upload_headers, body, guard, settings)
    return {"index": part["index"], "import_id": created.job_id, "rows": part["rows"]}


def _version(source: dict[str, Any]) -> dict[str, str]:
    return {"VersionId": source["version_id"]} if source.get("version_id") else {}


def check(job: dict[str, Any], client: SendGridClient, now: datetime, poll: PollSettings) -> dict[str, Any]:
    """Poll every part's import; finished when all are, with summed counts and an outcome."""
    statuses = [client.import_status(upload["import_id"]) for upload in job["uploads"]]
    unknown = sorted({s.status for s in statuses} - {"pending", "completed", "errored", "failed"})
    if unknown:
        raise ImportFailed(f"SendGrid reported an unknown import status {', '.join(unknown)}")
    if not all(status.finished for status in statuses):
        return {
            **job,
            "state": "running",
            "poll": next_poll(job["poll"]["attempt"], job["started_at"], now, poll).as_dict(),
        }
    results = [
        {"index": upload["index"], "import_id": s.job_id, "status": s.status,
         "has_errors_file": bool(s.errors_url),
         **{name: getattr(s, name) for name in COUNTS}}
        for upload, s in zip(job["uploads"], statuses, strict=True)
    ]  # fmt: skip
    return {
        **job,
        "state": "finished",
        "results": results,
        "counts": {name: sum(result[name] for result in results) for name in COUNTS},
        "outcome": _outcome([s.status for s in statuses]),
    }


def _outcome(statuses: list[str]) -> str:
    if "failed" in statuses:
        return "failed"
    return "errored" if "errored" in statuses else "completed"


def copy_errors(
    job: dict[str, Any], client: SendGridClient, s3: Any, guard: UrlGuard, settings: CopySettings
) -> list[str]:
    """Copy each part's error report into S3 before its URL expires (the URL is read fresh here)."""
    keys = []
    stem = job["source"]["key"].rsplit("/", 1)[1].removesuffix(".gz").removesuffix(".csv")
    for result in job["results"]:
        if not result["has_errors_file"]:
            continue
        url = client.import_status(result["import_id"]).errors_url
        if not url:
            raise ImportFailed(f"import {result['import_id']} no longer lists its errors file")
        key = f"{job['errors_prefix']}{job['job_id']}/{stem}-part-{result['index'] + 1:03d}-errors.csv"
        keys.append(copy_url_to_s3(s3, url, job["source"]["bucket"], key, guard, settings).key)
    return keys


def failure_message(job: dict[str, Any]) -> str:
    failed = [r["import_id"] for r in job.get("results", []) if r["status"] == "failed"]
    return f"SendGrid import job(s) {', '.join(failed)} failed" if failed else ""
