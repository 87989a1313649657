"""What an import carries in the workflow's state stays bounded, and Which50 gets its own field names."""

import json

import pytest

from contact_jobs.imports import MAX_WARNINGS, capped
from contact_jobs.providers.which50.client import Which50Settings
from contact_jobs.providers.which50.imports import Which50Imports
from sandbox.runner import STATE_DATA_LIMIT, oversized_payloads

WHICH50 = Which50Settings(
    api_base="https://which50.invalid", secret_id="w50", auth_header="Authorization", auth_scheme="Bearer",
    status_map={}, email_fields=("Email", "EmailAddress"), sms_fields=("Mobile",), batch_size=10_000,
)  # fmt: skip


def test_warnings_are_capped_with_a_count_of_the_rest():
    warnings = capped([f"column 'c{i}' matches no field: skipped" for i in range(8000)])
    assert len(warnings) == MAX_WARNINGS
    assert warnings[-1] == f"... and {8000 - MAX_WARNINGS + 1} more warnings like these"


def test_a_few_warnings_are_kept_as_they_are():
    assert capped(["one", "two"]) == ["one", "two"]


@pytest.mark.parametrize(
    ("column", "sent"), [("email", "Email"), ("EMAILADDRESS", "EmailAddress"), ("mobile", "Mobile")]
)
def test_which50_identifier_columns_are_sent_under_which50s_spelling(column, sent):
    mapping = Which50Imports(client=None, settings=WHICH50).map_fields([column, "FirstName"])
    assert mapping.field_ids == [sent, "FirstName"]


def test_which50_other_columns_are_sent_as_written_without_padding():
    mapping = Which50Imports(client=None, settings=WHICH50).map_fields([" Email ", " shoe_size "])
    assert mapping.field_ids == ["Email", "shoe_size"]


def test_the_sandbox_names_every_state_payload_over_256_kib():
    big = json.dumps({"header": "x" * STATE_DATA_LIMIT})
    events = [
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "SendImport", "input": "{}"}},
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "PrepareImport", "output": big}},
    ]
    assert oversized_payloads(events) == [f"TaskStateExited PrepareImport: output of {len(big)} bytes"]
