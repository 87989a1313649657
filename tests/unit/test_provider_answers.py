"""A 2xx answer the clients cannot use is a ProviderError naming the request and the field, for both
providers, against the fakes on 127.0.0.1 told to break one answer."""

import pytest

from contact_jobs.errors import ProviderError
from contact_jobs.http import provider_session
from contact_jobs.providers.api import api_path
from contact_jobs.providers.base import ExportRequest
from contact_jobs.providers.sendgrid.client import SendGridClient
from contact_jobs.providers.which50.client import Which50Auth, Which50Client
from sandbox.contacts import field_definitions
from sandbox.fake_sendgrid import FakeSendGrid
from sandbox.fake_which50 import KNOWN_LIST as WHICH50_LIST
from sandbox.fake_which50 import FakeWhich50, FakeWhich50Options
from sandbox.misbehaviour import not_json, replacing, without
from tests.download_server import Route

CREATE_IMPORT = r"create import \(PUT /v3/marketing/contacts/imports\): "
FIELD_DEFINITIONS = r"get field definitions \(GET /v3/marketing/field_definitions\): "
UNUSABLE = "SendGrid's answer is unusable: "


def sendgrid(fake: FakeSendGrid) -> SendGridClient:
    return SendGridClient(fake.base_url, fake.options.api_key, provider_session(1, 1), 10)


@pytest.fixture
def which50():
    with FakeWhich50(FakeWhich50Options(progress_s=0)) as fake:
        yield fake


def which50_client(fake: FakeWhich50) -> Which50Client:
    return Which50Client(fake.base_url, fake.options.api_key, Which50Auth(), {}, provider_session(1, 1), 10)


def create_import(client: SendGridClient) -> None:
    client.create_import([], ["_rf2_T"])


def test_a_200_that_is_not_json_names_the_request_and_what_came(fake_sendgrid):
    fake_sendgrid.options.tamper["create_import"] = not_json
    with pytest.raises(ProviderError) as raised:
        create_import(sendgrid(fake_sendgrid))
    assert str(raised.value) == (
        "create import (PUT /v3/marketing/contacts/imports): SendGrid answered HTTP 200 with a body that is "
        "not JSON (text/html; charset=utf-8, 57 bytes)"
    )


def test_a_200_without_job_id_names_the_field(fake_sendgrid):
    fake_sendgrid.options.tamper["create_import"] = without("job_id")
    with pytest.raises(ProviderError, match=CREATE_IMPORT + UNUSABLE + "'job_id' is missing"):
        create_import(sendgrid(fake_sendgrid))


def test_a_field_of_the_wrong_type_names_it_and_its_value(fake_sendgrid):
    fake_sendgrid.options.tamper["create_import"] = replacing("upload_uri", 42)
    with pytest.raises(ProviderError, match=CREATE_IMPORT + UNUSABLE + "'upload_uri' is 42, not a string"):
        create_import(sendgrid(fake_sendgrid))


def test_a_malformed_item_of_a_list_is_named_by_its_position(fake_sendgrid):
    fake_sendgrid.options.tamper["create_import"] = replacing("upload_headers", [{"header": "x"}])
    with pytest.raises(ProviderError, match=r"'upload_headers\[0\]\.value' is missing"):
        create_import(sendgrid(fake_sendgrid))


def test_json_that_is_not_an_object_is_refused(fake_sendgrid):
    fake_sendgrid.options.tamper["create_import"] = lambda body: [body]
    with pytest.raises(ProviderError, match=CREATE_IMPORT + r".*JSON that is not an object \(list\)"):
        create_import(sendgrid(fake_sendgrid))


def test_empty_field_definitions_are_sendgrids_fault_not_the_files(fake_sendgrid):
    fake_sendgrid.options.tamper["field_definitions"] = lambda body: {
        "reserved_fields": [],
        "custom_fields": [],
    }
    with pytest.raises(ProviderError, match=FIELD_DEFINITIONS + UNUSABLE + "'reserved_fields' is empty"):
        sendgrid(fake_sendgrid).field_definitions()


def test_field_definitions_without_any_identifier_field_are_refused(fake_sendgrid):
    names = {"email", "phone_number_id", "external_id", "anonymous_id"}
    reserved = [d for d in field_definitions()["reserved_fields"] if d["name"] not in names]
    fake_sendgrid.options.tamper["field_definitions"] = replacing("reserved_fields", reserved)
    with pytest.raises(
        ProviderError, match=FIELD_DEFINITIONS + UNUSABLE + "'reserved_fields' defines none of"
    ):
        sendgrid(fake_sendgrid).field_definitions()


def test_a_writable_field_without_an_id_is_named(fake_sendgrid):
    reserved = [{k: v for k, v in d.items() if k != "id"} for d in field_definitions()["reserved_fields"]]
    fake_sendgrid.options.tamper["field_definitions"] = replacing("reserved_fields", reserved)
    with pytest.raises(
        ProviderError, match=FIELD_DEFINITIONS + UNUSABLE + r"'reserved_fields\[0\]\.id' is missing"
    ):
        sendgrid(fake_sendgrid).field_definitions()


def test_an_unparseable_timestamp_names_the_field_and_value(fake_sendgrid):
    fake_sendgrid.options.tamper["export_status"] = replacing("expires_at", "next tuesday")
    client = sendgrid(fake_sendgrid)
    export_id = client.start_export(ExportRequest())
    with pytest.raises(
        ProviderError,
        match=rf"get export status \(GET /v3/marketing/contacts/exports/{export_id}\): {UNUSABLE}"
        r"'expires_at' is 'next tuesday', not an ISO 8601 timestamp",
    ):
        client.export_status(export_id)


