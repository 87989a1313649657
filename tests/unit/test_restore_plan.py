"""A restore's request, name and column plan, decided before anything is sent."""

import csv
import gzip
import io
import json
import re
from typing import Any

import pytest

from contact_jobs.errors import InvalidImportFile, InvalidRequest
from contact_jobs.manifest import FieldDefinition, Manifest
from contact_jobs.restore import (
    plan_columns,
    restore_execution_name,
    restore_request,
    restore_target,
    stage_json_as_csv,
)

MANIFEST_KEY = "backups/sendgrid/2026/12/01/backup-2026-12-01T03-00-00Z-abc/manifest.json"
MANIFEST = Manifest(
    provider="sendgrid",
    job_id="b-1",
    provider_job_id="e-1",
    started_at="2026-12-01T00:00:00Z",
    completed_at="2026-12-01T00:05:00Z",
    file_type="csv",
    contact_count=1,
    files=(),
    field_definitions=(
        FieldDefinition("email", "Text", reserved=True),
        FieldDefinition("loyalty_points", "Number"),
        FieldDefinition("signup_day", "Date"),
        FieldDefinition("not_exported", "Text"),
    ),
)
TARGET = {
    "reserved_fields": [{"id": "_rf1_T", "name": "email"}],
    "custom_fields": [{"id": "e1_N", "name": "Loyalty_Points"}],
}
HEADER = ["EMAIL", "LOYALTY_POINTS", "SIGNUP_DAY", "CONTACT_ID"]


def test_a_request_reads_with_its_defaults() -> None:
    request = restore_request({"provider": "sendgrid", "manifest_key": MANIFEST_KEY}, ("sendgrid",))
    assert request.list_id is None
    assert (request.create_missing_fields, request.dry_run) == (False, False)


@pytest.mark.parametrize(
    ("state", "named"),
    [
        ({"provider": "which50", "manifest_key": MANIFEST_KEY}, "provider 'which50' cannot restore"),
        ({"provider": "sendgrid"}, "manifest_key is required"),
        ({"provider": "sendgrid", "manifest_key": MANIFEST_KEY, "list_id": ""}, "list_id must be"),
        ({"provider": "sendgrid", "manifest_key": MANIFEST_KEY, "dry_run": "yes"}, "dry_run must be"),
    ],
)
def test_a_bad_request_is_refused_naming_the_problem(state: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidRequest, match=named):
        restore_request(state, ("sendgrid",))


def test_one_backup_and_target_give_one_execution_name() -> None:
    name = restore_execution_name("sendgrid", MANIFEST_KEY, "list-1")
    assert name == restore_execution_name("sendgrid", MANIFEST_KEY, "list-1")
    assert name != restore_execution_name("sendgrid", MANIFEST_KEY, "list-2")
    assert name != restore_execution_name("sendgrid", MANIFEST_KEY, None)
    assert name != restore_execution_name("sendgrid", MANIFEST_KEY, "list-1", dry_run=True)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name)
    assert name.startswith("restore-sendgrid-backup-2026-12-01")


def test_a_long_backup_name_is_cut_but_stays_unique() -> None:
    long_key = f"backups/sendgrid/2026/12/01/{'x' * 200}/manifest.json"
    name = restore_execution_name("sendgrid", long_key, None)
    assert len(name) == 80
    assert name != restore_execution_name("sendgrid", long_key.replace("x/", "y/"), None)


def test_custom_fields_the_target_lacks_are_created_when_asked() -> None:
    plan = plan_columns(HEADER, MANIFEST, TARGET, create_missing=True)
    assert plan.create == (FieldDefinition("signup_day", "Date"),)
    assert plan.warnings == ()


def test_custom_fields_the_target_lacks_are_skipped_with_a_warning_otherwise() -> None:
    plan = plan_columns(HEADER, MANIFEST, TARGET, create_missing=False)
    assert plan.create == ()
    assert plan.warnings == (
        "custom field 'signup_day' (Date) does not exist in the target account: skipped "
        "(create_missing_fields creates it)",
    )


def test_a_json_backup_file_is_staged_as_csv_with_every_value(s3: Any) -> None:
    contacts = [
        {"EMAIL": f"c{n}@example.com", "custom_fields": {"note": f'say "{n}",\nok'}} for n in range(3000)
    ]
    body = gzip.compress(b"".join(json.dumps(c).encode() + b"\n" for c in contacts))
    s3.put_object(Bucket="backups", Key="b/part-00001.json.gz", Body=body)
    size = stage_json_as_csv(
        s3, "backups", "b/part-00001.json.gz", True, "restores/r-1/staged/part-00001.csv"
    )
    staged = s3.get_object(Bucket="backups", Key="restores/r-1/staged/part-00001.csv")["Body"].read()
    assert size == len(staged)
    rows = list(csv.DictReader(io.StringIO(staged.decode())))
    assert [(r["EMAIL"], r["note"]) for r in rows] == [
        (c["EMAIL"], c["custom_fields"]["note"]) for c in contacts
    ]


def test_a_json_backup_file_without_contacts_is_refused(s3: Any) -> None:
    s3.put_object(Bucket="backups", Key="b/empty.json", Body=b"\n")
    with pytest.raises(InvalidImportFile, match="holds no contacts"):
        stage_json_as_csv(s3, "backups", "b/empty.json", False, "restores/r-1/staged/empty.csv")


def test_a_field_every_file_needs_is_created_once() -> None:
    plan = plan_columns(HEADER + HEADER, MANIFEST, TARGET, create_missing=True)
    assert plan.create == (FieldDefinition("signup_day", "Date"),)


def test_a_client_that_cannot_create_fields_is_no_restore_target() -> None:
    with pytest.raises(InvalidRequest, match="cannot create fields: its provider cannot restore"):
        restore_target(object())


def test_every_spelling_of_a_backup_names_one_restore() -> None:
    prefix = MANIFEST_KEY.removesuffix("/manifest.json")
    keys = {restore_request({"provider": "sendgrid", "manifest_key": k}, ("sendgrid",)).manifest_key
            for k in (prefix, prefix + "/", MANIFEST_KEY)}  # fmt: skip
    assert keys == {MANIFEST_KEY}
