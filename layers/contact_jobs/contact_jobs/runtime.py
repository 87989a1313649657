"""Clients built once per Lambda container from the settings (cold start), reused while warm."""

from functools import cache
from typing import Any

import boto3

from contact_jobs.config import settings
from contact_jobs.errors import ConfigurationError, InvalidImportFile, ProviderError
from contact_jobs.http import provider_session
from contact_jobs.imports import ImportAdapter
from contact_jobs.imports_sendgrid import SendGridImports
from contact_jobs.imports_which50 import Which50Imports
from contact_jobs.progress import ProgressStore
from contact_jobs.providers.base import ExportProvider
from contact_jobs.providers.sendgrid import SendGridClient
from contact_jobs.providers.which50 import Which50Auth, Which50Client
from contact_jobs.secrets import api_key
from contact_jobs.transfer import CopySettings
from contact_jobs.urlguard import UrlGuard


@cache
def s3_client() -> Any:
    return boto3.client("s3")


@cache
def sns_client() -> Any:
    return boto3.client("sns")


@cache
def progress_table() -> Any:
    name = settings().progress_table
    if not name:
        raise ConfigurationError("environment variable IMPORT_PROGRESS_TABLE is not set")
    return boto3.resource("dynamodb").Table(name)


def sendgrid() -> SendGridClient:
    # Not cached: the key comes from Powertools' own cache, so a rotated key is picked up.
    config = settings()
    return SendGridClient(
        config.sendgrid_api_base,
        api_key(config.sendgrid_secret_id),
        _session(),
        config.http_timeout_s,
    )


@cache
def _session() -> Any:
    config = settings()
    return provider_session(config.http_retries, config.max_rate_limit_wait_s)


def which50() -> Which50Client:
    config = settings().which50
    if not config.api_base or not config.secret_id:
        raise ConfigurationError("Which50 is not configured: set WHICH50_API_BASE and WHICH50_SECRET_ID")
    auth = Which50Auth(config.auth_header, config.auth_scheme)
    return Which50Client(config.api_base, api_key(config.secret_id), auth, config.status_map, _session(),
                         settings().http_timeout_s)  # fmt: skip


def import_adapter(provider: str, recording: bool = False) -> ImportAdapter:
    """``recording``: for the step that sends, which records what the provider accepted (the others
    only read the state, and have no access to the progress table)."""
    progress = ProgressStore(progress_table()) if recording else None
    if provider == "sendgrid":
        return SendGridImports(sendgrid(), url_guard(), copy_settings(), progress)
    if provider == "which50":
        return Which50Imports(which50(), settings().which50, progress)
    raise InvalidImportFile(f"unknown provider {provider!r} (known: sendgrid, which50)")


def export_provider(name: str) -> ExportProvider:
    if name == "sendgrid":
        return sendgrid()
    raise ProviderError(f"provider {name!r} cannot export contacts (known: sendgrid)")


@cache
def url_guard() -> UrlGuard:
    return UrlGuard(settings().download_hosts)


def copy_settings() -> CopySettings:
    config = settings()
    return CopySettings(config.part_size_mib, config.copy_concurrency, config.copy_buffered_parts)