def test_a_nested_count_of_the_wrong_type_names_its_path(fake_sendgrid):
    fake_sendgrid.options.tamper["import_status"] = replacing("results", {"created_count": "many"})
    client = sendgrid(fake_sendgrid)
    job = client.create_import([], ["_rf2_T"])
    with pytest.raises(ProviderError, match=r"'results\.created_count' is 'many', not an integer"):
        client.import_status(job.job_id)


def test_an_unusable_answer_is_named_by_path_without_the_key_or_the_base_url(fake_sendgrid):
    fake_sendgrid.options.tamper["create_import"] = not_json
    with pytest.raises(ProviderError) as raised:
        create_import(sendgrid(fake_sendgrid))
    message = str(raised.value)
    assert "/v3/marketing/contacts/imports" in message
    assert fake_sendgrid.options.api_key not in message
    assert fake_sendgrid.base_url not in message


@pytest.mark.parametrize(
    ("call", "sent"),
    [
        (lambda client: client.check_list("abc#2"), "/v3/marketing/lists/abc%232"),
        (lambda client: client.import_status("job?x=1"), "/v3/marketing/contacts/imports/job%3Fx%3D1"),
        (lambda client: client.export_status("50%/2"), "/v3/marketing/contacts/exports/50%25%2F2"),
    ],
    ids=["list id", "import job id", "export job id"],
)
def test_an_id_in_a_path_is_sent_as_one_encoded_segment(fake_sendgrid, call, sent):
    with pytest.raises(ProviderError, match="HTTP 404"):
        call(sendgrid(fake_sendgrid))
    assert [r.target for r in fake_sendgrid.api_requests()] == [sent]


def test_api_path_encodes_every_reserved_character_of_a_segment():
    assert api_path("/contactLists/{}/import/{}", "a/b?c#d", 7) == "/contactLists/a%2Fb%3Fc%23d/import/7"


def test_a_redirect_is_an_error_and_is_not_followed(download_server):
    download_server.routes["/v3/marketing/lists/abc"] = Route(302, headers={"Location": "/elsewhere"})
    download_server.routes["/elsewhere"] = Route(200, b"{}")
    client = SendGridClient(download_server.url(""), "SG.key", provider_session(1, 1), 10)
    with pytest.raises(
        ProviderError, match=r"^get list \(GET /v3/marketing/lists/abc\) failed: HTTP 302: Found$"
    ):
        client.check_list("abc")
    assert len(download_server.seen_headers) == 1


def test_an_unknown_list_shows_sendgrids_message_not_a_python_list(fake_sendgrid):
    with pytest.raises(ProviderError) as raised:
        sendgrid(fake_sendgrid).check_list("0b0e5e0c-0000-4000-8000-000000000000")
    assert str(raised.value) == (
        "get list (GET /v3/marketing/lists/0b0e5e0c-0000-4000-8000-000000000000) failed: "
        "HTTP 404: id: list ID does not exist"
    )


# Which50 -------------------------------------------------------------------------------------------


def test_which50_job_without_id_names_the_request(which50):
    which50.options.tamper["create_job"] = without("Id")
    with pytest.raises(
        ProviderError,
        match=rf"create import job \(POST /contactLists/{WHICH50_LIST}/import\): "
        "Which50's answer is unusable: 'Id' is missing",
    ):
        which50_client(which50).create_import(WHICH50_LIST, ["Email"])


def test_which50_job_answer_with_an_empty_body_names_the_request(which50):
    which50.options.tamper["create_job"] = lambda body: b""
    with pytest.raises(
        ProviderError,
        match=rf"^create import job \(POST /contactLists/{WHICH50_LIST}/import\): "
        "Which50 answered HTTP 200 with an empty body, not a JSON object$",
    ):
        which50_client(which50).create_import(WHICH50_LIST, ["Email"])


def test_which50_status_that_is_not_json_names_the_request(which50):
    client = which50_client(which50)
    job_id = client.create_import(WHICH50_LIST, ["Email"])
    which50.options.tamper["status"] = not_json
    with pytest.raises(
        ProviderError,
        match=rf"get import job \(GET /contactLists/{WHICH50_LIST}/import/{job_id}\): "
        "Which50 answered HTTP 200 with a body that is not JSON",
    ):
        client.status(WHICH50_LIST, job_id)


def test_which50_progress_of_the_wrong_type_is_named(which50):
    client = which50_client(which50)
    job_id = client.create_import(WHICH50_LIST, ["Email"])
    which50.options.tamper["status"] = replacing("ProgressPercent", "100%")
    with pytest.raises(ProviderError, match="'ProgressPercent' is '100%', not an integer"):
        client.status(WHICH50_LIST, job_id)


def test_which50_errors_show_its_message_not_a_python_dict(which50):
    with pytest.raises(ProviderError) as raised:
        which50_client(which50).check_list(999)
    assert str(raised.value) == (
        "get contact list (GET /contactLists/999) failed: HTTP 404: The specified Contactlist was not found."
    )


def test_which50_run_answer_is_not_read(which50):
    """Only what the workflow uses is read: an odd ImportJob from /run does not fail the run."""
    client = which50_client(which50)
    job_id = client.create_import(WHICH50_LIST, ["Email"])
    which50.options.tamper["run"] = not_json
    client.run(WHICH50_LIST, job_id)
    assert which50.run_calls == [job_id]
