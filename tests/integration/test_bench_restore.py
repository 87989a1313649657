"""The restore benchmark's helpers (bench/__main__.py, bench/restorer.py): its backup is what its manifest
says, and a small run through moto and the fake SendGrid, each in its own process, applies every contact
in both modes."""

import boto3
from moto import mock_aws

from bench.__main__ import BUCKET, RESTORE_FILES, _restore_runs, _store_export_backup
from contact_jobs.verify import verify_backup


def test_the_benchmark_backup_verifies_against_its_manifest_row_counts_included():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        key = _store_export_backup(s3, "backups/t/", 2501, RESTORE_FILES)
        manifest, report = verify_backup(s3, BUCKET, key)
    assert report.verified, report.summary()
    assert report.rows == manifest.contact_count == 2501
    assert len(manifest.files) == RESTORE_FILES
    assert all(entry.gzip and entry.rows for entry in manifest.files)


def test_a_small_restore_benchmark_applies_every_contact_in_both_modes():
    engine, baseline, small = _restore_runs(2000, 1)
    for run in (*engine, *baseline, *small):
        assert run["contacts"] == 2000
        assert run["imports"] == RESTORE_FILES
        assert 0 < run["peak_rss_mib"] < 300  # the bound issue 13 sets for the functions' process
        assert run["fake_peak_rss_mib"] > 0
    assert engine[0]["prepare_s"] > 0
