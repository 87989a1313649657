"""Settings read from the function's environment (set by template.yaml), validated once per cold start;
a provider's own, by its package (``providers/<name>/__init__.py``) with the helpers here."""

import os
from dataclasses import dataclass
from functools import cache

from contact_jobs.csvscan import Limits
from contact_jobs.errors import ConfigurationError
from contact_jobs.transfer import CopySettings


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def integer(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name} must be an integer, got {raw!r}") from None


def listed(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())


@dataclass(frozen=True)
class PollSettings:
    first_delay_s: int
    max_delay_s: int
    max_job_duration_s: int


@dataclass(frozen=True)
class Settings:
    backup_bucket: str
    topic_arn: str
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
    progress_table: str = ""  # SendImport's only: where it records what the provider accepted


@cache
def settings() -> Settings:
    """The settings of this process; cached because the environment does not change in a warm Lambda."""
    return Settings(
        backup_bucket=required("BACKUP_BUCKET"),
        topic_arn=required("NOTIFICATION_TOPIC_ARN"),
        download_hosts=listed("DOWNLOAD_HOSTS"),
        poll=PollSettings(
            first_delay_s=integer("POLL_FIRST_DELAY_S", 10),
            max_delay_s=integer("POLL_MAX_DELAY_S", 300),
            max_job_duration_s=integer("MAX_JOB_DURATION_S", 6 * 3600),
        ),
        http_timeout_s=integer("HTTP_TIMEOUT_S", 30),
        http_retries=integer("HTTP_RETRIES", 5),
        # The longest rate-limit reset a function sleeps (billed); longer ones are state machine Waits.
        max_rate_limit_wait_s=integer("MAX_RATE_LIMIT_WAIT_S", 10),
        part_size_mib=integer("COPY_PART_SIZE_MIB", CopySettings.part_size_mib),
        copy_concurrency=integer("COPY_CONCURRENCY", CopySettings.concurrency),
        copy_buffered_parts=integer("COPY_BUFFERED_PARTS", CopySettings.buffered_parts),
        import_limits=Limits(
            max_rows=integer("MAX_IMPORT_ROWS", Limits.max_rows),
            max_bytes=integer("MAX_IMPORT_BYTES", Limits.max_bytes),
            max_parts=integer("MAX_IMPORT_PARTS", Limits.max_parts),
            max_header_bytes=integer("MAX_IMPORT_HEADER_BYTES", Limits.max_header_bytes),
            max_columns=integer("MAX_IMPORT_COLUMNS", Limits.max_columns),
            max_record_bytes=integer("MAX_IMPORT_RECORD_BYTES", Limits.max_record_bytes),
            max_field_chars=integer("MAX_IMPORT_FIELD_CHARS", Limits.max_field_chars),
            max_gzip_ratio=integer("MAX_IMPORT_GZIP_RATIO", Limits.max_gzip_ratio),
        ),
        # PrepareImport stops reading this long before its Lambda timeout, with a named reason.
        scan_time_reserve_s=integer("SCAN_TIME_RESERVE_S", 60),
        send_time_budget_s=integer("SEND_TIME_BUDGET_S", 600),
        progress_table=os.environ.get("IMPORT_PROGRESS_TABLE", "").strip(),
    )
