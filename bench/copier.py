"""One measured copy, in its own process: ``engine`` (contact_jobs.transfer) or ``baseline`` (boto3
``upload_fileobj`` reading the HTTP response stream). Prints one JSON line: seconds, bytes, peak RSS."""

import argparse
import json
import time
from pathlib import Path
from typing import IO, cast

import boto3
import requests

from contact_jobs.runtime import copy_settings
from contact_jobs.transfer import copy_url_to_s3
from contact_jobs.urlguard import UrlGuard


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["engine", "baseline"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1")
    started = time.perf_counter()
    if args.mode == "engine":
        host = args.url.split("/")[2]
        # The copy settings the deployed function reads from its environment (see bench/__main__.py).
        copied = copy_url_to_s3(s3, args.url, args.bucket, args.key, UrlGuard([host]), copy_settings()).bytes
    else:
        with requests.get(args.url, stream=True, timeout=60) as response:
            response.raise_for_status()
            s3.upload_fileobj(cast(IO[bytes], response.raw), args.bucket, args.key)
            copied = int(response.headers["Content-Length"])
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "bytes": copied, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This address space's high-water mark. Not getrusage's ru_maxrss: on Linux that survives execve and
    counts the parent's resident memory at fork time."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    main()
