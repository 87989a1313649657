"""Every request the SendGrid client sends is one the official spec accepts (the fake validates each
against contracts/ and would answer 400)."""

import pytest

from contact_jobs.http import provider_session
from contact_jobs.providers.base import ExportRequest
from contact_jobs.providers.sendgrid.client import SendGridClient

LIST_ID = "0c8e3cf4-5a0e-4b5b-9a51-1f3c7e2d9b10"


@pytest.mark.slow
def test_every_client_call_is_accepted_by_the_spec(fake_sendgrid):
    client = SendGridClient(fake_sendgrid.base_url, fake_sendgrid.options.api_key, provider_session(2, 2), 10)
    for request in (
        ExportRequest(),
        ExportRequest(list_ids=(LIST_ID,), max_file_size_mb=10, file_type="json"),
        ExportRequest(segment_ids=("seg-1",)),
    ):
        client.export_status(client.start_export(request))
    client.list_exports()
    statuses = {
        (r.method, r.path.rsplit("/", 1)[0] if r.path.count("/") > 4 else r.path, r.status)
        for r in fake_sendgrid.api_requests()
    }
    assert all(status < 400 for _, _, status in statuses), statuses
    assert {method for method, _, _ in statuses} == {"GET", "POST"}
