"""Twilio SendGrid Marketing Contacts: imports (one import job per part) and exports (backups)."""

from contact_jobs import runtime
from contact_jobs.config import required, settings
from contact_jobs.progress import ProgressStore
from contact_jobs.providers.registry import Provider
from contact_jobs.providers.sendgrid.client import SendGridClient
from contact_jobs.providers.sendgrid.imports import SendGridImports
from contact_jobs.secrets import api_key


def connect() -> SendGridClient:  # not cached: the key comes from Powertools' cache, so rotation is seen
    base, secret_id = required("SENDGRID_API_BASE").rstrip("/"), required("SENDGRID_SECRET_ID")
    return SendGridClient(base, api_key(secret_id), runtime.session(), settings().http_timeout_s)


def import_adapter(progress: ProgressStore | None) -> SendGridImports:
    return SendGridImports(connect(), runtime.url_guard(), runtime.copy_settings(), progress)


PROVIDER = Provider("sendgrid", "<list id, or _ for no list>", import_adapter, export_client=connect)
