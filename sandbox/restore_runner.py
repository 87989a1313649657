"""Verify and restore scenarios on the local stack: a seeded account backed up, the backup read back (and
tampered with, if asked), then restored into an empty account and compared with the first, field by field.

One fake SendGrid serves both accounts, one after the other, as one API host serves whichever account the
key names: account A is seeded and backed up; then the fake's account is swapped for an empty account B,
and the restore runs against it. A is kept to compare with."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contact_jobs.restore import NO_LIST, restore_execution_name
from sandbox.contacts import compare_accounts
from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.runner import (
    Printer,
    print_notifications,
    received_notifications,
    run_execution,
    schedule_input,
    subscribe_queue,
)
from sandbox.sendgrid_account import SendGridAccount
from sandbox.stack import LocalStack, StackConfig, local_stack

TAMPERS = ("none", "byte", "missing", "truncate", "extra")


@dataclass
class RoundTrip:
    contacts: int = 2000
    file_type: str = "csv"
    max_file_size_mb: int | None = None
    dry_run: bool = False
    create_missing_fields: bool = True
    tamper: str = "none"  # what is done to the backup before it is verified (and restored)
    restore: bool = True
    target_fields: tuple[tuple[str, str], ...] = ()  # custom fields account B has before the restore
    environment: dict[str, str] | None = None


def run_round_trip(scenario: RoundTrip, say: Printer = print) -> dict[str, Any]:
    """Seed A, back it up, tamper, verify, restore into an empty B: what happened, and whether B equals A."""
    options = FakeSendGridOptions(seed_contacts=scenario.contacts, export_ready_after_s=0.05)
    environment = scenario.environment or {}
    with (
        FakeSendGrid(options) as fake,
        local_stack(StackConfig.for_sendgrid(fake, environment=environment)) as stack,
    ):
        queue = Notifications(stack, subscribe_queue(stack), say)
        result = _backed_up(stack, scenario, queue, say)
        manifest_key = result["manifest_key"]
        problems_planted = tamper(stack, result["files"], scenario.tamper)
        verified = run_verify(stack, manifest_key, queue, say)
        account_a = fake.account
        account_b = SendGridAccount(custom_fields=scenario.target_fields)
        account_b.written = True
        fake.account = account_b
        restored = run_restore(stack, manifest_key, scenario, queue, say) if scenario.restore else None
        notifications = queue.received
        mismatches = compare_accounts(account_a, account_b) if restored else []
        return {
            "status": (restored or verified)["outcome"],
            "backup_status": result["status"],
            "verify_status": verified["outcome"],
            "restore_status": restored["outcome"] if restored else None,
            "problems": verified["problems"],
            "tampered": problems_planted,
            "contacts_a": len(account_a),
            "contacts_b": len(account_b),
            "restored_equal": bool(restored) and not mismatches and len(account_a) == len(account_b),
            "mismatches": [m.email for m in mismatches[:20]],
            "mismatch_count": len(mismatches),
            "manifest_key": manifest_key,
            "files": result["files"],
            "provider_jobs": len(fake.imports),
            "notifications": notifications,
            "restore": restored,
            "history": queue.histories,
        }


class Notifications:
    """The test subscriber's queue, drained after each execution: each job's own notification."""

    def __init__(self, stack: LocalStack, queue_url: str, say: Printer) -> None:
        self._stack, self._url, self._say = stack, queue_url, say
        self.received: list[dict[str, Any]] = []
        self.histories: list[dict[str, Any]] = []  # every execution's, as Step Functions keeps it

    def after(self, ran: dict[str, Any]) -> dict[str, Any]:
        """The execution's outcome as its notification names it (``<operation>.<outcome>``)."""
        self._stack.recorder.wait_for_handlers()
        self.histories.append(ran["history"])
        notes = received_notifications(self._stack, self._url)
        print_notifications(notes, self._say)
        self.received += notes
        event = notes[-1]["attributes"].get("event_type") if notes else f"no notification ({ran['status']})"
        return {
            "execution_status": ran["status"],
            "outcome": event,
            "message": notes[-1]["message"] if notes else None,
        }


def _backed_up(stack: LocalStack, scenario: RoundTrip, queue: Notifications, say: Printer) -> dict[str, Any]:
    execution_input = schedule_input(stack)
    execution_input["file_type"] = scenario.file_type
    if scenario.max_file_size_mb:
        execution_input["max_file_size_mb"] = scenario.max_file_size_mb
    name = f"backup-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    outcome = queue.after(run_execution(stack, name, execution_input, say))
    s3_ = (outcome["message"] or {}).get("s3") or {}
    if outcome["execution_status"] != "SUCCEEDED" or not s3_.get("manifest_key"):
        raise RuntimeError(f"the backup to restore from did not complete: {outcome['outcome']}")
    return {"status": outcome["outcome"], "manifest_key": s3_["manifest_key"], "files": s3_["keys"]}


def tamper(stack: LocalStack, files: list[str], how: str) -> list[dict[str, str]]:
    """Break the stored backup as ``how`` says; the files it touched and how (what verify must find)."""
    if how not in TAMPERS:
        raise ValueError(f"tamper must be one of {', '.join(TAMPERS)}")
    s3, bucket = stack.client("s3"), stack.backup_bucket
    target = files[-1]
    if how == "none":
        return []
    if how == "missing":
        s3.delete_object(Bucket=bucket, Key=target)
    elif how == "extra":
        target = target.rsplit("/", 1)[0] + "/part-99999.csv"
        s3.put_object(Bucket=bucket, Key=target, Body=b"email\nlate@example.com\n")
    else:
        data = bytearray(s3.get_object(Bucket=bucket, Key=target)["Body"].read())
        if how == "byte":
            data[len(data) // 2] ^= 0x01
        else:
            del data[len(data) // 2 :]
        s3.put_object(Bucket=bucket, Key=target, Body=bytes(data))
    return [{"file": target, "tampered": how}]


def run_verify(stack: LocalStack, manifest_key: str, queue: Notifications, say: Printer) -> dict[str, Any]:
    name = f"verify-{uuid.uuid4().hex[:12]}"
    outcome = queue.after(
        run_execution(stack, name, {"operation": "verify", "manifest_key": manifest_key}, say)
    )
    verified = (outcome["message"] or {}).get("verify") or {}
    return {**outcome, "problems": verified.get("problems", [])}


def run_restore(
    stack: LocalStack, manifest_key: str, scenario: RoundTrip, queue: Notifications, say: Printer
) -> dict[str, Any]:
    request = {
        "operation": "restore",
        "provider": "sendgrid",
        "manifest_key": manifest_key,
        "list_id": NO_LIST,
        "create_missing_fields": scenario.create_missing_fields,
        "dry_run": scenario.dry_run,
    }
    name = restore_execution_name("sendgrid", manifest_key, None, scenario.dry_run)
    ran = run_execution(stack, name, request, say)
    return {**queue.after(ran), "execution_name": name, "states": ran["states"]}
