"""One measured import upload, in its own process: ``engine`` (the import's upload path: an S3 object
streamed to an upload URI with an exact Content-Length) or ``baseline`` (``requests.put`` with the boto3
StreamingBody as data and the object's length). Prints one JSON line."""

import time

import boto3
import requests

from bench.measured import arguments, report
from contact_jobs.runtime import copy_settings
from contact_jobs.streams import ExactBody, open_sized, read_chunks
from contact_jobs.transfer import upload_to_url
from contact_jobs.urlguard import UrlGuard


def main() -> None:
    args = arguments(__doc__ or "")
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1")
    started = time.perf_counter()
    if args.mode == "engine":
        stream, length = open_sized(s3, args.bucket, args.key)
        body = ExactBody(read_chunks(stream), length)
        upload_to_url(args.url, {}, body, UrlGuard([args.url.split("/")[2]]), copy_settings())
    else:
        got = s3.get_object(Bucket=args.bucket, Key=args.key)
        streaming, length = got["Body"], int(got["ContentLength"])
        response = requests.put(args.url, data=streaming, headers={"Content-Length": str(length)}, timeout=60)
        response.raise_for_status()
    seconds = time.perf_counter() - started
    report(seconds, bytes=length)


if __name__ == "__main__":
    main()
