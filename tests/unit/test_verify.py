"""Verify reads every file of a backup back and names each one that does not match its manifest."""

import csv
import dataclasses
import gzip
import hashlib
import io
import json
import math
from typing import Any

import pytest

from contact_jobs.errors import BackupUnreadable
from contact_jobs.manifest import Manifest, ManifestFile
from contact_jobs.verify import MAX_PROBLEMS, verify_backup, verify_step

BUCKET = "backups"
PREFIX = "backups/sendgrid/2026/12/01/backup-1/"


def _csv(first: int, rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "note"])
    for n in range(first, first + rows):
        writer.writerow([f"c{n}@example.com", f'quoted "{n}", with\na newline'])
    return out.getvalue().encode()


def _store_backup(s3: Any, files: list[bytes], gzipped: bool = True) -> tuple[Manifest, list[str]]:
    entries = []
    for index, data in enumerate(files):
        body = gzip.compress(data, mtime=0) if gzipped else data
        key = f"{PREFIX}e-1/part-{index + 1:05d}.csv" + (".gz" if gzipped else "")
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        rows = data.count(b"@example.com")
        entries.append(ManifestFile(key, len(body), hashlib.sha256(body).hexdigest(), gzipped, rows))
    manifest = Manifest(
        provider="sendgrid",
        job_id="backup-1",
        provider_job_id="e-1",
        started_at="2026-12-01T00:00:00Z",
        completed_at="2026-12-01T00:05:00Z",
        file_type="csv",
        contact_count=sum(e.rows or 0 for e in entries),
        files=tuple(entries),
    )
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}manifest.json", Body=manifest.to_json())
    return manifest, [e.key for e in entries]


def _problems(s3: Any) -> dict[str, str]:
    _, report = verify_backup(s3, BUCKET, PREFIX)
    found: dict[str, str] = {}
    for problem in report.problems:
        found[problem.file] = "; ".join(filter(None, [found.get(problem.file), problem.problem]))
    return found


def test_an_untouched_backup_verifies_with_its_counts(s3: Any) -> None:
    _store_backup(s3, [_csv(0, 400), _csv(400, 300)])
    manifest, report = verify_backup(s3, BUCKET, PREFIX)
    assert report.verified, report.summary()
    assert (report.files, report.rows, report.bytes) == (2, 700, manifest.total_bytes)


def test_a_plain_csv_backup_verifies_too(s3: Any) -> None:
    _store_backup(s3, [_csv(0, 50)], gzipped=False)
    assert _problems(s3) == {}


def test_one_changed_byte_is_named_by_its_sha256(s3: Any) -> None:
    _, keys = _store_backup(s3, [_csv(0, 400), _csv(400, 300)])
    stored = bytearray(s3.get_object(Bucket=BUCKET, Key=keys[1])["Body"].read())
    stored[-12] ^= 0x01  # inside the gzip trailer's CRC-32: the size stays, the content check fails
    s3.put_object(Bucket=BUCKET, Key=keys[1], Body=bytes(stored))
    problems = _problems(s3)
    assert list(problems) == [keys[1]]
    assert "SHA-256 is" in problems[keys[1]]
    assert "CRC-32" in problems[keys[1]]


def test_a_missing_file_is_named(s3: Any) -> None:
    _, keys = _store_backup(s3, [_csv(0, 10), _csv(10, 10)])
    s3.delete_object(Bucket=BUCKET, Key=keys[0])
    assert _problems(s3) == {keys[0]: "missing from the bucket"}


def test_a_truncated_gzip_file_is_named_by_its_size(s3: Any) -> None:
    _, keys = _store_backup(s3, [_csv(0, 200)])
    stored = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=keys[0], Body=stored[: len(stored) // 2])
    assert "bytes, the manifest says" in _problems(s3)[keys[0]]


def test_a_file_the_manifest_does_not_list_is_named(s3: Any) -> None:
    _store_backup(s3, [_csv(0, 10)])
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}e-1/part-00099.csv.gz", Body=b"late")
    assert _problems(s3) == {f"{PREFIX}e-1/part-00099.csv.gz": "not listed in the manifest"}


