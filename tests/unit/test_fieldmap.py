"""CSV header -> SendGrid field ids by name."""

import pytest

from contact_jobs.errors import InvalidImportFile
from contact_jobs.providers.sendgrid.imports import map_sendgrid_fields
from sandbox.contacts import field_definitions


def test_columns_map_case_insensitively_to_reserved_and_custom_fields():
    mapping = map_sendgrid_fields(["EMAIL", "First_Name", "loyalty_points"], field_definitions())
    assert mapping.field_ids == ["_rf2_T", "_rf0_T", "e1_N"]
    assert mapping.warnings == []


def test_read_only_and_unknown_columns_are_skipped_with_warnings():
    mapping = map_sendgrid_fields(["email", "CONTACT_ID", "shoe_size"], field_definitions())
    assert mapping.field_ids == ["_rf2_T", None, None]
    assert mapping.warnings == [
        "column 'CONTACT_ID' is read-only in SendGrid: skipped",
        "column 'shoe_size' matches no field: skipped",
    ]


@pytest.mark.parametrize("identifier", ["external_id", "phone_number_id", "anonymous_id"])
def test_any_identifier_column_is_enough(identifier):
    assert map_sendgrid_fields([identifier, "city"], field_definitions()).field_ids[0] is not None


def test_a_file_without_identifier_is_refused():
    with pytest.raises(InvalidImportFile, match="no identifier column"):
        map_sendgrid_fields(["first_name", "city"], field_definitions())
