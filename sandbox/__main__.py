"""python -m sandbox: run contact-jobs on this machine (moto, fake providers, the real state machine)."""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from sandbox.contacts import EMAIL_DOMAIN
from sandbox.fake_sendgrid import FakeSendGridOptions
from sandbox.import_runner import ImportScenario, run_import
from sandbox.restore_runner import TAMPERS, RoundTrip, run_round_trip
from sandbox.runner import BackupScenario, Printer, run_backup
from sandbox.stack import deployed_definition

DEFAULT_API_KEY = FakeSendGridOptions().api_key
# Keys a person reads in the summary; the JSON line carries everything tests need.
JSON_FIELDS = ("status", "execution_name", "states", "waits", "files", "manifest_key", "notifications")
IMPORT_FIELDS = (
    "status", "executions", "provider_jobs", "counts", "source_sha256", "received_sha256", "errors_key",
    "source_intact", "notifications",
)  # fmt: skip


def _backup_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=20000, help="contacts in the fake account")
    parser.add_argument("--max-file-size-mb", type=int, default=None, help="split export files at this size")
    parser.add_argument("--fail-export", action="store_true", help="the export ends in failure")
    parser.add_argument(
        "--expire-urls-after",
        type=float,
        default=None,
        metavar="S",
        help="the first export's URLs lapse S seconds after it is ready",
    )
    parser.add_argument("--rate-limit", action="store_true", help="answer every third API call with 429")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=["sendgrid", "which50"], default="sendgrid")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--file", type=Path, help="a CSV or CSV.gz to import")
    source.add_argument("--contacts", type=int, default=1000, help="generate a CSV with this many contacts")
    parser.add_argument("--invalid-rows", type=int, default=0, help="rows with a malformed email")
    parser.add_argument(
        "--list-id", default=None, help="SendGrid list id (default _: none) or Which50 list id"
    )
    parser.add_argument(
        "--duplicate-events",
        type=int,
        default=1,
        metavar="D",
        help="deliver the S3 event D times, concurrently",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _import(args: argparse.Namespace) -> dict[str, Any]:
    scenario = ImportScenario(
        provider=args.provider,
        file=args.file,
        contacts=args.contacts,
        invalid_rows=args.invalid_rows,
        list_id=args.list_id,
        duplicate_events=args.duplicate_events,
    )
    return run_import(scenario)


def _backup(args: argparse.Namespace) -> dict[str, Any]:
    scenario = BackupScenario(
        contacts=args.contacts,
        max_file_size_mb=args.max_file_size_mb,
        fail_export=args.fail_export,
        expire_urls_after_s=args.expire_urls_after,
        rate_limit=args.rate_limit,
    )
    return run_backup(scenario)


def demo(
    api_key: str = DEFAULT_API_KEY, email_domain: str = EMAIL_DOMAIN, say: Printer = print
) -> dict[str, Any]:
    """What `make demo` runs: an import and a backup end to end. The leak test runs it with a canary
    API key and canary contact emails."""
    say("== Import: a CSV dropped into S3 -> SendGrid (2,000 contacts, 3 with a bad email) ==")
    fake = FakeSendGridOptions(api_key=api_key, email_domain=email_domain)
    imported = run_import(
        ImportScenario(contacts=2000, invalid_rows=3, fake=fake, email_domain=email_domain), say
    )
    counts = imported["counts"]
    say(
        f"\nimport {imported['status']}: requested {counts['requested']}, created {counts['created']}, "
        f"updated {counts['updated']}, errored {counts['errored']}; error report at {imported['errors_key']}"
    )
    same = imported["received_sha256"] == imported["source_sha256"]
    intact = imported["source_intact"]
    say(f"SendGrid received exactly the uploaded bytes: {same}; source object intact: {intact}\n")
    say("== Backup: SendGrid contacts -> S3 (20,000 contacts, split into 1 MB files) ==")
    fake = FakeSendGridOptions(api_key=api_key, email_domain=email_domain)
    backup = run_backup(BackupScenario(contacts=20000, max_file_size_mb=1, fake=fake), say)
    say(f"\nbackup {backup['status']}: {len(backup['files'])} files, manifest {backup['manifest_key']}")
    for entry in backup["files"]:
        same_bytes = entry["sha256"] == entry["source_sha256"]
        verdict = "identical to what SendGrid served" if same_bytes else "DIFFERENT"
        say(f"  {entry['key']}  {entry['bytes']} bytes  sha256 {entry['sha256'][:16]}... {verdict}")
    say(f"polling waits asked for (seconds): {backup['waits']}")
    return {"import": imported, "backup": backup}


def _demo(args: argparse.Namespace) -> dict[str, Any]:
    ran = demo()
    statuses = {ran["import"]["status"], ran["backup"]["status"]}
    return {**ran["backup"], "status": "SUCCEEDED" if statuses == {"SUCCEEDED"} else "FAILED"}


def _asl(args: argparse.Namespace) -> None:
    print(deployed_definition())


def _serve_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="default 5566 (contact-jobs --local connects to it)")
    parser.add_argument("--stack", default="contact-jobs", help="the stack name the CLI looks for")
    parser.add_argument("--contacts", type=int, default=20000, help="contacts a backup exports")
    parser.add_argument("--json", action="store_true", help="print one JSON line once serving (for scripts)")


