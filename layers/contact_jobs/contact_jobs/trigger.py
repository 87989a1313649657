"""S3 "Object Created" (through EventBridge) -> one state machine execution per object version, however
often it is delivered.

- The event is read here, not through Powertools' ``S3EventBridgeNotificationEvent``: its ``object.key``
  already URL-decodes (decoding again turned ``a+b.csv`` into ``a b.csv``) and its ``version_id`` raises a
  bare ``KeyError`` when S3 sends no ``version-id``. ``parse_event`` decodes the key exactly once and names
  whatever is missing.
- An event this trigger cannot have been sent (malformed, another bucket, another detail-type, the classic
  ``{"Records": [...]}`` shape) is refused with ``RefusedEvent``; nothing starts.
- A key that breaks the convention (misplaced, too deep, unknown provider, not .csv/.csv.gz) starts an
  execution that goes straight to NotifyFailed: one ``import.failed`` notification naming the key and where
  it should have gone, deduplicated like an import by the execution name. Nothing reads the file.
- Folder markers (``.../``) and the project's own error reports (``imports/<p>/<t>/errors/...``) are
  ignored: nothing starts and nobody is notified.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contact_jobs import importkey
from contact_jobs.errors import ContactJobsError, InvalidImportFile
from contact_jobs.providers import registry

NAME_LIMIT = 80  # Step Functions execution names: at most 80 characters of [A-Za-z0-9-_]
SOURCE = "aws.s3"
DETAIL_TYPE = "Object Created"


class RefusedEvent(ContactJobsError):
    """The event is not an S3 Object Created event for the import bucket (the message says what is wrong)."""


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str  # as stored in S3: decoded once from the event
    version_id: str | None
    etag: str | None
    size: int | None
    sequencer: str | None = None

    @property
    def version(self) -> str:
        """What tells this upload from the next one of the same key: the version id; in a bucket without
        versioning, S3's sequencer (new for every write, the same in every delivery of one event), since
        the ETag repeats when the same bytes are uploaded again; the ETag only when neither is sent."""
        return self.version_id or self.sequencer or self.etag or ""


def parse_event(event: Any) -> ObjectCreated:
    """The object an S3 EventBridge "Object Created" event names; ``RefusedEvent`` for anything else."""
    if not isinstance(event, Mapping):
        raise RefusedEvent(f"event is a {type(event).__name__}, not an S3 EventBridge event object")
    if "Records" in event:
        raise RefusedEvent(
            "event has the classic S3 notification shape ({'Records': [...]}); this trigger takes S3's "
            "EventBridge 'Object Created' events (template.yaml, ImportUploaded rule): "
            "see events/s3_object_created.json"
        )
    if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
        raise RefusedEvent(
            f"event source {event.get('source')!r} / detail-type {event.get('detail-type')!r} is not "
            f"{SOURCE!r} / {DETAIL_TYPE!r}"
        )
    detail = _mapping(event, "detail", "event")
    bucket = _text(_mapping(detail, "bucket", "detail"), "name", "detail.bucket")
    obj = _mapping(detail, "object", "detail")
    raw_key = _text(obj, "key", "detail.object")
    version_id = _optional_text(obj, "version-id")
    etag = _optional_text(obj, "etag")
    sequencer = _optional_text(obj, "sequencer")
    if not (version_id or etag):
        raise RefusedEvent(
            "event names neither detail.object.version-id nor detail.object.etag: "
            "this upload could not be told apart from the next upload of the same key"
        )
    size = obj.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise RefusedEvent(f"detail.object.size is {size!r}, not a byte count")
    return ObjectCreated(bucket, importkey.decode_event_key(raw_key), version_id, etag, size, sequencer)


def execution_name(bucket: str, key: str, version: str) -> str:
    """Derived from bucket, key and version (``ObjectCreated.version``): a redelivery maps to the same
    name (Step Functions refuses to start it twice), a new upload of the same key to a new one."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{version}".encode()).hexdigest()
    return f"import-{digest[: NAME_LIMIT - len('import-')]}"


def execution_input(created: ObjectCreated, problem: str | None = None) -> dict[str, Any]:
    """The import's input; with ``problem``, an ``error`` that sends the execution straight to NotifyFailed
    (the shape a Catch gives, so the notification reads it like any other failure)."""
    parts = created.key.split("/")
    provider = parts[1] if len(parts) > 2 and parts[1] in registry.known() else "unknown"
    source = {
        "bucket": created.bucket,
        "key": created.key,
        "version_id": created.version_id,
        "etag": created.etag,
        "size": created.size,
    }
    started: dict[str, Any] = {"operation": "import", "provider": provider, "source": source}
    if problem is not None:
        started["error"] = {"Error": InvalidImportFile.__name__, "Cause": problem}
    return started


def ignored(key: str) -> str | None:
    """Why an object in the import bucket starts nothing and notifies nobody (None: it is an upload)."""
    if not importkey.is_under_imports(key):
        return f"{key} is not under {importkey.PREFIX}/"
    if importkey.is_folder(key):
        return f"{key} is a folder marker"
    if importkey.is_errors_report(key):
        return f"{key} is under an {importkey.ERRORS_FOLDER}/ folder, where this project writes error reports"
    return None


def key_problem(key: str) -> str | None:
    """What is wrong with an upload's key (None: it follows the convention)."""
    try:
        importkey.parse(key)
    except InvalidImportFile as exc:
        return str(exc)
    return None


def start_import(sfn: Any, state_machine_arn: str, created: ObjectCreated) -> dict[str, Any]:
    """Start the execution for this object version (an import, or a notice that its key is wrong).

    A redelivery while that execution runs gets the same execution back (StartExecution is idempotent for
    the same name and input); once it has ended, ExecutionAlreadyExists. Either way one execution."""
    reason = ignored(created.key)
    if reason is not None:
        return {"started": False, "reason": reason}
    problem = key_problem(created.key)
    name = execution_name(created.bucket, created.key, created.version)
    result: dict[str, Any] = {"execution_name": name, "key_problem": problem}
    try:
        started = sfn.start_execution(
            stateMachineArn=state_machine_arn, name=name,
            input=json.dumps(execution_input(created, problem)),
        )  # fmt: skip
    except sfn.exceptions.ExecutionAlreadyExists:
        return {**result, "started": False, "reason": "already started for this object version"}
    return {**result, "started": True, "execution_arn": started["executionArn"]}


def handle_event(sfn: Any, state_machine_arn: str, import_bucket: str, event: Any) -> dict[str, Any]:
    """The trigger: refuse what it cannot have been sent, start what it was."""
    created = parse_event(event)
    if created.bucket != import_bucket:
        raise RefusedEvent(
            f"event names bucket {created.bucket!r}; this trigger imports from {import_bucket!r}"
        )
    return start_import(sfn, state_machine_arn, created)


def _mapping(parent: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise RefusedEvent(f"{where}.{name} is {_described(value)}, not an object")
    return value


def _text(parent: Mapping[str, Any], name: str, where: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value:
        raise RefusedEvent(f"{where}.{name} is {_described(value)}, not a non-empty string")
    return value


def _optional_text(parent: Mapping[str, Any], name: str) -> str | None:
    value = parent.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RefusedEvent(f"detail.object.{name} is {_described(value)}, not a string")
    return value


def _described(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"
