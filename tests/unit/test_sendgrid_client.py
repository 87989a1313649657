"""The SendGrid export client, against the fake SendGrid on 127.0.0.1."""

import time

import pytest

from contact_jobs.errors import ProviderError, TransientError
from contact_jobs.http import provider_session
from contact_jobs.providers.base import ExportRequest, ExportState
from contact_jobs.providers.sendgrid.client import SendGridClient
from sandbox.fake_sendgrid import FakeSendGrid

LIST_ID = "0c8e3cf4-5a0e-4b5b-9a51-1f3c7e2d9b10"


def client_for(fake: FakeSendGrid, key: str | None = None, retries: int = 3) -> SendGridClient:
    return SendGridClient(fake.base_url, key or fake.options.api_key, provider_session(retries, 5), 10)


def test_export_is_created_and_becomes_ready_with_urls(fake_sendgrid):
    client = client_for(fake_sendgrid)
    export_id = client.start_export(ExportRequest(list_ids=(LIST_ID,), max_file_size_mb=1))
    status = client.export_status(export_id)
    assert status.state is ExportState.READY
    assert status.urls
    assert all(url.startswith("https://127.0.0.1") for url in status.urls)
    assert status.contact_count == 500
    assert fake_sendgrid.exports[export_id].request == {
        "file_type": "csv",
        "max_file_size": 1,
        "list_ids": [LIST_ID],
    }


def test_a_second_start_joins_the_export_in_flight(fake_sendgrid):
    fake_sendgrid.options.export_ready_after_s = 60
    fake_sendgrid.options.list_shows_export_request = True  # without it nothing is joined (test_export_join)
    client = client_for(fake_sendgrid)
    first = client.start_export(ExportRequest(list_ids=(LIST_ID,)))
    second = client.start_export(ExportRequest(list_ids=(LIST_ID,)))
    assert first == second
    assert len(fake_sendgrid.exports) == 1


def test_a_different_request_does_not_join_another_export(fake_sendgrid):
    fake_sendgrid.options.export_ready_after_s = 60
    client = client_for(fake_sendgrid)
    client.start_export(ExportRequest(list_ids=(LIST_ID,)))
    client.start_export(ExportRequest())
    assert len(fake_sendgrid.exports) == 2


def test_bad_api_key_is_a_provider_error_with_sendgrids_reason(fake_sendgrid):
    with pytest.raises(ProviderError, match="HTTP 401: authorization required") as raised:
        client_for(fake_sendgrid, key="SG.wrong").start_export(ExportRequest())
    assert "SG.wrong" not in str(raised.value)


def test_a_request_the_spec_forbids_is_refused_with_the_reason(fake_sendgrid):
    with pytest.raises(ProviderError, match=r"HTTP 400: .*'not-a-uuid' is not a 'uuid'"):
        client_for(fake_sendgrid).start_export(ExportRequest(list_ids=("not-a-uuid",)))


def test_unknown_export_is_a_404_provider_error(fake_sendgrid):
    with pytest.raises(ProviderError, match="HTTP 404"):
        client_for(fake_sendgrid).export_status("does-not-exist")


@pytest.mark.slow
def test_rate_limited_calls_wait_for_the_reset_and_succeed(fake_sendgrid):
    fake_sendgrid.options.rate_limit_every = 2
    client = client_for(fake_sendgrid)
    started = time.monotonic()
    export_id = client.start_export(ExportRequest())  # list (1), then create (2: 429, 3: ok)
    assert client.export_status(export_id).state is ExportState.READY  # call 4: 429, 5: ok
    statuses = [r.status for r in fake_sendgrid.api_requests()]
    assert statuses.count(429) == 2
    assert time.monotonic() - started >= 0.5, "the client waited for X-RateLimit-Reset"


def test_server_errors_on_reads_are_retried_until_success(fake_sendgrid):
    client = client_for(fake_sendgrid)
    export_id = client.start_export(ExportRequest())  # calls 1 and 2
    fake_sendgrid.options.server_error_every = 2
    for _ in range(2):  # call 3 succeeds; call 4 fails and its retry (5) succeeds
        assert client.export_status(export_id).job_id == export_id
    assert [r.status for r in fake_sendgrid.api_requests()][2:] == [200, 500, 200]


def test_a_server_error_on_create_is_not_blindly_repeated(fake_sendgrid):
    fake_sendgrid.options.server_error_every = 2  # the list call passes, the create gets 500
    with pytest.raises(
        TransientError, match=r"create export \(POST /v3/marketing/contacts/exports\) failed: HTTP 500"
    ):
        client_for(fake_sendgrid).start_export(ExportRequest())
    assert [r.method for r in fake_sendgrid.api_requests()] == ["GET", "POST"]


def test_server_errors_past_the_retry_budget_are_transient(fake_sendgrid):
    fake_sendgrid.options.server_error_every = 1
    with pytest.raises(TransientError, match="HTTP 500"):
        client_for(fake_sendgrid, retries=2).export_status("x")
    assert len(fake_sendgrid.api_requests()) == 3, "one call and two bounded retries"


def test_connection_refused_is_transient():
    client = SendGridClient("https://127.0.0.1:9", "SG.key", provider_session(1, 1), 2)
    with pytest.raises(
        TransientError,
        match=r"get export status \(GET /v3/marketing/contacts/exports/x\) failed: ConnectionError",
    ):
        client.export_status("x")


def test_a_custom_field_is_created_with_the_type_asked(fake_sendgrid):
    created = client_for(fake_sendgrid).create_field_definition("signup_day", "Date")
    assert created["name"] == "signup_day"
    assert created["field_type"] == "Date"
    assert fake_sendgrid.account.field_named("signup_day").id == created["id"]


def test_a_duplicate_custom_field_is_refused_by_sendgrid(fake_sendgrid):
    client = client_for(fake_sendgrid)
    client.create_field_definition("signup_day", "Date")
    with pytest.raises(ProviderError, match="400"):
        client.create_field_definition("SIGNUP_DAY", "Text")


def test_a_list_is_read_by_its_name_and_a_missing_one_is_a_404(fake_sendgrid):
    created = fake_sendgrid.account.add_list("spring customers")
    client = client_for(fake_sendgrid)
    assert client.list_name(created.id) == "spring customers"
    with pytest.raises(ProviderError, match="404"):
        client.list_name("9d1b4f63-0000-4000-8000-000000000000")