def _serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; then stop the server and tear the stack down."""
    from sandbox.serve import PortInUse, Served, ServeOptions, serve

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def ready(served: Served) -> None:
        print(json.dumps(served.document()) if args.json else served.instructions(), flush=True)

    options = ServeOptions(stack_name=args.stack, contacts=args.contacts)
    if args.port is not None:
        options = ServeOptions(port=args.port, stack_name=args.stack, contacts=args.contacts)
    try:
        serve(options, ready, stop)
    except PortInUse as exc:
        print(f"python -m sandbox serve: {exc}", file=sys.stderr)
        return 1
    print("local stack stopped", flush=True)
    return 0


RESTORE_FIELDS = (
    "status", "contacts_a", "contacts_b", "restored_equal", "mismatches", "mismatch_count", "files",
    "provider_jobs", "notifications", "manifest_key", "verify_status", "restore_status",
)  # fmt: skip
VERIFY_FIELDS = ("status", "problems", "tampered", "restore_status", "manifest_key", "files", "notifications")


def _round_trip_args(parser: argparse.ArgumentParser, restore: bool) -> None:
    parser.add_argument("--contacts", type=int, default=2000, help="contacts seeded into account A")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    if restore:
        parser.add_argument("--file-type", choices=["csv", "json"], default="csv")
        parser.add_argument("--max-file-size-mb", type=int, default=None, help="split the backup's files")
        parser.add_argument("--dry-run", action="store_true", help="plan the restore without sending")
    else:
        parser.add_argument("--tamper", choices=TAMPERS, default="none", help="break the backup first")


def _round_trip(args: argparse.Namespace) -> dict[str, Any]:
    if args.command == "restore":
        scenario = RoundTrip(args.contacts, args.file_type, args.max_file_size_mb, dry_run=args.dry_run)
    else:  # a tampered backup is also restored: the restore must refuse it
        scenario = RoundTrip(args.contacts, tamper=args.tamper, restore=args.tamper != "none")
    result = run_round_trip(scenario)
    if args.command == "verify":
        result["status"] = result["verify_status"]
    return result


def _round_trip_ok(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    """What the scenario promises: an intact backup verifies and restores equal; a tampered one is named."""
    if args.command == "restore":
        return bool(args.dry_run or result["restored_equal"]) and result["status"] == "restore.completed"
    if args.tamper == "none":
        return bool(result["status"] == "verify.completed")
    return bool(result["status"] == "verify.failed" and result["restore_status"] == "restore.failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="what make demo runs: an import and a backup end to end")
    _backup_args(commands.add_parser("backup", help="a scheduled SendGrid backup"))
    _import_args(commands.add_parser("import", help="a CSV dropped into the import bucket"))
    commands.add_parser("asl", help="print the state machine definition with its substitutions applied")
    _serve_args(
        commands.add_parser("serve", help="serve the local stack on 127.0.0.1 for the contact-jobs CLI")
    )
    commands.add_parser("cli-demo", help="serve the local stack and drive it with the contact-jobs CLI")
    _round_trip_args(commands.add_parser("restore", help="back up account A, restore into an empty B"), True)
    _round_trip_args(commands.add_parser("verify", help="back up, tamper as asked, verify"), False)
    args = parser.parse_args(argv)
    if args.command in ("restore", "verify"):
        result = _round_trip(args)
        if args.json:
            shown: tuple[str, ...] = RESTORE_FIELDS if args.command == "restore" else VERIFY_FIELDS
            print(json.dumps({key: result.get(key) for key in shown}, default=str))
        return 0 if _round_trip_ok(args, result) else 1
    if args.command == "serve":
        return _serve(args)
    if args.command == "cli-demo":
        from sandbox.cli_demo import main as cli_demo

        return cli_demo()
    if args.command == "asl":
        _asl(args)
        return 0
    runs = {"demo": _demo, "backup": _backup, "import": _import}
    result = runs[args.command](args)
    if getattr(args, "json", False):
        fields: tuple[str, ...] = JSON_FIELDS
        if args.command == "import":
            fields = (
                (*IMPORT_FIELDS, "batches", "run_called") if args.provider == "which50" else IMPORT_FIELDS
            )
        print(json.dumps({key: result.get(key) for key in fields}))
    return 0 if result["status"] == "SUCCEEDED" or getattr(args, "fail_export", False) else 1


if __name__ == "__main__":
    sys.exit(main())
