"""One measured restore send, in its own process, from a backup in S3 (``--key``: its manifest) to the fake
SendGrid (``--url``), until every import the run created is reported finished. Modes:

- ``engine``: what the restore's functions run, in one process: contact_jobs.restore.prepare (the
  backup's files scanned, columns mapped, parts planned) as PrepareRestore runs it, then
  contact_jobs.imports.send (one part a call: create the import, record it in the progress table, a
  DynamoDB table in the moto server, stream the part to the upload URI) until done, as SendImport runs it,
  then the adapter's results polled until every import has finished, as CheckJob does;
- ``baseline``: what a person would write: the field ids fetched once, then per backup file: the object
  read whole with get_object, its header line read to map the columns, an import created, the bytes PUT to
  its upload URI with requests; then each import's status polled until finished.

Both poll every POLL_S. The environment (template.yaml's for SendImportFunction, with BACKUP_BUCKET,
DOWNLOAD_HOSTS and IMPORT_PROGRESS_TABLE set by bench/__main__.py) gives the engine its settings. Prints
one JSON line: seconds, contacts (created + updated, as the fake reported them), imports, prepare_s,
bytes (read from S3 for sending), CPU seconds, peak RSS.
"""

import gzip
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import requests

from bench.copier import UNSIGNED_PAYLOAD
from bench.measured import arguments, cpu_s, report
from contact_jobs import imports, runtime
from contact_jobs.config import settings
from contact_jobs.progress import ProgressStore
from contact_jobs.providers.sendgrid.client import SendGridClient
from contact_jobs.providers.sendgrid.imports import SendGridImports
from contact_jobs.restore import NO_LIST, RestoreContext, prepare, restore_execution_name
from contact_jobs.state import Execution, ImportJob, WorkflowState

API_KEY = "SG.sandbox-key"  # the fake's
POLL_S = 0.25
FINISH_TIMEOUT_S = 1800


def _until[T](answer: Callable[[], T | None]) -> T:
    """Poll until ``answer`` gives something (deadline polling, as the workflow's CheckJob loop)."""
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    while (result := answer()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the imports did not finish")
        time.sleep(POLL_S)
    return result


def engine(s3: Any, url: str, bucket: str, key: str) -> dict[str, float]:
    config = settings()
    table = boto3.resource("dynamodb", endpoint_url=s3.meta.endpoint_url).Table(config.progress_table)
    client = SendGridClient(url, API_KEY, runtime.session(), config.http_timeout_s)
    adapter = SendGridImports(client, runtime.url_guard(), runtime.copy_settings(), ProgressStore(table))
    context = RestoreContext(s3, bucket, adapter, client, config.import_limits)
    request = {"provider": "sendgrid", "manifest_key": key, "list_id": NO_LIST}
    state = cast(WorkflowState, request)
    name = restore_execution_name("sendgrid", key, None)
    execution: Execution = {
        "name": name,
        "arn": f"arn:bench:{name}",
        "start_time": datetime.now(UTC).isoformat(),
    }
    started = time.perf_counter()
    job: ImportJob = prepare(state, context, execution, config.poll)
    prepare_s = time.perf_counter() - started
    while not job["send"]["done"]:
        job = imports.send(job, adapter, s3, config.send_time_budget_s)
    results = _until(lambda: adapter.results(job)[0])
    if any(result["status"] != "completed" for result in results):
        raise SystemExit(f"the restore's imports did not all complete: {[r['status'] for r in results]}")
    contacts = sum((r["counts"]["created"] or 0) + (r["counts"]["updated"] or 0) for r in results)
    sent = sum(part["end"] - part["start"] for part in job["parts"])
    return {"contacts": contacts, "imports": len(results), "prepare_s": prepare_s, "bytes": sent}


def baseline(s3: Any, url: str, bucket: str, key: str) -> dict[str, float]:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {API_KEY}"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    definitions = api.get(f"{url}/v3/marketing/field_definitions", timeout=30).json()
    field_ids = {
        d["name"].lower(): d["id"]
        for d in definitions["reserved_fields"] + definitions["custom_fields"]
        if not d.get("read_only")
    }
    job_ids, sent = [], 0
    for entry in manifest["files"]:
        data = s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read()
        sent += len(data)
        first = gzip.GzipFile(fileobj=io.BytesIO(data)) if entry["gzip"] else io.BytesIO(data)
        header = first.readline().decode().strip().split(",")
        mappings = [field_ids.get(column.lower()) for column in header]
        created = api.put(f"{url}/v3/marketing/contacts/imports", timeout=30,
                          json={"file_type": "csv", "field_mappings": mappings})  # fmt: skip
        created.raise_for_status()
        upload = created.json()
        headers = {item["header"]: item["value"] for item in upload["upload_headers"]}
        requests.put(upload["upload_uri"], data=data, headers=headers, timeout=600).raise_for_status()
        job_ids.append(upload["job_id"])
        del data, first
    contacts = 0
    for job_id in job_ids:
        status = _until(lambda: _finished(api, url, job_id))  # noqa: B023 (called at once)
        contacts += status["results"]["created_count"] + status["results"]["updated_count"]
    return {"contacts": contacts, "imports": len(job_ids), "prepare_s": 0.0, "bytes": sent}


def _finished(api: requests.Session, url: str, job_id: str) -> dict[str, Any] | None:
    status: dict[str, Any] = api.get(f"{url}/v3/marketing/contacts/imports/{job_id}", timeout=30).json()
    if status["status"] == "pending":
        return None
    if status["status"] != "completed":
        raise SystemExit(f"baseline import {job_id}: {status['status']}")
    return status


def main() -> None:
    args = arguments("one measured restore send")
    s3 = boto3.client("s3", endpoint_url=args.endpoint, config=UNSIGNED_PAYLOAD)
    run = engine if args.mode == "engine" else baseline
    started, cpu_started = time.perf_counter(), cpu_s()
    measured = run(s3, args.url, args.bucket, args.key)
    report(time.perf_counter() - started, **measured, cpu_s=cpu_s() - cpu_started)


if __name__ == "__main__":
    main()
