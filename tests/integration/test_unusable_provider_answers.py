"""A provider answer the workflow cannot use ends the job with one notification naming the request and
the field (never the file, never a bare KeyError), through the local stack with a misbehaving fake."""

from sandbox.fake_sendgrid import KNOWN_LIST, FakeSendGridOptions
from sandbox.fake_which50 import FakeWhich50Options
from sandbox.misbehaviour import not_json, replacing, without
from tests.integration.conftest import only_notification


def failure(result):
    assert result["status"] == "FAILED"
    note = only_notification(result)
    assert note["attributes"]["outcome"] == "failed"
    return note["attributes"]["event_type"], note["message"]["error"]


def test_empty_field_definitions_fail_the_import_naming_sendgrids_answer_not_the_file(import_file):
    empty = {"field_definitions": lambda body: {"reserved_fields": [], "custom_fields": []}}
    result = import_file(fake=FakeSendGridOptions(import_ready_after_s=0.05, tamper=empty), contacts=5)
    event_type, error = failure(result)
    assert event_type == "import.failed"
    assert error["type"] == "ProviderError"
    assert error["message"] == (
        "get field definitions (GET /v3/marketing/field_definitions): "
        "SendGrid's answer is unusable: 'reserved_fields' is empty"
    )
    assert result["provider_jobs"] == []
    assert result["source_intact"]


def test_a_created_import_without_job_id_fails_naming_the_field(import_file):
    tamper = {"create_import": without("job_id")}
    result = import_file(fake=FakeSendGridOptions(import_ready_after_s=0.05, tamper=tamper), contacts=5)
    event_type, error = failure(result)
    assert event_type == "import.failed"
    assert error["message"] == (
        "create import (PUT /v3/marketing/contacts/imports): "
        "SendGrid's answer is unusable: 'job_id' is missing"
    )


def test_a_list_id_with_a_hash_is_checked_whole_not_cut_at_the_hash(import_file):
    result = import_file(contacts=5, key=f"imports/sendgrid/{KNOWN_LIST}#2/contacts.csv")
    event_type, error = failure(result)
    assert event_type == "import.failed"
    assert error["message"].startswith(
        f"get list (GET /v3/marketing/lists/{KNOWN_LIST}%232) failed: HTTP 404"
    )
    assert result["provider_jobs"] == []


def test_a_which50_job_answer_that_is_not_json_fails_naming_the_request(import_file):
    which50 = FakeWhich50Options(progress_s=0.05, tamper={"create_job": not_json})
    result = import_file(provider="which50", which50=which50, contacts=5)
    event_type, error = failure(result)
    assert event_type == "import.failed"
    assert error["message"].startswith(
        "create import job (POST /contactLists/101/import): "
        "Which50 answered HTTP 200 with a body that is not JSON"
    )


def test_an_unparseable_expiry_fails_the_backup_naming_the_field(backup):
    tamper = {"export_status": replacing("expires_at", "in three days")}
    result = backup(fake=FakeSendGridOptions(export_ready_after_s=0.05, tamper=tamper), contacts=10)
    event_type, error = failure(result)
    assert event_type == "backup.failed"
    assert (
        "SendGrid's answer is unusable: 'expires_at' is 'in three days', not an ISO 8601 timestamp"
        in (error["message"])
    )
    assert error["message"].startswith("get export status (GET /v3/marketing/contacts/exports/")
