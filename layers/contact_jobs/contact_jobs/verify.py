"""Verify a backup: read every file back from S3 and check it against the manifest.

Each file is streamed once, in chunks, with bounded memory: its size, its SHA-256, its gzip integrity
(each member's CRC-32 and length against its trailer) and its row count (schema 2 manifests). Files under
the backup's prefix that the manifest does not list are reported too. The SHA-256 and the inflating run
on threads of their own (hashlib and zlib release the GIL), beside the reads.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contact_jobs.errors import BackupUnreadable, CopyFailed, TransientError
from contact_jobs.gzipcheck import GzipVerifier
from contact_jobs.manifest import Manifest, ManifestFile, manifest_key, parse_manifest
from contact_jobs.rowcount import RowCounter
from contact_jobs.transfer import BackgroundFeed

READ_CHUNK = 8 * 1024 * 1024
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # a manifest of 100,000 files is about 25 MB: far past any backup
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class Problem:
    file: str
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    manifest_key: str
    files: int
    bytes: int
    rows: int | None  # None when the manifest records no row counts (schema 1)
    problems: tuple[Problem, ...]

    @property
    def verified(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return "; ".join(f"{p.file}: {p.problem}" for p in self.problems[:20])


def read_manifest(s3: Any, bucket: str, location: str) -> tuple[str, Manifest]:
    """The manifest at ``location`` (its key, or the backup's prefix), and its key."""
    key = manifest_key(location)
    try:
        got = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
            raise BackupUnreadable(f"manifest s3://{bucket}/{key} does not exist") from None
        raise
    if int(got["ContentLength"]) > MAX_MANIFEST_BYTES:
        got["Body"].close()
        raise BackupUnreadable(
            f"manifest s3://{bucket}/{key} is {got['ContentLength']} bytes: not a manifest"
        )
    return key, parse_manifest(key, got["Body"].read())


def verify_backup(s3: Any, bucket: str, location: str) -> tuple[Manifest, VerifyReport]:
    key, manifest = read_manifest(s3, bucket, location)
    prefix = key.rsplit("/", 1)[0] + "/"
    stored = _sizes_under(s3, bucket, prefix)
    problems: list[Problem] = []
    for entry in manifest.files:
        problems.extend(_check_file(s3, bucket, entry, manifest.file_type, stored))
    listed = {entry.key for entry in manifest.files} | {key}
    problems.extend(Problem(extra, "not listed in the manifest") for extra in sorted(set(stored) - listed))
    rows = [entry.rows for entry in manifest.files]
    report = VerifyReport(
        manifest_key=key,
        files=len(manifest.files),
        bytes=manifest.total_bytes,
        rows=None if any(count is None for count in rows) else sum(r or 0 for r in rows),
        problems=tuple(problems),
    )
    return manifest, report


def _sizes_under(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        sizes.update((item["Key"], int(item["Size"])) for item in page.get("Contents", []))
    return sizes


def _check_file(
    s3: Any, bucket: str, entry: ManifestFile, file_type: str, stored: dict[str, int]
) -> list[Problem]:
    if entry.key not in stored:
        return [Problem(entry.key, "missing from the bucket")]
    if stored[entry.key] != entry.bytes:  # no need to read a file whose size is already wrong
        return [Problem(entry.key, f"holds {stored[entry.key]} bytes, the manifest says {entry.bytes}")]
    check = FileCheck(file_type, entry.gzip)
    try:
        _stream(s3, bucket, entry.key, check)
    finally:
        check.close()
    return [Problem(entry.key, problem) for problem in check.problems(entry)]


def _stream(s3: Any, bucket: str, key: str, check: "FileCheck") -> None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        with body:
            while chunk := body.read(READ_CHUNK):
                check.update(chunk)
    except (ClientError, BotoCoreError) as exc:
        raise TransientError(f"reading s3://{bucket}/{key} failed: {type(exc).__name__}") from None


class FileCheck:
    """Everything verify learns from a file's bytes, fed in order."""

    def __init__(self, file_type: str, gzipped: bool) -> None:
        self.bytes = 0
        self._sha256 = hashlib.sha256()
        self._rows = RowCounter(file_type)
        self._gzip = GzipVerifier(output=self._rows.update) if gzipped else None
        self._hashing = BackgroundFeed([self._sha256])
        self._counting = BackgroundFeed([self._gzip or self._rows])
        self._gzip_problem: str | None = None

    def update(self, data: bytes) -> None:
        self.bytes += len(data)
        self._hashing.put(data)
        if self._gzip_problem is None:
            self._counting_put(data)

    def _counting_put(self, data: bytes) -> None:
        try:
            self._counting.put(data)
        except CopyFailed as exc:  # the gzip stream is corrupt: counting stops, hashing goes on
            self._gzip_problem = str(exc)

    def close(self) -> None:
        self._hashing.close(raise_error=False)
        self._counting.close(raise_error=False)

    def problems(self, entry: ManifestFile) -> list[str]:
        self._hashing.close()
        found: list[str] = []
        if self.bytes != entry.bytes:
            found.append(f"read {self.bytes} bytes, the manifest says {entry.bytes}")
        digest = self._sha256.hexdigest()
        if digest != entry.sha256:
            found.append(f"SHA-256 is {digest}, the manifest says {entry.sha256}")
        gzip_problem = self._gzip_finished()
        if gzip_problem:
            found.append(gzip_problem)
        elif entry.rows is not None and self._rows.rows != entry.rows:
            found.append(f"holds {self._rows.rows} rows, the manifest says {entry.rows}")
        return found

    def _gzip_finished(self) -> str | None:
        try:
            self._counting.close()
            if self._gzip is not None and self._gzip_problem is None:
                self._gzip.finish()
        except CopyFailed as exc:
            self._gzip_problem = self._gzip_problem or str(exc)
        return self._gzip_problem
