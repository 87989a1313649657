"""contact-jobs verify and restore, run as a user runs them (subprocesses) against `python -m sandbox serve`.

A stack of their own: the restore tests swap the fake SendGrid's account for an empty one (the served
stack's sandbox-only control), which the other CLI tests must not see."""

import boto3
import pytest
import requests

from contact_jobs_cli import schemas
from contact_jobs_cli.layer import restore_execution_name
from sandbox.cli_demo import served_process
from sandbox.contacts import import_csv
from sandbox.fake_sendgrid import KNOWN_LIST
from tests.cli.test_cli_served import CONTROL, json_of, one_line_error, run_cli

pytestmark = pytest.mark.slow
CONTACTS = 40


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A served stack whose SendGrid account holds the contacts one import put there (so the account can
    be compared with what a restore puts back)."""
    with served_process(contacts=100) as document:
        source = tmp_path_factory.mktemp("import") / "seed.csv"
        source.write_bytes(import_csv(CONTACTS))
        imported = run_cli(document, "import", str(source), "--provider", "sendgrid", "--list", KNOWN_LIST,
                           "--watch")  # fmt: skip
        assert imported.returncode == 0, imported.stdout + imported.stderr
        yield document


def backup_now(served):
    """A new backup (verified at its end, as the stack's default VerifyAfterBackup says): its row."""
    result = run_cli(served, "backup", "--watch", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    name = json_of(result, schemas.BACKUP)["execution_name"]
    listed = json_of(run_cli(served, "backups", "--json"), schemas.BACKUPS)["backups"]
    (row,) = [row for row in listed if row["id"] == name]
    return row


@pytest.fixture(scope="module")
def backup(served):
    return backup_now(served)


def s3_client(served):
    return boto3.client(
        "s3", endpoint_url=served["endpoint_url"], region_name=served["region"],
        aws_access_key_id=served["aws_access_key_id"], aws_secret_access_key=served["aws_secret_access_key"],
    )  # fmt: skip


def backup_bucket(served):
    document = json_of(run_cli(served, "status", "--json"), schemas.STATUS)
    return document["stack"]["outputs"]["BackupBucketName"]


def test_backups_says_a_backup_verified_once_its_verify_passed(backup):
    assert backup["verified"] is True
    assert backup["schema_version"] == "2"
    assert backup["contacts"] == CONTACTS


def test_verify_by_id_watches_to_verify_completed_and_exits_0(served, backup):
    result = run_cli(served, "verify", backup["id"], "--watch", "--json")
    assert result.returncode == 0, result.stderr
    document = json_of(result, schemas.VERIFY)
    assert document["manifest_key"] == backup["manifest_key"]
    assert document["input"] == {"operation": "verify", "manifest_key": backup["manifest_key"]}
    note = document["job"]["notification"]
    assert note["event_type"] == "verify.completed"
    assert note["verify"]["verified"] is True
    assert note["verify"]["rows"] == CONTACTS


def test_verify_by_prefix_starts_a_verify_of_the_same_manifest(served, backup):
    result = run_cli(served, "verify", backup["prefix"], "--json")
    assert result.returncode == 0, result.stderr
    document = json_of(result, schemas.VERIFY)
    assert document["manifest_key"] == backup["manifest_key"]
    assert document["job"] is None
    listed = json_of(run_cli(served, "jobs", "--operation", "verify", "--json"), schemas.JOBS)["jobs"]
    assert document["execution_name"] in [job["name"] for job in listed]


def test_verify_on_a_pipe_prints_plain_lines_ending_with_the_manifest(served, backup):
    result = run_cli(served, "verify", backup["id"], "--watch")
    assert result.returncode == 0, result.stderr
    assert not CONTROL.search(result.stdout), repr(result.stdout[:500])
    lines = result.stdout.strip().splitlines()
    assert "-> VerifyBackup" in lines
    assert lines[-3].startswith("SUCCEEDED: verify.completed"), lines[-4:]
    assert lines[-2].startswith("verified: 1 files"), lines[-4:]
    assert lines[-1] == f"manifest: {backup['manifest_key']}"


def test_a_tampered_backup_fails_verify_with_exit_1_and_its_restore_is_refused(served):
    tampered = backup_now(served)
    s3, bucket = s3_client(served), backup_bucket(served)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=tampered["prefix"])["Contents"]
    (part,) = [item["Key"] for item in listed if not item["Key"].endswith("manifest.json")]
    data = bytearray(s3.get_object(Bucket=bucket, Key=part)["Body"].read())
    data[len(data) // 2] ^= 0x01
    s3.put_object(Bucket=bucket, Key=part, Body=bytes(data))

    verified = run_cli(served, "verify", tampered["id"], "--watch", "--json")
    assert verified.returncode == 1, verified.stderr
    note = json_of(verified, schemas.VERIFY)["job"]["notification"]
    assert note["event_type"] == "verify.failed"
    assert part in [problem["file"] for problem in note["verify"]["problems"]]

    restored = run_cli(served, "restore", tampered["id"], "--list", "_", "--watch", "--json")
    assert restored.returncode == 1, restored.stderr
    job = json_of(restored, schemas.RESTORE)["job"]
    assert job["notification"]["event_type"] == "restore.failed"
    assert job["counts"] is None or not job["counts"].get("created")


def test_a_dry_run_plans_without_sending_under_its_own_name_so_the_real_restore_still_runs(served, backup):
    result = run_cli(served, "restore", backup["id"], "--list", "_", "--dry-run", "--watch", "--json")
    assert result.returncode == 0, result.stderr
    document = json_of(result, schemas.RESTORE)
    plan_name = restore_execution_name("sendgrid", backup["manifest_key"], None, dry_run=True)
    assert document["execution_name"] == plan_name
    note = document["job"]["notification"]
    assert note["event_type"] == "restore.completed"
    assert note["dry_run"] is True
    assert note["plan"]["contacts"] == CONTACTS
    assert note["plan"]["files"] == 1

    # --watch: followed to its end, so no restore is still sending when another test swaps the account
    real = run_cli(served, "restore", backup["id"], "--list", "_", "--watch", "--json")
    assert real.returncode == 0, real.stderr
    started = json_of(real, schemas.RESTORE)
    assert started["execution_name"] == restore_execution_name("sendgrid", backup["manifest_key"], None)
    assert started["joined"] is False


def test_a_restore_into_an_empty_account_puts_the_backup_back_and_a_repeat_joins_it(served, backup):
    swapped = requests.post(served["control_url"] + "/sendgrid/account/empty", timeout=30)
    swapped.raise_for_status()
    args = ("restore", backup["id"], "--list", KNOWN_LIST, "--create-missing-fields", "--watch", "--json")

    first = run_cli(served, *args)
    assert first.returncode == 0, first.stderr
    document = json_of(first, schemas.RESTORE)
    assert document["joined"] is False
    assert document["job"]["notification"]["event_type"] == "restore.completed"
    assert document["job"]["counts"]["created"] == CONTACTS
    compared = requests.get(served["control_url"] + "/sendgrid/account/compare", timeout=60).json()
    assert compared["equal"], compared

    again = run_cli(served, *args)
    assert again.returncode == 0, again.stderr
    repeated = json_of(again, schemas.RESTORE)
    assert repeated["joined"] is True
    assert repeated["execution_arn"] == document["execution_arn"]
    assert repeated["job"]["notification"]["event_type"] == "restore.completed"


def test_a_restore_into_a_list_that_does_not_exist_fails_with_exit_1(served, backup):
    result = run_cli(served, "restore", backup["id"], "--list", "no-such-list", "--watch", "--json")
    assert result.returncode == 1, result.stderr
    job = json_of(result, schemas.RESTORE)["job"]
    assert job["notification"]["event_type"] == "restore.failed"


def test_a_backup_without_a_manifest_is_refused_in_one_line(served):
    s3, bucket = s3_client(served), backup_bucket(served)
    s3.put_object(Bucket=bucket, Key="backups/sendgrid/2026/01/01/half-done/part-00000.csv", Body=b"email\n")
    result = run_cli(served, "verify", "half-done", "--json")
    assert result.returncode == 2
    assert json_of(result, schemas.ERROR)["error"]["type"] == "BackupIncomplete"
    assert "no manifest" in one_line_error(result)


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (("verify", "no-such-backup"), "BackupNotFound"),
        (("verify", "backups/sendgrid/2026/01/02/nothing-here/"), "BackupNotFound"),
        (("restore", "no-such-backup", "--list", "_"), "BackupNotFound"),
        (("restore", "anything"), "UsageError"),  # --list is required
        (("verify",), "UsageError"),
    ],
)
def test_misuse_exits_2_in_one_line(served, args, kind):
    result = run_cli(served, *args, "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    document = json_of(result, schemas.ERROR)
    assert document["error"]["type"] == kind
    one_line_error(result)


def test_a_manifest_that_is_not_json_is_listed_unverified_and_its_verify_fails(served):
    s3, bucket = s3_client(served), backup_bucket(served)
    prefix = "backups/sendgrid/2026/01/03/garbled/"
    s3.put_object(Bucket=bucket, Key=prefix + "part-00000.csv", Body=b"email\na@example.com\n")
    s3.put_object(Bucket=bucket, Key=prefix + "manifest.json", Body=b"{not json")
    listed = json_of(run_cli(served, "backups", "--json"), schemas.BACKUPS)["backups"]
    (row,) = [row for row in listed if row["id"] == "garbled"]
    assert row["verified"] is False
    assert "not JSON" in row["problem"]

    result = run_cli(served, "verify", "garbled", "--watch", "--json")
    assert result.returncode == 1, result.stderr
    assert json_of(result, schemas.VERIFY)["job"]["notification"]["event_type"] == "verify.failed"
