"""The import progress store against moto's DynamoDB: conditional writes keep a stale attempt from moving
progress backwards or overwriting a finished part."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contact_jobs.progress import SENT, STARTED, TTL_S, Progress, ProgressConflict, ProgressStore
from sandbox.stack import progress_table_keys

NOW = 1_800_000_000.0


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="eu-west-1")
        yield dynamodb.create_table(TableName="progress", **progress_table_keys())


@pytest.fixture
def store(table: Any) -> ProgressStore:
    return ProgressStore(table, clock=lambda: NOW)


def test_a_part_without_a_record_has_no_progress(store):
    assert store.get("job-1", 0) is None


def test_start_records_the_providers_job(store):
    assert store.start("job-1", 0, "sendgrid", "sg-1") == Progress("sg-1", STARTED)
    assert store.get("job-1", 0) == Progress("sg-1", STARTED)


def test_a_second_start_adopts_the_job_the_first_recorded(store):
    store.start("job-1", 0, "sendgrid", "sg-1")
    assert store.start("job-1", 0, "sendgrid", "sg-2").provider_job_id == "sg-1"
    assert store.get("job-1", 0).provider_job_id == "sg-1"


def test_parts_are_recorded_apart(store):
    store.start("job-1", 0, "sendgrid", "sg-1")
    store.start("job-1", 1, "sendgrid", "sg-2")
    assert [store.get("job-1", part).provider_job_id for part in (0, 1)] == ["sg-1", "sg-2"]


def test_advance_moves_the_offset_forward(store):
    store.start("job-1", 0, "which50", "7", offset=40)
    store.advance("job-1", 0, offset=400, rows_sent=10)
    assert store.get("job-1", 0) == Progress("7", STARTED, offset=400, rows_sent=10)


def test_a_stale_advance_cannot_move_the_offset_backwards(store):
    store.start("job-1", 0, "which50", "7", offset=40)
    store.advance("job-1", 0, offset=800, rows_sent=20)
    with pytest.raises(ProgressConflict):
        store.advance("job-1", 0, offset=400, rows_sent=10)
    assert store.get("job-1", 0).offset == 800


def test_an_advance_to_the_same_offset_is_refused(store):
    store.start("job-1", 0, "which50", "7")
    store.advance("job-1", 0, offset=400, rows_sent=10)
    with pytest.raises(ProgressConflict):
        store.advance("job-1", 0, offset=400, rows_sent=10)


def test_a_finished_part_cannot_be_advanced(store):
    store.start("job-1", 0, "which50", "7")
    store.advance("job-1", 0, offset=400, rows_sent=10)
    store.finish("job-1", 0, "7")
    with pytest.raises(ProgressConflict):
        store.advance("job-1", 0, offset=800, rows_sent=20)
    assert store.get("job-1", 0) == Progress("7", SENT, offset=400, rows_sent=10)


def test_a_restart_cannot_overwrite_a_finished_part(store):
    store.start("job-1", 0, "sendgrid", "sg-1")
    store.finish("job-1", 0, "sg-1")
    assert store.start("job-1", 0, "sendgrid", "sg-2") == Progress("sg-1", SENT)


def test_finish_needs_the_job_the_record_names(store):
    store.start("job-1", 0, "sendgrid", "sg-1")
    with pytest.raises(ProgressConflict):
        store.finish("job-1", 0, "sg-2")
    assert store.get("job-1", 0).stage == STARTED


def test_finishing_twice_is_allowed(store):
    store.start("job-1", 0, "sendgrid", "sg-1")
    store.finish("job-1", 0, "sg-1")
    store.finish("job-1", 0, "sg-1")
    assert store.get("job-1", 0).sent


def test_records_expire_by_ttl_and_hold_no_contact_data(store, table):
    store.start("job-1", 0, "which50", "7")
    store.advance("job-1", 0, offset=400, rows_sent=10)
    item = table.get_item(Key={"job_id": "job-1", "part": 0})["Item"]
    assert item["expires_at"] == int(NOW) + TTL_S
    assert set(item) == {
        "job_id", "part", "provider", "provider_job_id", "stage", "offset", "rows_sent", "updated_at",
        "expires_at",
    }  # fmt: skip