def test_a_file_replaced_by_one_with_fewer_rows_is_read_again_in_full_and_its_rows_named(s3: Any) -> None:
    _, keys = _store_backup(s3, [_csv(0, 10)])
    s3.put_object(Bucket=BUCKET, Key=keys[0], Body=gzip.compress(_csv(0, 9), mtime=0))
    problems = _problems(s3)[keys[0]]
    assert "SHA-256 is" in problems
    assert "holds 9 rows, the manifest says 10" in problems


def test_a_first_verify_counts_rows_and_names_a_file_holding_other_than_the_export_said(s3: Any) -> None:
    manifest, keys = _store_backup(s3, [_csv(0, 10)])
    uncounted = dataclasses.replace(manifest, files=(dataclasses.replace(manifest.files[0], rows=None),))
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}manifest.json", Body=uncounted.to_json())
    s3.put_object(Bucket=BUCKET, Key=keys[0], Body=gzip.compress(_csv(0, 9), mtime=0))
    problems = _problems(s3)
    assert "SHA-256 is" in problems[keys[0]]
    assert problems[f"{PREFIX}manifest.json"] == "the files hold 9 contacts, the export had 10"


def test_a_truncated_gzip_that_kept_its_length_fails_its_gzip_check(s3: Any) -> None:
    _, keys = _store_backup(s3, [_csv(0, 200)])
    stored = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    cut = stored[: len(stored) - 8] + b"\x00" * 8  # trailer zeroed, length kept
    s3.put_object(Bucket=BUCKET, Key=keys[0], Body=cut)
    problem = _problems(s3)[keys[0]]
    assert "SHA-256" in problem
    assert "gzip" in problem


def test_a_manifest_that_does_not_exist_is_refused_by_name(s3: Any) -> None:
    with pytest.raises(BackupUnreadable, match=r"s3://backups/backups/nothing/manifest\.json does not exist"):
        verify_backup(s3, BUCKET, "backups/nothing/")


def test_the_first_verify_records_row_counts_the_manifest_lacks(s3: Any) -> None:
    manifest, _ = _store_backup(s3, [_csv(0, 40), _csv(40, 2)])
    uncounted = tuple(dataclasses.replace(entry, rows=None) for entry in manifest.files)
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{PREFIX}manifest.json",
        Body=dataclasses.replace(manifest, files=uncounted).to_json(),
    )
    _, report = verify_backup(s3, BUCKET, PREFIX)
    assert report.verified
    assert report.rows == 42
    recorded = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}manifest.json")["Body"].read())
    assert [entry["rows"] for entry in recorded["files"]] == [40, 2]


def test_files_holding_fewer_contacts_than_the_export_reported_do_not_verify(s3: Any) -> None:
    manifest, _ = _store_backup(s3, [_csv(0, 10)])
    inflated = dataclasses.replace(manifest, contact_count=11)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}manifest.json", Body=inflated.to_json())
    assert _problems(s3) == {f"{PREFIX}manifest.json": "the files hold 10 contacts, the export had 11"}


def _step_by_step(s3: Any) -> Any:
    """Verify one file per call, as VerifyBackup does when its invocation's time is short."""
    progress = verify_step({"manifest_key": PREFIX}, s3, BUCKET, deadline=-math.inf)
    yield progress
    while not progress["done"]:
        progress = verify_step({}, s3, BUCKET, deadline=-math.inf, started=progress)
        yield progress


def test_a_file_deleted_while_a_resumed_verify_runs_is_named_missing(s3: Any) -> None:
    _, keys = _store_backup(s3, [_csv(0, 5), _csv(5, 5), _csv(10, 5)])
    steps = _step_by_step(s3)
    next(steps)
    s3.delete_object(Bucket=BUCKET, Key=keys[2])
    *_, last = steps
    assert last["verified"] is False
    assert last["problems"] == [{"file": keys[2], "problem": "missing from the bucket"}]


def test_problems_are_counted_in_full_across_calls_though_only_the_first_travel(s3: Any) -> None:
    _, keys = _store_backup(s3, [_csv(n, 1) for n in range(MAX_PROBLEMS + 10)])
    for key in keys:
        s3.delete_object(Bucket=BUCKET, Key=key)
    *_, last = _step_by_step(s3)
    assert last["problem_count"] == MAX_PROBLEMS + 10  # every file (no total: missing files count no rows)
    assert len(last["problems"]) == MAX_PROBLEMS
