"""Verify a backup: read every file back from S3 and check it against the manifest.

Each file is streamed once, in chunks, with bounded memory: its size, its SHA-256, its gzip integrity
(each member's CRC-32 and length against its trailer) and its row count (schema 2 manifests). Files under
the backup's prefix that the manifest does not list are reported too. The SHA-256 and the inflating run
on threads of their own (hashlib and zlib release the GIL), beside the reads.
"""

import dataclasses
import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contact_jobs.errors import BackupUnreadable, CopyFailed, InvalidRequest, TransientError
from contact_jobs.gzipcheck import GzipVerifier
from contact_jobs.manifest import Manifest, ManifestFile, manifest_key, parse_manifest
from contact_jobs.rowcount import RowCounter
from contact_jobs.state import VerifyProgress, WorkflowState
from contact_jobs.transfer import REFUSED_WRITE_CODES, BackgroundFeed

READ_CHUNK = 8 * 1024 * 1024
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # a manifest of 100,000 files is about 25 MB: far past any backup
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
MAX_PROBLEMS = 50  # carried in the state and the notification; problem_count says how many in all


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
    key, manifest, _ = _read_manifest(s3, bucket, location)
    return key, manifest


def _read_manifest(s3: Any, bucket: str, location: str) -> tuple[str, Manifest, str]:
    """... and the ETag of the very object parsed (what a write of row counts is conditional on)."""
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
    return key, parse_manifest(key, got["Body"].read()), str(got["ETag"])


def verify_backup(s3: Any, bucket: str, location: str) -> tuple[Manifest, VerifyReport]:
    """Verify a whole backup in one go (the workflow's step resumes in slices: ``verify_step``)."""
    progress = verify_step({"manifest_key": location}, s3, bucket, deadline=math.inf)
    return read_manifest(s3, bucket, progress["manifest_key"])[1], report_of(progress)


def report_of(progress: VerifyProgress) -> VerifyReport:
    problems = tuple(Problem(p["file"], p["problem"]) for p in progress["problems"])
    return VerifyReport(
        progress["manifest_key"], progress["files"], progress["bytes"], progress.get("rows"), problems
    )


def verify_step(
    state: WorkflowState, s3: Any, bucket: str, deadline: float, started: VerifyProgress | None = None
) -> VerifyProgress:
    """Check files from where the last call stopped, at least one, until ``deadline`` (monotonic s).
    The first call also names the files under the prefix that the manifest does not list."""
    if started is None:  # the first call: the manifest named by the request, and the prefix listed
        key, manifest, etag = _read_manifest(s3, bucket, _location(state))
        progress = _first_progress(s3, bucket, key, manifest)
    else:  # a later call reads the manifest again: its ETag guards the row counts' write
        progress = started
        key, manifest, etag = _read_manifest(s3, bucket, progress["manifest_key"])
    counted = list(progress["counted_rows"])
    found: list[dict[str, str]] = []
    first = True
    while len(counted) < len(manifest.files) and (first or time.monotonic() < deadline):
        entry = manifest.files[len(counted)]
        problems, rows = _check_file(s3, bucket, entry, manifest.file_type)
        found.extend({"file": p.file, "problem": p.problem} for p in problems)
        counted.append(rows)
        first = False
    progress = _added(progress, found, counted_rows=counted)
    if len(counted) == len(manifest.files):
        progress = _finish(progress, manifest, s3, bucket, (key, etag))
    return progress


def _added(progress: VerifyProgress, found: list[dict[str, str]], **changed: Any) -> VerifyProgress:
    """Problems found in this call added: the first MAX_PROBLEMS travel in the state, all are counted."""
    problems = (progress["problems"] + found)[:MAX_PROBLEMS]
    count = progress["problem_count"] + len(found)
    return {**progress, **changed, "problems": problems, "problem_count": count}  # type: ignore[typeddict-item]


def _location(state: WorkflowState) -> str:
    """The manifest a verify reads: the one a backup just wrote, or the one its request names."""
    manifest_state = state.get("manifest")
    location = manifest_state["manifest_key"] if manifest_state else str(state.get("manifest_key") or "")
    if not location:
        raise InvalidRequest("verify needs manifest_key: the backup's manifest key or its prefix")
    return location


def _first_progress(s3: Any, bucket: str, key: str, manifest: Manifest) -> VerifyProgress:
    prefix = key.rsplit("/", 1)[0] + "/"
    stored = _sizes_under(s3, bucket, prefix)
    listed = {entry.key for entry in manifest.files} | {key}
    extra = [{"file": k, "problem": "not listed in the manifest"} for k in sorted(set(stored) - listed)]
    return {
        "manifest_key": key,
        "prefix": prefix,
        "files": len(manifest.files),
        "bytes": manifest.total_bytes,
        "counted_rows": [],
        "problems": extra[:MAX_PROBLEMS],
        "problem_count": len(extra),
        "done": False,
        "verified": False,
    }


def _finish(
    progress: VerifyProgress, manifest: Manifest, s3: Any, bucket: str, read: tuple[str, str]
) -> VerifyProgress:
    """Every file checked: the total against the export's count, and row counts recorded if missing.
    ``read``: the manifest's key and the ETag of the copy this call parsed."""
    key, etag = read
    counted = progress["counted_rows"]
    total = None if any(rows is None for rows in counted) else sum(r or 0 for r in counted)
    found = []
    if total is not None and manifest.contact_count is not None and total != manifest.contact_count:
        found.append({"file": key, "problem": f"the files hold {total} contacts, the export had "
                      f"{manifest.contact_count}"})  # fmt: skip
    progress = _added(progress, found)
    verified = progress["problem_count"] == 0
    if verified and total is not None and any(entry.rows is None for entry in manifest.files):
        record_row_counts(s3, bucket, (key, etag), manifest, [r or 0 for r in counted])
    return {**progress, "rows": total, "done": True, "verified": verified}


