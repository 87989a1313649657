"""Restore and verify on the local stack: a backup proven restorable by putting it back, field by field."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from contact_jobs.restore import restore_execution_name
from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.restore_runner import Notifications, RoundTrip, run_round_trip
from sandbox.runner import run_execution, subscribe_queue
from sandbox.stack import LocalStack, StackConfig, local_stack

quiet = lambda message: None  # noqa: E731


def test_a_split_csv_backup_of_20000_contacts_restores_into_an_empty_account_field_by_field():
    result = run_round_trip(RoundTrip(contacts=20_000, max_file_size_mb=1), quiet)
    assert len(result["files"]) >= 3, "the backup is split into several files"
    assert result["contacts_a"] == result["contacts_b"] == 20_000
    assert result["mismatch_count"] == 0, result["mismatches"]
    assert result["restored_equal"]
    assert result["restore_status"] == "restore.completed"
    assert result["provider_jobs"] == len(result["files"]), "one import per file, each sent as it is"


def test_an_ndjson_backup_is_converted_to_csv_and_restores_field_by_field():
    result = run_round_trip(RoundTrip(contacts=6_000, file_type="json", max_file_size_mb=1), quiet)
    assert len(result["files"]) >= 2
    assert all(key.endswith(".json.gz") for key in result["files"])
    assert result["mismatch_count"] == 0, result["mismatches"]
    assert result["contacts_b"] == 6_000


def test_rows_the_target_refuses_make_the_restore_errored_with_its_reports_under_the_restore():
    # B already has "birthday" as a Number: A's dates do not fit it, and SendGrid refuses those rows.
    result = run_round_trip(RoundTrip(contacts=300, target_fields=(("birthday", "Number"),)), quiet)
    assert result["restore_status"] == "restore.errored"
    message = result["restore"]["message"]
    assert message["counts"]["errored"] > 0
    assert message["counts"]["created"] + message["counts"]["errored"] == 300
    name = result["restore"]["execution_name"]
    assert message["s3"]["errors_keys"]
    assert all(key.startswith(f"restores/{name}/errors/") for key in message["s3"]["errors_keys"])


def test_a_dry_run_notifies_its_plan_and_sends_nothing():
    result = run_round_trip(RoundTrip(contacts=500, dry_run=True), quiet)
    assert result["restore_status"] == "restore.completed"
    assert result["contacts_b"] == 0
    assert result["provider_jobs"] == 0
    message = result["restore"]["message"]
    assert message["dry_run"] is True
    assert message["plan"]["contacts"] == 500
    assert message["plan"]["imports"] == 1
    assert message["plan"]["columns"]["CONTACT_ID"] is None, "read-only columns are dropped"
    assert any("'CONTACT_ID' is read-only" in warning for warning in message["warnings"])


def test_a_dry_run_of_an_ndjson_backup_plans_its_columns_without_staging_anything():
    result = run_round_trip(RoundTrip(contacts=400, file_type="json", dry_run=True), quiet)
    message = result["restore"]["message"]
    assert result["restore_status"] == "restore.completed"
    assert message["plan"]["contacts"] == 400
    assert message["plan"]["columns"]["EMAIL"] is not None
    assert result["contacts_b"] == 0


def test_every_backup_is_read_back_at_its_end_and_its_notification_says_so():
    result = run_round_trip(RoundTrip(contacts=300, restore=False), quiet)
    backup_note = next(n for n in result["notifications"] if n["message"]["operation"] == "backup")
    assert backup_note["message"]["verify"]["verified"] is True
    assert backup_note["message"]["verify"]["rows"] == 300


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        ("byte", "SHA-256 is"),
        ("missing", "missing from the bucket"),
        ("truncate", "the manifest says"),
        ("extra", "not listed in the manifest"),
    ],
)
def test_a_tampered_backup_fails_verify_naming_the_file_and_is_not_restored(tamper, named):
    result = run_round_trip(RoundTrip(contacts=300, tamper=tamper), quiet)
    (planted,) = result["tampered"]
    assert result["verify_status"] == "verify.failed"
    assert any(p["file"] == planted["file"] and named in p["problem"] for p in result["problems"]), result
    assert result["restore_status"] == "restore.failed"
    assert result["restore"]["message"]["error"]["type"] == "BackupNotVerified"
    assert result["contacts_b"] == 0, "nothing was sent"


# Bad requests ---------------------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[LocalStack, FakeSendGrid, Notifications]]:
    options = FakeSendGridOptions(seed_contacts=50, export_ready_after_s=0.0)
    with FakeSendGrid(options) as fake, local_stack(StackConfig.for_sendgrid(fake)) as stack:
        yield stack, fake, Notifications(stack, subscribe_queue(stack), quiet)


def _put(stack: LocalStack, key: str, body: bytes) -> None:
    stack.client("s3").put_object(Bucket=stack.backup_bucket, Key=key, Body=body)


def _run(served: Any, request: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    stack, _, queue = served
    key = request.get("manifest_key", "")
    if name is None and request["operation"] == "restore":
        name = restore_execution_name(request.get("provider", ""), key, request.get("list_id"))
    outcome = queue.after(run_execution(stack, name or "bad-request", request, quiet))
    return outcome


MANIFEST = "backups/sendgrid/2026/12/01/b-1/manifest.json"


@pytest.mark.parametrize("operation", ["verify", "restore"])
def test_a_manifest_that_does_not_exist_fails_naming_it(served, operation):
    outcome = _run(served, {"operation": operation, "provider": "sendgrid", "manifest_key": MANIFEST})
    assert outcome["outcome"] == f"{operation}.failed"
    assert outcome["message"]["error"]["type"] == "BackupUnreadable"
    assert f"{MANIFEST} does not exist" in outcome["message"]["error"]["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [(b"{not json", "is not JSON"), (json.dumps({"schema_version": "7"}).encode(), "schema_version '7'")],
)
def test_a_manifest_that_cannot_be_read_fails_the_verify_naming_why(served, body, named):
    _put(served[0], MANIFEST, body)
    outcome = _run(served, {"operation": "verify", "manifest_key": MANIFEST})
    assert outcome["outcome"] == "verify.failed"
    assert named in outcome["message"]["error"]["message"]


def _backed_up(served: Any) -> str:
    stack, _, queue = served
    outcome = queue.after(run_execution(stack, "backup-for-restore", {"operation": "backup"}, quiet))
    assert outcome["outcome"] == "backup.completed"
    return str(outcome["message"]["s3"]["manifest_key"])


def test_a_restore_into_a_list_that_does_not_exist_fails_naming_the_list(served):
    manifest = _backed_up(served)
    request = {
        "operation": "restore",
        "provider": "sendgrid",
        "manifest_key": manifest,
        "list_id": "no-such-list",
    }
    outcome = _run(served, request)
    assert outcome["outcome"] == "restore.failed"
    assert "404" in outcome["message"]["error"]["message"]


def test_a_provider_that_cannot_restore_is_refused_by_name(served):
    manifest = _backed_up(served)
    outcome = _run(served, {"operation": "restore", "provider": "which50", "manifest_key": manifest})
    assert outcome["outcome"] == "restore.failed"
    assert outcome["message"]["error"]["type"] == "InvalidRequest"
    assert "provider 'which50' cannot restore" in outcome["message"]["error"]["message"]


def test_a_restore_not_started_under_its_derived_name_is_refused(served):
    manifest = _backed_up(served)
    request = {"operation": "restore", "provider": "sendgrid", "manifest_key": manifest}
    outcome = _run(served, request, name="my-own-name")
    assert outcome["outcome"] == "restore.failed"
    assert restore_execution_name("sendgrid", manifest, None) in outcome["message"]["error"]["message"]


def test_a_repeated_restore_request_joins_the_execution_by_name(served):
    stack, fake, _ = served
    manifest = _backed_up(served)
    request = {"operation": "restore", "provider": "sendgrid", "manifest_key": manifest}
    first = _run(served, request)
    assert first["outcome"] == "restore.completed"
    sfn = stack.client("stepfunctions")
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(
            stateMachineArn=stack.state_machine_arn,
            name=restore_execution_name("sendgrid", manifest, None),
            input=json.dumps({**request, "list_id": "other"}),  # another input under the same name
        )
    assert len(fake.imports) == 1, "the backup was sent once"
