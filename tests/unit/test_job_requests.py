"""A job request this project cannot serve (an unknown operation or provider) is refused as InvalidRequest,
before any client is built; the providers it knows are registered by name."""

import pytest

from contact_jobs import jobs, runtime
from contact_jobs.errors import InvalidRequest
from contact_jobs.providers import registry


def test_an_unknown_provider_is_an_invalid_request_naming_the_known_ones():
    with pytest.raises(InvalidRequest, match=r"unknown provider 'mailchimp' \(known: sendgrid, which50\)"):
        runtime.import_adapter("mailchimp")


def test_an_unknown_operation_is_an_invalid_request():
    execution = {"name": "job", "arn": "arn", "start_time": "2026-12-02T00:00:00Z"}
    with pytest.raises(InvalidRequest, match=r"unknown operation 'merge' \(known: backup, import, verify, "):
        jobs.start_export({"operation": "merge"}, execution)


def test_a_provider_without_exports_cannot_be_backed_up():
    with pytest.raises(InvalidRequest, match=r"'which50' cannot export contacts \(known: sendgrid\)"):
        registry.exporter("which50")


def test_the_built_in_providers_are_registered_with_their_key_targets():
    assert {name: provider.target for name, provider in registry.known().items()} == {
        "sendgrid": "<list id, or _ for no list>",
        "which50": "<contact list id>",
    }