def record_row_counts(
    s3: Any, bucket: str, read: tuple[str, str], manifest: Manifest, rows: list[int]
) -> None:
    """The first verify of a backup counts its rows (counting while copying would inflate every gzip
    file on the copy's path, about 20x the cost of its SHA-256) and writes them into its manifest, so
    later verifies rely on them. Conditional on the manifest being the very copy this verify parsed."""
    key, etag = read
    files = tuple(dataclasses.replace(e, rows=n) for e, n in zip(manifest.files, rows, strict=True))
    updated = dataclasses.replace(manifest, files=files).to_json()
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=updated, ContentType="application/json", IfMatch=etag)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in REFUSED_WRITE_CODES:
            raise  # another writer changed the manifest meanwhile: its counts, if any, stand


def _sizes_under(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        sizes.update((item["Key"], int(item["Size"])) for item in page.get("Contents", []))
    return sizes


def _check_file(
    s3: Any, bucket: str, entry: ManifestFile, file_type: str
) -> tuple[list[Problem], int | None]:
    """The file's problems and its row count (None when it could not be counted).

    A file whose row count the manifest records was read whole by a verify that passed: its gzip trailers
    checked, its rows counted, its SHA-256 matched. Bytes with that SHA-256 are those bytes, so a later
    verify reads such a file for its size and SHA-256 alone (as fast as any read of it), and only a file
    that no longer matches is read again, in full, to say how."""
    recorded = entry.rows is not None
    check = _checked(s3, bucket, entry, file_type, content=not recorded)
    if check is None:  # gone, whether before this verify listed the prefix or since
        return [Problem(entry.key, "missing from the bucket")], None
    if recorded and check.problems(entry):
        check = _checked(s3, bucket, entry, file_type, content=True) or check
    problems = [Problem(entry.key, problem) for problem in check.problems(entry)]
    if recorded and not problems:
        return [], entry.rows
    return problems, check.rows


def _checked(s3: Any, bucket: str, entry: ManifestFile, file_type: str, content: bool) -> "FileCheck | None":
    check = FileCheck(file_type, entry.gzip, content)
    try:
        return check if _stream(s3, bucket, entry.key, check) else None
    finally:
        check.close()


def _stream(s3: Any, bucket: str, key: str, check: "FileCheck") -> bool:
    """Feed the object to ``check``; False if it is not there."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        with body:
            while chunk := body.read(READ_CHUNK):
                check.update(chunk)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
            return False
        raise TransientError(f"reading s3://{bucket}/{key} failed: {type(exc).__name__}") from None
    except BotoCoreError as exc:
        raise TransientError(f"reading s3://{bucket}/{key} failed: {type(exc).__name__}") from None
    return True


class FileCheck:
    """Everything verify learns from a file's bytes, fed in order."""

    def __init__(self, file_type: str, gzipped: bool, content: bool = True) -> None:
        """``content``: also check the gzip trailers and count the rows (else size and SHA-256 only)."""
        self.bytes = 0
        self._sha256 = hashlib.sha256()
        self._rows = RowCounter(file_type)
        self._gzip = GzipVerifier(output=self._rows.update) if gzipped and content else None
        self._hashing = BackgroundFeed([self._sha256])
        self._counting = BackgroundFeed([self._gzip or self._rows]) if content else None
        self._gzip_problem: str | None = None

    def update(self, data: bytes) -> None:
        self.bytes += len(data)
        self._hashing.put(data)
        if self._counting is not None and self._gzip_problem is None:
            self._counting_put(self._counting, data)

    def _counting_put(self, counting: BackgroundFeed, data: bytes) -> None:
        try:
            counting.put(data)
        except CopyFailed as exc:  # the gzip stream is corrupt: counting stops, hashing goes on
            self._gzip_problem = str(exc)

    def close(self) -> None:
        self._hashing.close(raise_error=False)
        if self._counting is not None:
            self._counting.close(raise_error=False)

    def problems(self, entry: ManifestFile) -> list[str]:
        self._hashing.close()
        found: list[str] = []
        if self.bytes != entry.bytes:
            found.append(f"read {self.bytes} bytes, the manifest says {entry.bytes}")
        digest = self._sha256.hexdigest()
        if digest != entry.sha256:
            found.append(f"SHA-256 is {digest}, the manifest says {entry.sha256}")
        gzip_problem = self.gzip_problem
        if gzip_problem:
            found.append(gzip_problem)
        elif self._counting is not None and entry.rows is not None and self._rows.rows != entry.rows:
            found.append(f"holds {self._rows.rows} rows, the manifest says {entry.rows}")
        return found

    @property
    def rows(self) -> int | None:
        return None if self._counting is None or self.gzip_problem else self._rows.rows

    @property
    def gzip_problem(self) -> str | None:
        if self._counting is None:
            return None
        try:
            self._counting.close()
            if self._gzip is not None and self._gzip_problem is None:
                self._gzip.finish()
        except CopyFailed as exc:
            self._gzip_problem = self._gzip_problem or str(exc)
        return self._gzip_problem
