"""One measured Which50 push of a whole CSV from S3, in its own process: ``engine`` (the import's send
step: streamed from a byte cursor, batches of 10,000, each recorded in a progress table as deployed,
here a DynamoDB table in the same moto server as S3) or ``baseline`` (the file read whole, parsed with
csv.DictReader, then posted in the same batches). Prints one JSON line."""

import argparse
import csv
import io
import math
import time
import uuid
from typing import Any, cast

import boto3

from bench.measured import arguments, report
from contact_jobs.csvscan import header_names
from contact_jobs.http import provider_session
from contact_jobs.progress import ProgressStore
from contact_jobs.providers.which50 import read_settings
from contact_jobs.providers.which50.client import MAX_BATCH, Which50Auth, Which50Client
from contact_jobs.providers.which50.imports import Which50Imports
from contact_jobs.state import ImportJob

LIST_ID = 101
PROGRESS_TABLE = "bench-import-progress"


def main() -> None:
    args = arguments(__doc__ or "")
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1")
    client = Which50Client(args.url, "w50-sandbox-key", Which50Auth(), {}, provider_session(5, 60), 120)
    started = time.perf_counter()
    pushed = engine(s3, client, args) if args.mode == "engine" else baseline(s3, client, args)
    seconds = time.perf_counter() - started
    report(seconds, contacts=pushed)


def engine(s3: Any, client: Which50Client, args: argparse.Namespace) -> int:
    size = int(s3.head_object(Bucket=args.bucket, Key=args.key)["ContentLength"])
    header = (
        s3.get_object(Bucket=args.bucket, Key=args.key, Range="bytes=0-4095")["Body"].read().split(b"\n")[0]
        + b"\n"
    )
    job = {
        "job_id": f"bench-push-{uuid.uuid4().hex[:8]}",
        "source": {"bucket": args.bucket, "key": args.key, "gzipped": False},
        "target": str(LIST_ID),
        "field_mappings": header_names(header),
        "parts": [{"index": 0, "start": len(header), "end": size}],
        "rows": 0,
        "send": {"calls": 0, "done": False, "retry_in_s": 0},
    }
    progress = ProgressStore(_progress_table(args.endpoint))
    record, _ = Which50Imports(client, read_settings(), progress).send(cast(ImportJob, job), s3, math.inf)
    assert record["done"], record
    return int(record["rows_sent"])


def _progress_table(endpoint: str) -> Any:
    """The import progress table bench/__main__.py made in the moto server, keyed as template.yaml keys it."""
    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1").Table(PROGRESS_TABLE)


def baseline(s3: Any, client: Which50Client, args: argparse.Namespace) -> int:
    text = s3.get_object(Bucket=args.bucket, Key=args.key)["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    job_id = client.create_import(LIST_ID, list(rows[0]))
    for start in range(0, len(rows), MAX_BATCH):
        client.push(LIST_ID, job_id, [{"Values": row} for row in rows[start : start + MAX_BATCH]])
    client.run(LIST_ID, job_id)
    return len(rows)


if __name__ == "__main__":
    main()
