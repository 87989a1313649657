"""The JSON documents the CLI prints with --json, as JSON Schema (draft 2020-12). Scripts may rely on every
``required`` field; fields may be added (a removed or retyped field would be a breaking change)."""

from typing import Any

NULLABLE_STRING = {"type": ["string", "null"]}
TIME = NULLABLE_STRING  # ISO 8601, UTC offset included

JOB_ROW: dict[str, Any] = {
    "type": "object",
    "required": ["name", "operation", "provider", "status", "started_at", "stopped_at"],
    "properties": {
        "name": {"type": "string"},
        "operation": NULLABLE_STRING,
        "provider": NULLABLE_STRING,
        "status": {"enum": ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]},
        "started_at": TIME,
        "stopped_at": TIME,
    },
}

ERROR_OBJECT: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["type", "message"],
    "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
}

JOB: dict[str, Any] = {
    "type": "object",
    "required": [
        *JOB_ROW["required"],
        "arn",
        "outcome",
        "states",
        "waits",
        "retries",
        "failures",
        "counts",
        "bytes_copied",
        "files_copied",
        "error",
        "notification",
    ],
    "properties": {
        **JOB_ROW["properties"],
        "arn": {"type": "string"},
        "outcome": {"enum": ["completed", "errored", "failed", "running", None]},
        "states": {"type": "array", "items": {"type": "object", "required": ["name", "type", "entered_at"]}},
        "waits": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["state", "seconds", "entered_at", "ends_at"],
                "properties": {"seconds": {"type": ["number", "null"]}},
            },
        },
        "retries": {"type": "array", "items": {"type": "object", "required": ["state", "retries", "errors"]}},
        "failures": {"type": "array", "items": {"type": "object", "required": ["state", "error", "cause"]}},
        "counts": {"type": ["object", "null"]},
        "bytes_copied": {"type": "integer"},
        "files_copied": {"type": "integer"},
        "error": ERROR_OBJECT,
        # The notification the job published, as README "Notifications" documents it, plus message_id.
        "notification": {
            "type": ["object", "null"],
            "required": ["schema_version", "event_type", "operation", "provider", "outcome", "job_id"],
        },
    },
}

STATUS: dict[str, Any] = {
    "type": "object",
    "required": ["stack", "schedule", "alarms_in_alarm", "jobs"],
    "properties": {
        "stack": {
            "type": "object",
            "required": ["name", "status", "region", "endpoint_url", "outputs"],
            "properties": {"outputs": {"type": "object", "additionalProperties": {"type": "string"}}},
        },
        "schedule": {
            "type": ["object", "null"],
            "required": ["name", "state", "enabled", "expression", "timezone", "next_run", "input"],
            "properties": {"enabled": {"type": "boolean"}, "next_run": TIME, "input": {"type": "object"}},
        },
        "alarms_in_alarm": {
            "type": "array",
            "items": {"type": "object", "required": ["name", "reason", "since"]},
        },
        "jobs": {"type": "array", "items": JOB_ROW},
    },
}

JOBS: dict[str, Any] = {
    "type": "object",
    "required": ["jobs"],
    "properties": {"jobs": {"type": "array", "items": JOB_ROW}},
}

IMPORT: dict[str, Any] = {
    "type": "object",
    "required": ["bucket", "key", "version_id", "execution_name", "job"],
    "properties": {"job": {"oneOf": [{"type": "null"}, JOB]}, "version_id": NULLABLE_STRING},
}

BACKUP: dict[str, Any] = {
    "type": "object",
    "required": ["execution_name", "execution_arn", "input", "job"],
    "properties": {"input": {"type": "object"}, "job": {"oneOf": [{"type": "null"}, JOB]}},
}

BACKUPS: dict[str, Any] = {
    "type": "object",
    "required": ["backups"],
    "properties": {
        "backups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "provider",
                    "date",
                    "prefix",
                    "complete",
                    "manifest_key",
                    "completed_at",
                    "contacts",
                    "files",
                    "bytes",
                    "verified",
                ],
                "properties": {
                    "complete": {"type": "boolean"},
                    "contacts": {"type": ["integer", "null"]},
                    "files": {"type": "integer"},
                    "bytes": {"type": ["integer", "null"]},
                    # true: a verify passed (the manifest carries the row counts only a passing verify
                    # writes); false: the manifest cannot be read; null: never verified (or schema 1)
                    "verified": {"type": ["boolean", "null"]},
                    "schema_version": NULLABLE_STRING,
                    "problem": NULLABLE_STRING,  # why the manifest cannot be read
                },
            },
        }
    },
}

VERIFY_OBJECT: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["verified", "manifest_key", "files", "bytes", "rows", "problem_count", "problems"],
    "properties": {
        "verified": {"type": "boolean"},
        "problem_count": {"type": "integer"},
        "problems": {
            "type": "array",
            "items": {"type": "object", "required": ["file", "problem"]},
        },
    },
}

# verify and restore: the execution started (or, for a restore, joined) and, with --watch, the job. The
# job's notification carries ``verify`` (VERIFY_OBJECT); a dry run's also ``dry_run`` and ``plan``.
STARTED: dict[str, Any] = {
    "type": "object",
    "required": ["execution_name", "execution_arn", "manifest_key", "input", "joined", "job"],
    "properties": {
        "manifest_key": {"type": "string"},
        "input": {"type": "object", "required": ["operation", "manifest_key"]},
        "joined": {"type": "boolean"},  # restore: an execution of the same request already existed
        "job": {
            "oneOf": [
                {"type": "null"},
                {
                    **JOB,
                    "properties": {
                        **JOB["properties"],
                        "notification": {
                            **JOB["properties"]["notification"],
                            "properties": {"verify": VERIFY_OBJECT, "plan": {"type": "object"}},
                        },
                    },
                },
            ]
        },
    },
}
VERIFY = STARTED
RESTORE: dict[str, Any] = {
    **STARTED,
    "properties": {
        **STARTED["properties"],
        "input": {
            "type": "object",
            "required": [
                "operation",
                "provider",
                "manifest_key",
                "list_id",
                "create_missing_fields",
                "dry_run",
            ],
        },
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {**ERROR_OBJECT, "type": "object"}},
}

BY_COMMAND = {
    "status": STATUS,
    "jobs": JOBS,
    "job": JOB,
    "import": IMPORT,
    "backup": BACKUP,
    "backups": BACKUPS,
    "verify": VERIFY,
    "restore": RESTORE,
}
