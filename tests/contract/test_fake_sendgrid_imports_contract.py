"""The fake's import side against the official documents, and its presigned upload URI against what
SendGrid's real one (an S3 presigned PUT) accepts."""

import gzip

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from contact_jobs.http import provider_session
from contact_jobs.providers.sendgrid.client import SendGridClient
from sandbox.fake_sendgrid import KNOWN_LIST, UPLOAD_HEADERS
from sandbox.specs import sendgrid_contracts


def call(fake, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {fake.options.api_key}"}
    return requests.request(method, f"{fake.base_url}{path}", headers=headers, timeout=10, **kwargs)


def assert_fits(document: str, response: requests.Response) -> None:
    contract = next(c for c in sendgrid_contracts() if c.name == document)
    contract.openapi.validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )


def create(fake, **body) -> dict:
    response = call(fake, "PUT", "/v3/marketing/contacts/imports", json={"file_type": "csv", **body})
    assert response.status_code == 200, response.text
    assert_fits("tsg_mc_contacts_v3.json", response)
    return response.json()


def test_field_definitions_fit_the_spec(fake_sendgrid):
    response = call(fake_sendgrid, "GET", "/v3/marketing/field_definitions")
    assert_fits("tsg_mc_custom_fields_v3.json", response)
    names = {field["name"] for field in response.json()["reserved_fields"]}
    assert {"email", "external_id", "contact_id"} <= names


def test_known_list_fits_the_spec(fake_sendgrid):
    assert_fits("tsg_mc_lists_v3.json", call(fake_sendgrid, "GET", f"/v3/marketing/lists/{KNOWN_LIST}"))


def test_an_unknown_list_is_a_404_with_the_specs_bare_list_of_errors(fake_sendgrid):
    response = call(fake_sendgrid, "GET", "/v3/marketing/lists/nope")
    assert response.status_code == 404
    assert_fits("tsg_mc_lists_v3.json", response)
    assert response.json() == [{"field": "id", "message": "list ID does not exist"}]


def test_import_without_field_mappings_is_refused_as_the_spec_requires(fake_sendgrid):
    response = call(fake_sendgrid, "PUT", "/v3/marketing/contacts/imports", json={"file_type": "csv"})
    assert response.status_code == 400
    assert "'field_mappings' is a required property" in response.json()["errors"][0]["message"]


def test_null_mappings_skip_columns_as_the_spec_prose_says(fake_sendgrid):
    created = create(fake_sendgrid, field_mappings=["_rf2_T", None])
    assert {"header": "x-amz-server-side-encryption", "value": "AES256"} in created["upload_headers"]


def upload(created: dict, data: bytes, **headers) -> requests.Response:
    sent = {item["header"]: item["value"] for item in created["upload_headers"]} | headers
    return requests.put(created["upload_uri"], data=data, headers=sent, timeout=10)


def test_uploaded_gzip_is_applied_and_status_fits_the_spec(fake_sendgrid):
    fake_sendgrid.options.import_ready_after_s = 0
    created = create(fake_sendgrid, field_mappings=["_rf2_T", None])
    assert upload(created, gzip.compress(b"email,x\na@example.com,1\nbad,2\n")).status_code == 200
    status = call(fake_sendgrid, "GET", f"/v3/marketing/contacts/imports/{created['job_id']}")
    assert_fits("tsg_mc_contacts_v3.json", status)
    body = status.json()
    assert body["status"] == "errored"
    assert body["results"]["created_count"] == 1
    assert body["results"]["errored_count"] == 1
    assert requests.get(body["results"]["errors_url"], timeout=10).text == "row,error\n3,invalid email\n"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Authorization": "Bearer SG.key"}, 400), ({"x-amz-server-side-encryption": "aws:kms"}, 403)],
)
def test_upload_refuses_the_api_key_and_missing_upload_headers(fake_sendgrid, headers, status):
    created = create(fake_sendgrid, field_mappings=["_rf2_T"])
    assert upload(created, b"email\na@example.com\n", **headers).status_code == status


def test_upload_refuses_chunked_bodies_without_content_length(fake_sendgrid):
    created = create(fake_sendgrid, field_mappings=["_rf2_T"])
    response = upload(created, iter([b"email\n", b"a@example.com\n"]))  # requests sends this chunked
    assert response.status_code == 411


def test_client_import_calls_are_accepted_by_the_spec(fake_sendgrid):
    client = SendGridClient(fake_sendgrid.base_url, fake_sendgrid.options.api_key, provider_session(2, 2), 10)
    client.field_definitions()
    client.check_list(KNOWN_LIST)
    job = client.create_import([KNOWN_LIST], ["_rf2_T", None])
    assert job.upload_headers == UPLOAD_HEADERS
    assert client.import_status(job.job_id).status == "pending"
    assert all(r.status < 400 for r in fake_sendgrid.api_requests())
