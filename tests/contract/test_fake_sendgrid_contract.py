"""The fake SendGrid against the official OpenAPI documents: what it answers fits the spec, and what
the spec forbids it refuses as the real API does."""

import gzip
import json
import time

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from sandbox.specs import sendgrid_contracts

LIST_ID = "0c8e3cf4-5a0e-4b5b-9a51-1f3c7e2d9b10"


def contacts_contract():
    return next(c for c in sendgrid_contracts() if c.name == "tsg_mc_contacts_v3.json")


def call(fake, method: str, path: str, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {"Authorization": f"Bearer {fake.options.api_key}"})
    return requests.request(method, f"{fake.base_url}{path}", headers=headers, timeout=10, **kwargs)


def assert_fits_spec(response: requests.Response) -> None:
    contacts_contract().openapi.validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )


def test_create_export_answer_fits_the_spec(fake_sendgrid):
    response = call(
        fake_sendgrid,
        "POST",
        "/v3/marketing/contacts/exports",
        json={"list_ids": [LIST_ID], "file_type": "csv"},
    )
    assert response.status_code == 202
    assert_fits_spec(response)


@pytest.mark.parametrize("ready_after", [60.0, 0.0])
def test_export_status_fits_the_spec_pending_and_ready(fake_sendgrid, ready_after):
    fake_sendgrid.options.export_ready_after_s = ready_after
    export_id = call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={}).json()["id"]
    response = call(fake_sendgrid, "GET", f"/v3/marketing/contacts/exports/{export_id}")
    assert response.json()["status"] == ("pending" if ready_after else "ready")
    assert_fits_spec(response)


def test_failed_export_uses_the_specs_failure_status(fake_sendgrid):
    fake_sendgrid.options.fail_exports = True
    export_id = call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={}).json()["id"]
    response = call(fake_sendgrid, "GET", f"/v3/marketing/contacts/exports/{export_id}")
    assert response.json()["status"] == "failure"
    assert response.json()["message"]
    assert_fits_spec(response)


def test_list_exports_fits_the_spec(fake_sendgrid):
    call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={"list_ids": [LIST_ID]})
    response = call(fake_sendgrid, "GET", "/v3/marketing/contacts/exports")
    assert [item["lists"][0]["ID"] for item in response.json()["result"]] == [LIST_ID]
    assert_fits_spec(response)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"file_type": "xml"}, "'xml' is not one of"),
        ({"list_ids": ["not-a-uuid"]}, "is not a 'uuid'"),
        ({"max_file_size": "big"}, "is not of type 'integer'"),
        ({"list_ids": "one"}, "is not of type 'array'"),
    ],
)
def test_a_body_the_spec_forbids_gets_a_400_in_sendgrids_shape(fake_sendgrid, body, reason):
    response = call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json=body)
    assert response.status_code == 400
    assert reason in response.json()["errors"][0]["message"]
    assert fake_sendgrid.exports == {}


def test_missing_or_wrong_bearer_key_gets_401(fake_sendgrid):
    for headers in (
        {},
        {"Authorization": "Bearer SG.other"},
        {"Authorization": fake_sendgrid.options.api_key},
    ):
        response = call(fake_sendgrid, "GET", "/v3/marketing/contacts/exports", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"errors": [{"field": None, "message": "authorization required"}]}


def test_rate_limited_answer_has_the_documented_shape_and_headers(fake_sendgrid):
    fake_sendgrid.options.rate_limit_every = 1
    response = call(fake_sendgrid, "GET", "/v3/marketing/contacts/exports")
    assert response.status_code == 429
    assert response.json() == {"errors": [{"field": None, "message": "too many requests"}]}
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > time.time() - 1


def test_export_is_split_by_max_file_size_with_a_header_in_each_file(fake_sendgrid):
    fake_sendgrid.options.contacts = 20000
    export_id = call(
        fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={"max_file_size": 1}
    ).json()["id"]
    urls = call(fake_sendgrid, "GET", f"/v3/marketing/contacts/exports/{export_id}").json()["urls"]
    files = [gzip.decompress(requests.get(url, timeout=10).content) for url in urls]
    assert len(files) >= 2
    assert all(len(data) <= 1024 * 1024 for data in files)
    assert all(data.startswith(b"EMAIL,FIRST_NAME,LAST_NAME") for data in files)
    assert sum(data.count(b"\n") - 1 for data in files) == 20000


def test_download_urls_lapse_like_presigned_urls(fake_sendgrid):
    fake_sendgrid.options.url_ttl_s = 0
    export_id = call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={}).json()["id"]
    url = call(fake_sendgrid, "GET", f"/v3/marketing/contacts/exports/{export_id}").json()["urls"][0]
    assert requests.get(url, timeout=10).status_code == 403
    assert requests.get(url.replace("Signature=", "Signature=0"), timeout=10).status_code == 403


def test_the_contract_check_itself_rejects_a_response_missing_required_fields(fake_sendgrid):
    export_id = call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={}).json()["id"]
    response = call(fake_sendgrid, "GET", f"/v3/marketing/contacts/exports/{export_id}")
    response._content = b'{"id": "x", "status": "done"}'  # no created_at/expires_at, status outside the enum
    with pytest.raises(Exception, match="required property") as raised:
        assert_fits_spec(response)
    assert "is not one of ['pending', 'ready', 'failure']" in str(raised.value)


def test_json_export_is_ndjson_one_contact_a_line(fake_sendgrid):
    created = call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={"file_type": "json"})
    export_id = created.json()["id"]
    url = call(fake_sendgrid, "GET", f"/v3/marketing/contacts/exports/{export_id}").json()["urls"][0]
    lines = gzip.decompress(requests.get(url, timeout=10).content).splitlines()
    assert len(lines) == fake_sendgrid.options.contacts
    assert json.loads(lines[0])["EMAIL"] == "contact0000000@example.com"


@pytest.mark.parametrize("shows_request", [False, True])
def test_a_paginated_export_list_fits_the_spec_page_by_page_linked_by_next(fake_sendgrid, shows_request):
    fake_sendgrid.options.export_list_page_size = 2
    fake_sendgrid.options.list_shows_export_request = shows_request
    for size in (1, 2, 3):
        call(fake_sendgrid, "POST", "/v3/marketing/contacts/exports", json={"max_file_size": size})
    pages, link = [], f"{fake_sendgrid.base_url}/v3/marketing/contacts/exports"
    while link:
        response = call(fake_sendgrid, "GET", link.removeprefix(fake_sendgrid.base_url))
        assert_fits_spec(response)
        pages.append([item["id"] for item in response.json()["result"]])
        link = response.json()["_metadata"].get("next")
    assert pages == [list(fake_sendgrid.exports)[:2], list(fake_sendgrid.exports)[2:]]
    assert ("file_type" in response.json()["result"][0]) is shows_request
