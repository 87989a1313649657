"""Settings read from the function's environment (set by template.yaml), validated once per cold start."""

import os
from dataclasses import dataclass
from functools import cache

from contact_jobs.csvscan import Limits
from contact_jobs.errors import ConfigurationError
from contact_jobs.transfer import CopySettings


def _require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name} must be an integer, got {raw!r}") from None


def _csv(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())


@dataclass(frozen=True)
class PollSettings:
    first_delay_s: int
    max_delay_s: int
    max_job_duration_s: int


@dataclass(frozen=True)
class Which50Settings:
    api_base: str
    secret_id: str
    auth_header: str
    auth_scheme: str
    status_map: dict[str, str]
    email_fields: tuple[str, ...]
    sms_fields: tuple[str, ...]
    batch_size: int
    # Request body bytes per push (JSON, as sent). Which50's request limit is undocumented (ASP.NET's
    # default is 4 MB).
    batch_bytes: int = 4 * 1024 * 1024


def _status_map(name: str) -> dict[str, str]:
    """``Value=meaning`` pairs, comma-separated; meanings: running, finished, failed."""
    mapping: dict[str, str] = {}
    for pair in _csv(name):
        value, _, meaning = pair.partition("=")
        if meaning.strip() not in ("running", "finished", "failed"):
            raise ConfigurationError(f"{name}: {pair!r} must map a status to running, finished or failed")
        mapping[value.strip()] = meaning.strip()
    return mapping


def _auth_scheme(name: str) -> str:
    """The scheme before the key. An empty parameter is awkward to pass to ``sam deploy``, so the template
    documents "-" for the key alone (empty means the same); any other scheme is kept as written."""
    scheme = os.environ.get(name, "Bearer").strip()
    return "" if scheme == "-" else scheme


@dataclass(frozen=True)
class Settings:
    backup_bucket: str
    topic_arn: str
    sendgrid_api_base: str
    sendgrid_secret_id: str
    download_hosts: tuple[str, ...]
    poll: PollSettings
    http_timeout_s: int
    http_retries: int
    max_rate_limit_wait_s: int
    part_size_mib: int
    copy_concurrency: int
    copy_buffered_parts: int
    import_limits: Limits
    scan_time_reserve_s: int
    send_time_budget_s: int
    which50: "Which50Settings"
    progress_table: str = ""  # SendImport's only: where it records what the provider accepted


@cache
def settings() -> Settings:
    """The settings of this process; cached because the environment does not change in a warm Lambda."""
    return Settings(
        backup_bucket=_require("BACKUP_BUCKET"),
        topic_arn=_require("NOTIFICATION_TOPIC_ARN"),
        sendgrid_api_base=_require("SENDGRID_API_BASE").rstrip("/"),
        sendgrid_secret_id=_require("SENDGRID_SECRET_ID"),
        download_hosts=_csv("DOWNLOAD_HOSTS"),
        poll=PollSettings(
            first_delay_s=_int("POLL_FIRST_DELAY_S", 10),
            max_delay_s=_int("POLL_MAX_DELAY_S", 300),
            max_job_duration_s=_int("MAX_JOB_DURATION_S", 6 * 3600),
        ),
        http_timeout_s=_int("HTTP_TIMEOUT_S", 30),
        http_retries=_int("HTTP_RETRIES", 5),
        # The longest rate-limit reset a function sleeps (billed); longer ones are state machine Waits.
        max_rate_limit_wait_s=_int("MAX_RATE_LIMIT_WAIT_S", 10),
        part_size_mib=_int("COPY_PART_SIZE_MIB", CopySettings.part_size_mib),
        copy_concurrency=_int("COPY_CONCURRENCY", CopySettings.concurrency),
        copy_buffered_parts=_int("COPY_BUFFERED_PARTS", CopySettings.buffered_parts),
        import_limits=Limits(
            max_rows=_int("MAX_IMPORT_ROWS", Limits.max_rows),
            max_bytes=_int("MAX_IMPORT_BYTES", Limits.max_bytes),
            max_parts=_int("MAX_IMPORT_PARTS", Limits.max_parts),
            max_header_bytes=_int("MAX_IMPORT_HEADER_BYTES", Limits.max_header_bytes),
            max_columns=_int("MAX_IMPORT_COLUMNS", Limits.max_columns),
            max_record_bytes=_int("MAX_IMPORT_RECORD_BYTES", Limits.max_record_bytes),
            max_field_chars=_int("MAX_IMPORT_FIELD_CHARS", Limits.max_field_chars),
            max_gzip_ratio=_int("MAX_IMPORT_GZIP_RATIO", Limits.max_gzip_ratio),
        ),
        # PrepareImport stops reading this long before its Lambda timeout, with a named reason.
        scan_time_reserve_s=_int("SCAN_TIME_RESERVE_S", 60),
        send_time_budget_s=_int("SEND_TIME_BUDGET_S", 600),
        which50=Which50Settings(
            api_base=os.environ.get("WHICH50_API_BASE", "").rstrip("/"),
            secret_id=os.environ.get("WHICH50_SECRET_ID", ""),
            auth_header=os.environ.get("WHICH50_AUTH_HEADER", "Authorization"),
            auth_scheme=_auth_scheme("WHICH50_AUTH_SCHEME"),
            status_map=_status_map("WHICH50_STATUS_MAP"),
            email_fields=_csv("WHICH50_EMAIL_FIELDS") or ("Email", "EmailAddress"),
            sms_fields=_csv("WHICH50_SMS_FIELDS") or ("Mobile", "MobileNumber", "SMS"),
            batch_size=_int("WHICH50_BATCH_SIZE", 10_000),
            batch_bytes=_int("WHICH50_BATCH_BYTES", Which50Settings.batch_bytes),
        ),
        progress_table=os.environ.get("IMPORT_PROGRESS_TABLE", "").strip(),
    )
