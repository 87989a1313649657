"""One measured copy, in its own process: ``engine`` (contact_jobs.transfer) or ``baseline`` (boto3
``upload_fileobj`` reading the HTTP response stream). Prints one JSON line: seconds, bytes, peak RSS."""

import time
from typing import IO, cast

import boto3
import requests

from bench.measured import arguments, report
from contact_jobs.runtime import copy_settings
from contact_jobs.transfer import copy_url_to_s3
from contact_jobs.urlguard import UrlGuard


def main() -> None:
    args = arguments(__doc__ or "")
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
    report(seconds, bytes=copied)


if __name__ == "__main__":
    main()
