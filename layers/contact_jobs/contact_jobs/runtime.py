"""Clients built once per Lambda container from the settings (cold start), reused while warm."""

from functools import cache
from typing import Any

import boto3
import requests

from contact_jobs.config import settings
from contact_jobs.errors import ConfigurationError
from contact_jobs.http import provider_session
from contact_jobs.imports import ImportAdapter
from contact_jobs.progress import ProgressStore
from contact_jobs.providers import registry
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


@cache
def session() -> requests.Session:  # every provider client's: bounded retries, rate limits honoured
    config = settings()
    return provider_session(config.http_retries, config.max_rate_limit_wait_s)


def import_adapter(provider: str, recording: bool = False) -> ImportAdapter:
    """``recording``: for the step that sends, which records what the provider accepted (the others
    only read the state, and have no access to the progress table)."""
    progress = ProgressStore(progress_table()) if recording else None
    return registry.provider(provider).import_adapter(progress)


@cache
def url_guard() -> UrlGuard:
    return UrlGuard(settings().download_hosts)


def copy_settings() -> CopySettings:
    config = settings()
    return CopySettings(config.part_size_mib, config.copy_concurrency, config.copy_buffered_parts)
