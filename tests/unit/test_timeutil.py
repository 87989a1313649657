"""Timestamps from providers and state: ISO 8601, always UTC-aware."""

from datetime import UTC, datetime

import pytest

from contact_jobs.timeutil import parse_timestamp


@pytest.mark.parametrize(
    "value", ["2026-01-02T03:04:05Z", "2026-01-02T04:04:05+01:00", "2026-01-02T03:04:05"]
)
def test_z_an_offset_or_none_all_read_as_the_same_utc_moment(value):
    assert parse_timestamp(value) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp(value).tzinfo is not None


def test_an_unparseable_timestamp_is_a_value_error_that_names_it():
    with pytest.raises(ValueError, match=r"^not an ISO 8601 timestamp: 'next tuesday'$"):
        parse_timestamp("next tuesday")
