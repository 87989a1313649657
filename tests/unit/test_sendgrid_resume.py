"""SendGrid's send step against the progress store (moto's DynamoDB): what a retry does with each record
an earlier attempt may have left."""

from dataclasses import dataclass, field
from typing import Any

import pytest

from contact_jobs.progress import ProgressStore
from contact_jobs.providers.sendgrid import imports as imports_sendgrid
from contact_jobs.providers.sendgrid.client import ImportJob, ImportStatus
from contact_jobs.providers.sendgrid.imports import SendGridImports
from contact_jobs.transfer import CopySettings
from tests.unit.test_progress import store, table  # noqa: F401 - the fixtures, shared

JOB = {
    "job_id": "import-abc",
    "source": {"bucket": "imports", "key": "imports/sendgrid/_/contacts.csv", "version_id": None},
    "header": "email\n",
    "target": "",
    "field_mappings": ["_rf1"],
    "parts": [{"index": 0, "rows": 3, "start": 6, "end": 30}],
    "uploads": [],
    "send": {"calls": 0, "done": False, "retry_in_s": 0},
}


@dataclass
class StubSendGrid:
    status: str = "pending"
    created: list[str] = field(default_factory=list)

    def create_import(self, list_ids: list[str], field_mappings: list[str | None]) -> ImportJob:
        self.created.append(f"sg-{len(self.created) + 1}")
        return ImportJob(self.created[-1], "https://upload.example/x", {})

    def import_status(self, job_id: str) -> ImportStatus:
        return ImportStatus(job_id, self.status)


@pytest.fixture
def uploads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    monkeypatch.setattr(imports_sendgrid, "upload_to_url", lambda url, *args: sent.append(url))
    monkeypatch.setattr(SendGridImports, "_body", staticmethod(lambda job, part, s3: b"email\n"))
    return sent


def adapter(client: StubSendGrid, progress: ProgressStore) -> SendGridImports:
    return SendGridImports(client, None, CopySettings(), progress)  # type: ignore[arg-type]


def send(client: StubSendGrid, progress: ProgressStore) -> dict[str, Any]:
    record, uploaded = adapter(client, progress).send(JOB, None, 0.0)
    return {"record": record, "uploads": uploaded}


def test_a_first_attempt_creates_uploads_and_records_the_part_sent(store, uploads):  # noqa: F811
    client = StubSendGrid()
    sent = send(client, store)
    assert (client.created, len(uploads)) == (["sg-1"], 1)
    assert sent["uploads"] == [{"index": 0, "rows": 3, "provider_job_id": "sg-1"}]
    assert sent["record"]["done"]
    assert store.get("import-abc", 0).sent


def test_a_retry_after_the_part_was_sent_neither_creates_nor_uploads(store, uploads):  # noqa: F811
    store.start("import-abc", 0, "sendgrid", "sg-0")
    store.finish("import-abc", 0, "sg-0")
    client = StubSendGrid()
    sent = send(client, store)
    assert (client.created, uploads) == ([], [])
    assert sent["uploads"] == [{"index": 0, "rows": 3, "provider_job_id": "sg-0"}]


def test_an_unconfirmed_upload_of_a_pending_job_is_not_sent_again_and_is_flagged(store, uploads):  # noqa: F811
    store.start("import-abc", 0, "sendgrid", "sg-0")
    client = StubSendGrid(status="pending")
    sent = send(client, store)
    assert (client.created, uploads) == ([], [])
    assert sent["uploads"][0]["upload_unconfirmed"] is True
    assert store.get("import-abc", 0).sent


def test_an_unconfirmed_upload_of_a_finished_job_is_resumed_without_a_flag(store, uploads):  # noqa: F811
    store.start("import-abc", 0, "sendgrid", "sg-0")
    sent = send(StubSendGrid(status="completed"), store)
    assert sent["uploads"] == [{"index": 0, "rows": 3, "provider_job_id": "sg-0"}]


def test_an_attempt_that_recorded_second_leaves_its_own_job_empty(store, uploads, monkeypatch):  # noqa: F811
    real_get, reads = store.get, []

    def read_before_the_other_attempt_recorded(job_id: str, part: int) -> Any:
        reads.append(part)
        return None if len(reads) == 1 else real_get(job_id, part)

    monkeypatch.setattr(store, "get", read_before_the_other_attempt_recorded)
    store.start("import-abc", 0, "sendgrid", "sg-other")
    client = StubSendGrid(status="pending")
    sent = send(client, store)
    assert client.created == ["sg-1"]
    assert uploads == [], "the job that lost the race must get no rows"
    assert sent["uploads"][0]["provider_job_id"] == "sg-other"


def test_the_unconfirmed_part_is_a_warning_in_the_results(uploads):
    client = StubSendGrid(status="completed")
    job = {**JOB, "uploads": [{"index": 0, "rows": 3, "provider_job_id": "sg-0", "upload_unconfirmed": True}]}
    _, warnings = adapter(client, None).results(job)  # type: ignore[arg-type]
    assert warnings == [
        "part 1: the answer to its upload was lost; it was not sent again, so its rows are applied at most "
        "once (import job sg-0)"
    ]
