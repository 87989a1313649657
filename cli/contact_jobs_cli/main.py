"""contact-jobs: operate a contact-jobs stack (deployed, or the local one from `python -m sandbox serve`).

Every command takes --json (one JSON document on stdout; schemas in contact_jobs_cli/schemas.py). Exit
codes: 0 success; 1 the job failed (import.failed, backup.failed or errored, verify.failed, restore.failed),
or the command could not do its work (credentials, stack, endpoint); 2 a usage error. An import or restore
whose rows the provider partly refused (import.errored, restore.errored) exits 0 with a warning, or 1 with
--fail-on-errored.
"""

import gzip
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.exceptions
import click
from rich.console import Console
from rich.table import Table

from contact_jobs_cli import history, layer, schedule, watch
from contact_jobs_cli.aws import Stack, Target, aws_errors, find_stack, paginate
from contact_jobs_cli.endpoint import DEFAULT_STACK, ENDPOINT_ENV, LOCAL_ENDPOINT
from contact_jobs_cli.errors import FAILED, USAGE, CliError

BACKUP_PREFIX = "backups/"
EXECUTION_APPEARS_S = 120  # how long --watch waits for the upload's execution to be started
SNIFF_BYTES = 64 * 1024


@dataclass
class Context:
    target: Target
    _stack: Stack | None = None

    def stack(self) -> Stack:
        if self._stack is None:
            self._stack = find_stack(self.target)
        return self._stack


def _emit(document: dict[str, Any], as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(document, default=str))
    else:
        human()


def _console() -> Console:
    """Tables at the terminal's width; on a pipe, wide enough that no id is cut (and no colour codes)."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 240)


json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON document")
watch_option = click.option("--watch", is_flag=True, help="follow the job until it ends")
errored_option = click.option(
    "--fail-on-errored",
    is_flag=True,
    help="exit 1 when the job ends errored: rows refused (default: 0, warned)",
)


@click.group(help=__doc__)
@click.option(
    "--stack", "stack_name", default=DEFAULT_STACK, show_default=True, help="CloudFormation stack name"
)
@click.option("--endpoint-url", envvar=ENDPOINT_ENV, help=f"AWS endpoint (also ${ENDPOINT_ENV})")
@click.option("--local", is_flag=True, help=f"the local stack: --endpoint-url {LOCAL_ENDPOINT}")
@click.option("--region", default=None, help="AWS region (default: AWS_REGION or your profile's)")
@click.pass_context
def cli(
    ctx: click.Context, stack_name: str, endpoint_url: str | None, local: bool, region: str | None
) -> None:
    if local and endpoint_url and endpoint_url != LOCAL_ENDPOINT:
        raise click.UsageError("--local and --endpoint-url name different endpoints: give one")
    ctx.obj = Context(Target(stack_name, LOCAL_ENDPOINT if local else endpoint_url, region))


# status ----------------------------------------------------------------------------------------------


@cli.command(help="The stack, the backup schedule, alarms in ALARM, the last jobs.")
@json_option
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    stack = obj.stack()
    with aws_errors(obj.target):
        document = {
            "stack": {"name": stack.name, "status": stack.status, "region": stack.session.region_name,
                      "endpoint_url": obj.target.endpoint_url, "outputs": stack.outputs},
            "schedule": _schedule(stack),
            "alarms_in_alarm": _alarms(stack),
            "jobs": _jobs(stack, limit=5),
        }  # fmt: skip
    _emit(document, as_json, lambda: _print_status(document))


def _schedule(stack: Stack) -> dict[str, Any] | None:
    name = stack.outputs.get("BackupScheduleName")
    if not name:
        return None
    found = stack.client("scheduler").get_schedule(Name=name)
    expression, zone = found["ScheduleExpression"], found.get("ScheduleExpressionTimezone") or "UTC"
    upcoming = schedule.next_run(expression, zone) if found["State"] == "ENABLED" else None
    return {
        "name": name, "state": found["State"], "enabled": found["State"] == "ENABLED",
        "expression": expression, "timezone": zone, "next_run": upcoming.isoformat() if upcoming else None,
        "input": json.loads(found["Target"].get("Input") or "{}"),
    }  # fmt: skip


def _alarms(stack: Stack) -> list[dict[str, Any]]:
    """The stack's alarms (those that notify its alarm topic) now in ALARM."""
    topic = stack.outputs.get("AlarmTopicArn")
    pages = stack.client("cloudwatch").get_paginator("describe_alarms").paginate(StateValue="ALARM")
    found = []
    for page in pages:
        for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            if topic and topic not in alarm.get("AlarmActions", []):
                continue
            found.append({"name": alarm["AlarmName"], "reason": alarm.get("StateReason", ""),
                          "since": history._iso(alarm.get("StateUpdatedTimestamp"))})  # fmt: skip
    return found


