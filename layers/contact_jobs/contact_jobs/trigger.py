"""S3 "Object Created" -> one state machine execution per object version, however often it is delivered."""

import hashlib
import json
from typing import Any

from contact_jobs import importkey

NAME_LIMIT = 80  # Step Functions execution names: at most 80 characters of [A-Za-z0-9-_]


def execution_name(bucket: str, key: str, version: str) -> str:
    """Derived from bucket, key and version id (or ETag): a redelivery maps to the same name (Step Functions
    refuses to start it twice), a new upload of the same key to a new one."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{version}".encode()).hexdigest()
    return f"import-{digest[: NAME_LIMIT - len('import-')]}"


def execution_input(
    bucket: str, key: str, version_id: str | None, etag: str | None, size: int | None
) -> dict[str, Any]:
    parsed = key.split("/")
    return {
        "operation": "import",
        "provider": parsed[1] if len(parsed) > 1 else "unknown",
        "source": {"bucket": bucket, "key": key, "version_id": version_id, "etag": etag, "size": size},
    }


def start_import(
    sfn: Any,
    state_machine_arn: str,
    bucket: str,
    raw_key: str,
    version_id: str | None,
    etag: str | None,
    size: int | None,
) -> dict[str, Any]:
    key = importkey.decode_event_key(raw_key)
    if not importkey.is_import_upload(key):
        return {"started": False, "reason": f"{key} is not an import upload"}
    name = execution_name(bucket, key, version_id or etag or "")
    try:
        started = sfn.start_execution(
            stateMachineArn=state_machine_arn, name=name,
            input=json.dumps(execution_input(bucket, key, version_id, etag, size)),
        )  # fmt: skip
    except sfn.exceptions.ExecutionAlreadyExists:
        return {"started": False, "execution_name": name, "reason": "already started for this object version"}
    return {"started": True, "execution_name": name, "execution_arn": started["executionArn"]}
