"""One measured copy, in its own process. Modes:

- ``engine``: contact_jobs.transfer, as deployed (SHA-256 on its own thread);
- ``engine_inline``: the same with the SHA-256 on the reading thread, as before (the A/B of the thread);
- ``engine_unhashed``: the same with no SHA-256 at all (not a valid copy: what the manifest's hash costs);
- ``baseline``: boto3 ``upload_fileobj`` reading the HTTP response stream;
- ``source``: the download read into nothing, part-sized reads (what the source can give);
- ``sink``: a multipart upload of in-memory bytes with the engine's part size, concurrency and checksum
  (what the S3 end can take).

Every S3 client is built as on Lambda, whose HTTPS endpoint to S3 sends UploadPart and PutObject with an
unsigned payload: the benchmark's endpoints are plain http on loopback, where botocore would otherwise
SHA-256 every body to sign it, so ``payload_signing_enabled`` is off. A checksum is still sent, the
baseline's botocore default (CRC-32) and the engine's CRC-32C (``transfer.UPLOAD_CHECKSUM``): over
plain http as a header, over Lambda's https as a trailer; computed over the same bytes either way.
The read timeout is the function's own (900 s), not botocore's 60 s: moto answers CompleteMultipartUpload
only once it has joined every part in memory, which takes minutes for 4 GiB here, and a retry sent after 60 s
while the first complete is still running races it inside moto (the parts it reads are closed under it:
"seek of closed file", HTTP 500, four times, then the abort finds no upload). S3 itself keeps the
connection alive while it completes (it sends the 200 early), so the 60 s default holds against AWS.
Prints one JSON line: seconds, bytes, peak RSS, CPU seconds.
"""

import time
from typing import IO, Any, cast

import boto3
import requests
from botocore.config import Config

from bench.measured import arguments, cpu_s, report
from contact_jobs import transfer
from contact_jobs.runtime import copy_settings
from contact_jobs.urlguard import UrlGuard

MODES = ("engine", "engine_inline", "engine_unhashed", "baseline", "source", "sink")
UNSIGNED_PAYLOAD = Config(s3={"payload_signing_enabled": False}, read_timeout=900)


class InlineFeed:
    """The engine's consumers fed on the reading thread (the design before the hashing thread)."""

    def __init__(self, consumers: list[transfer.ChunkConsumer], depth: int = 0) -> None:
        self._consumers = consumers

    def put(self, data: bytes) -> None:
        for consumer in self._consumers:
            consumer.update(data)

    def close(self, raise_error: bool = True) -> None:
        pass


class UnhashedFeed(InlineFeed):
    """The engine's consumers never fed: no SHA-256 (the digest reported is that of nothing)."""

    def put(self, data: bytes) -> None:
        pass


class Repeated:
    """``size`` bytes as ``part``-sized reads of one buffer made once (not seekable, like a download)."""

    def __init__(self, size: int, part: int) -> None:
        self._left = size
        self._block = bytes(range(256)) * (part // 256)

    def read(self, amount: int = -1) -> bytes:
        take = min(self._left, len(self._block) if amount < 0 else amount)
        self._left -= take
        return self._block if take == len(self._block) else self._block[:take]


def _engine(s3: Any, url: str, bucket: str, key: str) -> int:
    host = url.split("/")[2]
    # The copy settings the deployed function reads from its environment (see bench/__main__.py).
    return transfer.copy_url_to_s3(s3, url, bucket, key, UrlGuard([host]), copy_settings()).bytes


def _baseline(s3: Any, url: str, bucket: str, key: str) -> int:
    with requests.get(url, stream=True, timeout=60) as response:
        response.raise_for_status()
        s3.upload_fileobj(cast(IO[bytes], response.raw), bucket, key)
        return int(response.headers["Content-Length"])


def _source(url: str) -> int:
    part = copy_settings().part_size_mib * transfer.MIB
    read = 0
    with requests.get(url, stream=True, timeout=60) as response:
        response.raise_for_status()
        while chunk := response.raw.read(part):
            read += len(chunk)
    return read


def _sink(s3: Any, url: str, bucket: str, key: str) -> int:
    size = int(url.rstrip("/").rsplit("/", 1)[1])  # the source's URL ends with the size it serves
    settings = copy_settings()
    reader = cast(IO[bytes], Repeated(size, settings.part_size_mib * transfer.MIB))
    s3.upload_fileobj(
        reader, bucket, key, ExtraArgs=transfer.UPLOAD_CHECKSUM, Config=settings.transfer_config()
    )
    return size


def main() -> None:
    args = arguments(__doc__ or "", MODES)
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1", config=UNSIGNED_PAYLOAD)
    if args.mode == "engine_inline":
        transfer.BackgroundFeed = InlineFeed  # type: ignore[misc, assignment]
    if args.mode == "engine_unhashed":
        transfer.BackgroundFeed = UnhashedFeed  # type: ignore[misc, assignment]
    cpu_started, started = cpu_s(), time.perf_counter()  # imports and set-up are not the copy's
    if args.mode.startswith("engine"):
        copied = _engine(s3, args.url, args.bucket, args.key)
    elif args.mode == "baseline":
        copied = _baseline(s3, args.url, args.bucket, args.key)
    elif args.mode == "source":
        copied = _source(args.url)
    else:
        copied = _sink(s3, args.url, args.bucket, args.key)
    seconds = time.perf_counter() - started
    report(seconds, bytes=copied, cpu_s=cpu_s() - cpu_started)


if __name__ == "__main__":
    main()