def _print_status(document: dict[str, Any]) -> None:
    console, stack = _console(), document["stack"]
    console.print(f"stack {stack['name']}: {stack['status']} ({stack['region']}"
                  + (f", {stack['endpoint_url']})" if stack["endpoint_url"] else ")"))  # fmt: skip
    plan = document["schedule"]
    if plan:
        when = f", next run {plan['next_run']}" if plan["next_run"] else ""
        console.print(f"backup schedule: {plan['state']} {plan['expression']} {plan['timezone']}{when}")
    alarms = document["alarms_in_alarm"]
    console.print("alarms in ALARM: " + (", ".join(a["name"] for a in alarms) if alarms else "none"))
    _print_jobs(document["jobs"], "last jobs")


# jobs, job ---------------------------------------------------------------------------------------------


def _jobs(
    stack: Stack, limit: int, failed: bool = False, operation: str | None = None
) -> list[dict[str, Any]]:
    sfn, machine = stack.client("stepfunctions"), stack.output("StateMachineArn")
    statuses = ["FAILED", "TIMED_OUT", "ABORTED"] if failed else [None]
    listed = []
    for status_filter in statuses:
        kwargs = {"statusFilter": status_filter} if status_filter else {}
        listed += paginate(sfn.list_executions, "executions", None if operation else limit,
                           stateMachineArn=machine, **kwargs)  # fmt: skip
    listed.sort(key=lambda item: item["startDate"], reverse=True)
    rows = []
    for item in listed:
        row = history.row(sfn.describe_execution(executionArn=item["executionArn"]))
        if operation is None or row["operation"] == operation:
            rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def _print_jobs(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("name", "operation", "provider", "status", "started", "stopped"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["operation"] or "", row["provider"] or "", row["status"],
                      (row["started_at"] or "")[:19], (row["stopped_at"] or "")[:19])  # fmt: skip
    _console().print(table if rows else f"{title}: none")


@cli.command(help="Recent jobs, newest first.")
@click.option("--failed", is_flag=True, help="only jobs that failed, timed out or were aborted")
@click.option(
    "--operation", type=click.Choice(["import", "backup", "verify", "restore"]), help="only this operation"
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@click.pass_obj
def jobs(obj: Context, failed: bool, operation: str | None, limit: int, as_json: bool) -> None:
    stack = obj.stack()
    with aws_errors(obj.target):
        rows = _jobs(stack, limit, failed, operation)
    _emit({"jobs": rows}, as_json, lambda: _print_jobs(rows, "jobs"))


@cli.command(help="One job: its states, waits, retries, counts, error and notification.")
@click.argument("name")
@json_option
@click.pass_obj
def job(obj: Context, name: str, as_json: bool) -> None:
    stack = obj.stack()
    with aws_errors(obj.target):
        sfn = stack.client("stepfunctions")
        document = history.job(sfn, history.describe(sfn, stack.output("StateMachineArn"), name))
    _emit(document, as_json, lambda: _print_job(document))


def _print_job(document: dict[str, Any]) -> None:
    click.echo(f"{document['name']} ({document['operation']}, {document['provider']}): {document['status']}")
    click.echo(f"started {document['started_at']}, stopped {document['stopped_at'] or '-'}")
    click.echo("states: " + " -> ".join(state["name"] for state in document["states"]))
    for wait in document["waits"]:
        click.echo(f"  {watch.describe_wait(wait)}")
    for retry in document["retries"]:
        click.echo(
            f"  {retry['state']}: {retry['retries']} retries ({', '.join(retry['errors']) or 'no error'})"
        )
    for line in watch.outcome_lines(document):
        click.echo(line)


# import, backup -----------------------------------------------------------------------------------------


def _check_csv(path: Path) -> None:
    """A file the import would refuse as not CSV is refused here, before anything is uploaded."""
    head = path.open("rb").read(SNIFF_BYTES)
    gzipped = path.name.lower().endswith(".gz")
    if gzipped != (head[:2] == b"\x1f\x8b"):
        what = "is not gzip" if gzipped else "is gzip-compressed"
        raise CliError("FileNotCsv", f"{path.name} {what}: name it .csv.gz only when it is gzip", USAGE)
    if gzipped:
        try:
            head = gzip.GzipFile(fileobj=path.open("rb")).read(SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise CliError("FileNotCsv", f"{path.name} is not readable gzip: {exc}", USAGE) from exc
    if not head.strip():
        raise CliError("FileNotCsv", f"{path.name} is empty: give a CSV with a header row", USAGE)
    if b"\x00" in head:
        raise CliError(
            "FileNotCsv", f"{path.name} is a binary file, not CSV: export it as CSV (UTF-8)", USAGE
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut by the sniff window
            raise CliError(
                "FileNotCsv", f"{path.name} is not UTF-8 text: save it as CSV (UTF-8)", USAGE
            ) from exc


def _deployed_providers(stack: Stack) -> list[str] | None:
    value = stack.outputs.get("ImportProviders")
    return [item.strip() for item in value.split(",")] if value else None


@cli.command(name="import", help="Upload a CSV under the right key and follow the import it starts.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", type=click.Choice(layer.PROVIDERS), required=True)
@click.option(
    "--list", "list_id", help=f"the provider's list id (SendGrid: omit or {layer.NO_LIST} for none)"
)
@watch_option
@errored_option
@json_option
@click.pass_obj
def import_(obj: Context, file: Path, provider: str, list_id: str | None, watch: bool,
            fail_on_errored: bool, as_json: bool) -> None:  # fmt: skip
    if provider != "sendgrid" and not list_id:
        raise CliError("MissingList", f"--list is required for {provider}: give the contact list id", USAGE)
    try:
        key = layer.import_key(provider, list_id, file.name)
    except layer.KeyProblem as exc:
        raise CliError("FileNotCsv", f"{file.name} cannot be imported: {exc}", USAGE) from exc
    _check_csv(file)
    stack = obj.stack()
    deployed = _deployed_providers(stack)
    if deployed is not None and provider not in deployed:
        raise CliError(
            "ProviderNotDeployed",
            f"stack {stack.name} does not import into {provider} (it deploys {', '.join(deployed)}): "
            f"deploy it with the {provider} API key secret set (see README, Deploy)",
            USAGE,
        )
    with aws_errors(obj.target):
        bucket = stack.output("ImportBucketName")
        with file.open("rb") as body:
            put = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        name = layer.upload_execution_name(bucket, key, put.get("VersionId"), put["ETag"].strip('"'))
        document: dict[str, Any] = {"bucket": bucket, "key": key, "version_id": put.get("VersionId"),
                                    "execution_name": name, "job": None}  # fmt: skip
        if not as_json:
            click.echo(f"uploaded s3://{bucket}/{key}; its import runs as {name}")
        if not watch:
            _emit(document, as_json, lambda: click.echo(f"follow it with: contact-jobs job {name}"))
            return
        described = _await_execution(stack, name)
        document["job"] = watch_module.follow(stack.client("stepfunctions"), described, show=not as_json)
    _finish(document, document["job"], as_json, fail_on_errored)


watch_module = watch  # the import command's --watch flag shadows the module's name inside it


def _await_execution(stack: Stack, name: str) -> dict[str, Any]:
    """The execution the trigger starts for an upload (EventBridge delivers within seconds)."""
    sfn, machine = stack.client("stepfunctions"), stack.output("StateMachineArn")
    deadline = time.monotonic() + EXECUTION_APPEARS_S
    while True:
        try:
            return history.describe(sfn, machine, name)
        except CliError:
            if time.monotonic() > deadline:
                raise CliError(
                    "ExecutionNotStarted",
                    f"no execution {name} {EXECUTION_APPEARS_S} s after the upload: check the stack's "
                    "UndeliveredEventsAlarm and the trigger's log group",
                ) from None
        time.sleep(min(1.0, watch.poll_seconds()))


def _finish(
    document: dict[str, Any], job_document: dict[str, Any], as_json: bool, fail_on_errored: bool
) -> None:
    _emit(document, as_json, lambda: click.echo("\n".join(watch.outcome_lines(job_document))))
    outcome = job_document.get("outcome")
    if job_document["status"] != "SUCCEEDED" or outcome == "failed":
        sys.exit(FAILED)
    if outcome == "errored":
        event = (job_document.get("notification") or {}).get("event_type") or "errored"
        click.echo(f"warning: the provider refused some rows ({event}); see the error report", err=True)
        if fail_on_errored:
            sys.exit(FAILED)


@cli.command(help="Start a backup now, with the backup schedule's input.")
@watch_option
@json_option
@click.pass_obj
def backup(obj: Context, watch: bool, as_json: bool) -> None:
    stack = obj.stack()
    with aws_errors(obj.target):
        planned = _schedule(stack)
        if planned is None:
            raise CliError("StackOutputMissing", f"stack {stack.name} has no BackupScheduleName output: "
                           "deploy this version of template.yaml (sam deploy)")  # fmt: skip
        name = f"manual-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        sfn = stack.client("stepfunctions")
        started = sfn.start_execution(stateMachineArn=stack.output("StateMachineArn"), name=name,
                                      input=json.dumps(planned["input"]))  # fmt: skip
        document: dict[str, Any] = {"execution_name": name, "execution_arn": started["executionArn"],
                                    "input": planned["input"], "job": None}  # fmt: skip
        if not watch:
            _emit(
                document,
                as_json,
                lambda: click.echo(f"backup {name} started; follow it with: contact-jobs job {name}"),
            )
            return
        if not as_json:
            click.echo(f"backup {name} started")
        described = sfn.describe_execution(executionArn=started["executionArn"])
        document["job"] = watch_module.follow(sfn, described, show=not as_json)
    _finish(document, document["job"], as_json, fail_on_errored=True)


# backups ---------------------------------------------------------------------------------------------


@cli.command(help="Backups in the backup bucket: date, contacts, files, bytes, whether verified.")
@json_option
@click.pass_obj
def backups(obj: Context, as_json: bool) -> None:
    stack = obj.stack()
    with aws_errors(obj.target):
        rows = _backups(stack)
    _emit({"backups": rows}, as_json, lambda: _print_backups(rows))


def _folders(s3: Any, bucket: str) -> dict[str, list[str]]:
    """Each backup's prefix and the keys under it."""
    folders: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=BACKUP_PREFIX):
        for item in page.get("Contents", []):
            parts = item["Key"].split("/")  # backups/<provider>/<yyyy>/<mm>/<dd>/<job>/...
            if len(parts) > 6 and not parts[5].endswith(".discarded"):
                folders.setdefault("/".join(parts[:6]) + "/", []).append(item["Key"])
    return folders


def _backups(stack: Stack) -> list[dict[str, Any]]:
    s3, bucket = stack.client("s3"), stack.output("BackupBucketName")
    rows = [_backup_row(s3, bucket, prefix, keys) for prefix, keys in _folders(s3, bucket).items()]
    rows.sort(key=lambda row: (row["date"], row["completed_at"] or ""), reverse=True)
    return rows


def _backup_row(s3: Any, bucket: str, prefix: str, keys: list[str]) -> dict[str, Any]:
    """One backup, as its manifest (read by the layer's parser) states it. ``verified``: true when the
    manifest carries every file's row count, which the layer writes only once a verify has passed; false
    when the manifest cannot be read (no verify or restore could use it); null when never verified."""
    key = layer.manifest_key(prefix)
    manifest, problem = None, None
    if key in keys:
        try:
            manifest = layer.parse_manifest(key, s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except layer.BackupUnreadable as exc:
            problem = str(exc)
    parts = prefix.split("/")
    verified = layer.verified_by_row_counts(manifest) or None if manifest else (False if problem else None)
    return {
        "id": parts[5], "provider": parts[1], "date": "-".join(parts[2:5]), "prefix": prefix,
        "complete": key in keys, "manifest_key": key if key in keys else None,
        "completed_at": manifest.completed_at if manifest else None,
        "contacts": manifest.contact_count if manifest else None,
        "files": len(manifest.files) if manifest else len(keys),
        "bytes": manifest.total_bytes if manifest else None,
        "verified": verified, "schema_version": manifest.schema_version if manifest else None,
        "problem": problem,
    }  # fmt: skip


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


def _print_backups(rows: list[dict[str, Any]]) -> None:
    table = Table(title="backups", title_justify="left")
    for column in ("id", "date", "contacts", "files", "bytes", "complete", "verified"):
        table.add_column(column)
    for row in rows:
        verified = {None: "not yet", True: "yes", False: "no (manifest unreadable)"}[row["verified"]]
        complete = "yes" if row["complete"] else "no (no manifest)"
        table.add_row(row["id"], row["date"], _or_dash(row["contacts"]), str(row["files"]),
                      _or_dash(row["bytes"]), complete, verified)  # fmt: skip
    _console().print(table if rows else "backups: none")


# verify, restore ---------------------------------------------------------------------------------------

BACKUP_ID_HELP = "ID: a backup id as `contact-jobs backups` lists it, or its manifest key or prefix."
NAME_LIMIT = 80  # Step Functions execution names
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class FoundBackup:
    id: str
    provider: str
    manifest_key: str


def _find_backup(stack: Stack, given: str) -> FoundBackup:
    """The backup a person names, by id or by key; one line saying what to do when there is none."""
    s3, bucket = stack.client("s3"), stack.output("BackupBucketName")
    hint = "list backups with `contact-jobs backups`"
    if "/" in given:
        key = layer.manifest_key(given)
        parts = key.split("/")
        if not key.startswith(BACKUP_PREFIX) or len(parts) < 7 or not _exists(s3, bucket, key):
            raise CliError("BackupNotFound", f"no manifest at s3://{bucket}/{key}: {hint}", USAGE)
        return FoundBackup(parts[5], parts[1], key)
    prefixes = [prefix for prefix in _folders(s3, bucket) if prefix.split("/")[5] == given]
    if not prefixes:
        raise CliError("BackupNotFound", f"backup {given!r} not found in s3://{bucket}: {hint}", USAGE)
    if len(prefixes) > 1:
        raise CliError("BackupAmbiguous", f"backup id {given!r} names {len(prefixes)} backups "
                       f"({', '.join(prefixes)}): give the prefix of the one you mean", USAGE)  # fmt: skip
    key = layer.manifest_key(prefixes[0])
    if not _exists(s3, bucket, key):
        raise CliError("BackupIncomplete", f"backup {given!r} has no manifest (it did not complete): "
                       f"nothing to verify or restore; {hint}", USAGE)  # fmt: skip
    return FoundBackup(given, prefixes[0].split("/")[1], key)


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


@cli.command(help=f"Read a backup back from S3 and check every file against its manifest. {BACKUP_ID_HELP}")
@click.argument("backup_id", metavar="ID")
@watch_option
@json_option
@click.pass_obj
def verify(obj: Context, backup_id: str, watch: bool, as_json: bool) -> None:
    stack = obj.stack()
    with aws_errors(obj.target):
        found = _find_backup(stack, backup_id)
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        job_part = UNSAFE_NAME.sub("-", found.id)[: NAME_LIMIT - len(stamp) - len("verify--")]
        name = f"verify-{job_part}-{stamp}"
        request = {"operation": "verify", "manifest_key": found.manifest_key}
        sfn = stack.client("stepfunctions")
        started = sfn.start_execution(stateMachineArn=stack.output("StateMachineArn"), name=name,
                                      input=json.dumps(request))  # fmt: skip
        described = sfn.describe_execution(executionArn=started["executionArn"])
        document = _started_document(described, request, joined=False)
        _follow(obj, stack, document, described, watch, as_json, fail_on_errored=True)


@cli.command(help="Put a backup's contacts back into the provider's account (the backup is verified "
             f"first; a repeated request joins the same job). {BACKUP_ID_HELP}")  # fmt: skip
@click.argument("backup_id", metavar="ID")
@click.option(
    "--list", "list_id", required=True,
    help=f"the list to add the contacts to ({layer.NO_RESTORE_LIST}: none, the account only)",
)  # fmt: skip
@click.option("--create-missing-fields", is_flag=True, help="create custom fields the account lacks")
@click.option("--dry-run", is_flag=True, help="the plan only: files, contacts, imports, column mapping")
@watch_option
@errored_option
@json_option
@click.pass_obj
def restore(obj: Context, backup_id: str, list_id: str, create_missing_fields: bool, dry_run: bool,
            watch: bool, fail_on_errored: bool, as_json: bool) -> None:  # fmt: skip
    stack = obj.stack()
    with aws_errors(obj.target):
        found = _find_backup(stack, backup_id)
        if found.provider not in layer.RESTORABLE:
            raise CliError("ProviderCannotRestore", f"backup {found.id} is of {found.provider}, which "
                           f"cannot restore (restorable: {', '.join(layer.RESTORABLE)})", USAGE)  # fmt: skip
        request = {"operation": "restore", "provider": found.provider, "manifest_key": found.manifest_key,
                   "list_id": list_id, "create_missing_fields": create_missing_fields,
                   "dry_run": dry_run}  # fmt: skip
        target = None if list_id == layer.NO_RESTORE_LIST else list_id
        name = layer.restore_execution_name(found.provider, found.manifest_key, target, dry_run)
        described, joined = _start_or_join(stack, name, request)
        document = _started_document(described, request, joined)
        _follow(obj, stack, document, described, watch, as_json, fail_on_errored)


def _start_or_join(stack: Stack, name: str, request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """One restore per backup and target: its name says so. An execution of that name is joined (followed)
    when it asked the same; one that asked otherwise (a dry run, other flags) is named, not joined."""
    sfn, machine = stack.client("stepfunctions"), stack.output("StateMachineArn")
    try:
        described = history.describe(sfn, machine, name)
    except CliError:
        try:
            sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(request))
            return history.describe(sfn, machine, name), False
        except sfn.exceptions.ExecutionAlreadyExists:  # started meanwhile by the same request elsewhere
            described = history.describe(sfn, machine, name)
    asked = history.row_input(described)
    differs = [flag for flag in ("dry_run", "create_missing_fields") if asked.get(flag) != request[flag]]
    if differs:
        what = ", ".join(f"{flag}={str(asked.get(flag)).lower()}" for flag in differs)
        raise CliError(
            "RestoreAlreadyRequested",
            f"this backup's restore into list {request['list_id']} already ran as {described['name']} "
            f"({what}; {described['status']}): one restore per backup and list; "
            f"see it with `contact-jobs job {described['name']}`",
        )
    return described, True


def _started_document(described: dict[str, Any], request: dict[str, Any], joined: bool) -> dict[str, Any]:
    return {"execution_name": described["name"], "execution_arn": described["executionArn"],
            "manifest_key": request["manifest_key"], "input": request, "joined": joined,
            "job": None}  # fmt: skip


def _follow(obj: Context, stack: Stack, document: dict[str, Any], described: dict[str, Any], watch: bool,
            as_json: bool, fail_on_errored: bool) -> None:  # fmt: skip
    """Name the job; with --watch, follow it and exit as its outcome says."""
    operation, name = document["input"]["operation"], document["execution_name"]
    verb = "joined (already requested)" if document["joined"] else "started"
    if not watch:
        _emit(document, as_json, lambda: click.echo(
            f"{operation} {name} {verb}; follow it with: contact-jobs job {name}"))  # fmt: skip
        return
    if not as_json:
        click.echo(f"{operation} {name} {verb} for {document['manifest_key']}")
    document["job"] = watch_module.follow(stack.client("stepfunctions"), described, show=not as_json)
    _finish(document, document["job"], as_json, fail_on_errored)


def main(argv: list[str] | None = None) -> int:
    """The console script: every failure is one line (or one JSON document with --json), never a traceback."""
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        cli.main(args=args, prog_name="contact-jobs", standalone_mode=False)
    except CliError as exc:
        return _fail(exc, as_json)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        return _fail(
            CliError("UsageError", f"{exc.format_message()} (see contact-jobs --help)", USAGE), as_json
        )
    except click.exceptions.Abort:
        click.echo(
            "stopped (a job already started goes on; follow it with `contact-jobs job NAME`)", err=True
        )
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # the promise is one line, never a traceback
        if os.environ.get("CONTACT_JOBS_DEBUG"):
            raise
        message = f"unexpected error: {type(exc).__name__}: {exc} (CONTACT_JOBS_DEBUG=1 shows where)"
        return _fail(CliError("UnexpectedError", message), as_json)
    return 0


def _fail(error: CliError, as_json: bool) -> int:
    if as_json:
        click.echo(json.dumps(error.document()))
    click.echo(f"contact-jobs: {error.message}", err=True)
    return error.exit_code
