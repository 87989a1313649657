"""One measured verify, in its own process. Modes:

- ``engine``: contact_jobs.verify.verify_backup on the backup whose manifest is ``--key`` (every file read
  back, SHA-256, size, gzip integrity, row count);
- ``baseline``: each file the manifest lists read with ``get_object`` and hashed with hashlib, nothing else
  (what any check of a stored file must at least do);
- ``baseline_inflate``: the baseline plus zlib inflating each gzip file (what any gzip check must at least
  do): the baseline of a gzip backup.

The S3 client reads as on Lambda (see bench/copier.py). Prints one JSON line: seconds, bytes, peak RSS,
CPU seconds.
"""

import dataclasses
import hashlib
import json
import time
import zlib
from typing import Any

import boto3

from bench.copier import UNSIGNED_PAYLOAD
from bench.measured import arguments, cpu_s, report
from contact_jobs.manifest import parse_manifest
from contact_jobs.verify import READ_CHUNK, verify_backup

MODES = ("engine", "engine_first", "baseline", "baseline_inflate")


def _forget_row_counts(s3: Any, bucket: str, key: str) -> None:
    """Make the backup's next verify its first: the manifest without the row counts a verify records."""
    manifest = parse_manifest(key, s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    uncounted = tuple(dataclasses.replace(entry, rows=None) for entry in manifest.files)
    s3.put_object(Bucket=bucket, Key=key, Body=dataclasses.replace(manifest, files=uncounted).to_json())


def _engine(s3: Any, bucket: str, key: str) -> int:
    manifest, verified = verify_backup(s3, bucket, key)
    if not verified.verified:
        raise SystemExit(f"the benchmark's backup does not verify: {verified.summary()}")
    return manifest.total_bytes


def _baseline(s3: Any, bucket: str, key: str, inflate: bool) -> int:
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    read = 0
    for entry in manifest["files"]:
        digest = hashlib.sha256()
        inflater = zlib.decompressobj(wbits=31) if inflate and entry["gzip"] else None
        with s3.get_object(Bucket=bucket, Key=entry["key"])["Body"] as body:
            while chunk := body.read(READ_CHUNK):
                read += len(chunk)
                digest.update(chunk)
                if inflater is not None:
                    inflater.decompress(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise SystemExit(f"baseline read {entry['key']} with another SHA-256 than its manifest")
    return read


def main() -> None:
    args = arguments("one measured verify", MODES)
    s3 = boto3.client("s3", endpoint_url=args.endpoint, config=UNSIGNED_PAYLOAD)
    if args.mode == "engine_first":
        _forget_row_counts(s3, args.bucket, args.key)  # before the clock starts
    started, cpu_started = time.perf_counter(), cpu_s()
    if args.mode.startswith("engine"):
        read = _engine(s3, args.bucket, args.key)
    else:
        read = _baseline(s3, args.bucket, args.key, inflate=args.mode == "baseline_inflate")
    report(time.perf_counter() - started, bytes=read, cpu_s=cpu_s() - cpu_started)


if __name__ == "__main__":
    main()
