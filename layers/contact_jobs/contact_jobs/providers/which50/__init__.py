"""Which50 contact lists: imports. Its authentication and statuses are undocumented: both are settings."""

import os

from contact_jobs import runtime
from contact_jobs.config import integer, listed, settings
from contact_jobs.errors import ConfigurationError
from contact_jobs.progress import ProgressStore
from contact_jobs.providers.registry import Provider
from contact_jobs.providers.which50.client import STATUS_MEANINGS, Which50Auth, Which50Client, Which50Settings
from contact_jobs.providers.which50.imports import Which50Imports
from contact_jobs.secrets import api_key


def read_settings() -> Which50Settings:
    return Which50Settings(
        api_base=os.environ.get("WHICH50_API_BASE", "").rstrip("/"),
        secret_id=os.environ.get("WHICH50_SECRET_ID", ""),
        auth_header=os.environ.get("WHICH50_AUTH_HEADER", "Authorization"),
        auth_scheme=_auth_scheme("WHICH50_AUTH_SCHEME"),
        status_map=_status_map("WHICH50_STATUS_MAP"),
        email_fields=listed("WHICH50_EMAIL_FIELDS") or ("Email", "EmailAddress"),
        sms_fields=listed("WHICH50_SMS_FIELDS") or ("Mobile", "MobileNumber", "SMS"),
        batch_size=integer("WHICH50_BATCH_SIZE", 10_000),
        batch_bytes=integer("WHICH50_BATCH_BYTES", Which50Settings.batch_bytes),
    )


def _status_map(name: str) -> dict[str, str]:
    """``Value=meaning`` pairs, comma-separated; meanings: running, finished, failed."""
    mapping: dict[str, str] = {}
    for pair in listed(name):
        value, _, meaning = pair.partition("=")
        if meaning.strip() not in STATUS_MEANINGS:
            raise ConfigurationError(f"{name}: {pair!r} must map a status to running, finished or failed")
        mapping[value.strip()] = meaning.strip()
    return mapping


def _auth_scheme(name: str) -> str:
    # "-" (or empty) sends the key alone: an empty parameter is awkward to pass to ``sam deploy``.
    scheme = os.environ.get(name, "Bearer").strip()
    return "" if scheme == "-" else scheme


def import_adapter(progress: ProgressStore | None) -> Which50Imports:
    config = read_settings()
    if not config.api_base or not config.secret_id:
        raise ConfigurationError("Which50 is not configured: set WHICH50_API_BASE and WHICH50_SECRET_ID")
    auth = Which50Auth(config.auth_header, config.auth_scheme)
    client = Which50Client(config.api_base, api_key(config.secret_id), auth, config.status_map,
                           runtime.session(), settings().http_timeout_s)  # fmt: skip
    return Which50Imports(client, config, progress)


PROVIDER = Provider("which50", "<contact list id>", import_adapter)
