"""The manifest's schema: schema 2 round-trips, schema 1 still reads, anything else is refused by name."""

import json

import pytest

from contact_jobs.errors import BackupUnreadable
from contact_jobs.manifest import (
    FieldDefinition,
    Manifest,
    ManifestFile,
    manifest_key,
    parse_manifest,
)

SCHEMA_1 = {
    "schema_version": "1",
    "operation": "backup",
    "provider": "sendgrid",
    "job_id": "backup-1",
    "provider_job_id": "e-1",
    "started_at": "2026-12-01T00:00:00Z",
    "completed_at": "2026-12-01T00:05:00Z",
    "contact_count": 3,
    "file_type": "csv",
    "total_bytes": 10,
    "files": [{"key": "backups/x/e-1/part-00001.csv.gz", "bytes": 10, "sha256": "ab", "gzip": True}],
}


def test_schema_2_round_trips_with_what_a_restore_needs() -> None:
    manifest = Manifest(
        provider="sendgrid",
        job_id="backup-2",
        provider_job_id="e-2",
        started_at="2026-12-01T00:00:00Z",
        completed_at="2026-12-01T00:05:00Z",
        file_type="json",
        contact_count=5,
        files=(ManifestFile("k/part-00001.json.gz", 42, "cd", True, rows=5),),
        field_definitions=(FieldDefinition("loyalty_tier", "Text"), FieldDefinition("email", "Text", True)),
    )
    document = json.loads(manifest.to_json())
    assert document["schema_version"] == "2"
    assert document["total_bytes"] == 42
    assert document["files"][0]["rows"] == 5
    assert parse_manifest("k/manifest.json", manifest.to_json()) == manifest


def test_schema_1_manifests_still_read_without_row_counts() -> None:
    manifest = parse_manifest("k/manifest.json", json.dumps(SCHEMA_1).encode())
    assert manifest.schema_version == "1"
    assert manifest.files[0].rows is None
    assert manifest.field_definitions == ()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "is not JSON"),
        (b"[1, 2]", "is not a JSON object"),
        (json.dumps({**SCHEMA_1, "schema_version": "9"}).encode(), "schema_version '9'"),
        (json.dumps({k: v for k, v in SCHEMA_1.items() if k != "files"}).encode(), "'files'"),
    ],
)
def test_an_unreadable_manifest_is_refused_naming_why(body: bytes, named: str) -> None:
    with pytest.raises(BackupUnreadable, match=r"manifest k/manifest\.json") as refused:
        parse_manifest("k/manifest.json", body)
    assert named in str(refused.value)


def test_a_backup_prefix_resolves_to_its_manifest() -> None:
    assert manifest_key("backups/sendgrid/2026/12/01/b-1/") == "backups/sendgrid/2026/12/01/b-1/manifest.json"
    assert manifest_key("backups/sendgrid/2026/12/01/b-1") == "backups/sendgrid/2026/12/01/b-1/manifest.json"
    assert manifest_key("backups/x/manifest.json") == "backups/x/manifest.json"
