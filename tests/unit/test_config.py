"""Settings from the environment: the Which50 auth scheme (the template's "-" means the key alone)."""

import pytest

from contact_jobs.config import settings
from contact_jobs.providers.which50 import read_settings
from contact_jobs.providers.which50.client import Which50Auth

REQUIRED = {
    "BACKUP_BUCKET": "backups",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:notifications",
    "SENDGRID_API_BASE": "https://api.sendgrid.com",
    "SENDGRID_SECRET_ID": "sendgrid",
}


@pytest.fixture
def environment(monkeypatch):
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WHICH50_AUTH_SCHEME", raising=False)
    settings.cache_clear()
    yield monkeypatch
    settings.cache_clear()


def sent_header(scheme: str | None, environment) -> str:
    if scheme is not None:
        environment.setenv("WHICH50_AUTH_SCHEME", scheme)
    which50 = read_settings()
    return Which50Auth(which50.auth_header, which50.auth_scheme).headers("k")["Authorization"]


def test_the_default_scheme_is_bearer(environment):
    assert sent_header(None, environment) == "Bearer k"


@pytest.mark.parametrize("scheme", ["-", "", " - "])
def test_a_dash_or_nothing_sends_the_key_alone(environment, scheme):
    assert sent_header(scheme, environment) == "k"


@pytest.mark.parametrize("scheme", ["Api-Key", "X-Which50-Token"])
def test_a_scheme_with_hyphens_is_sent_as_written(environment, scheme):
    assert sent_header(scheme, environment) == f"{scheme} k"
