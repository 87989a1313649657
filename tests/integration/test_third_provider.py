"""A third provider is one package's worth of code and one registration: a provider known only to this test
imports through the sandbox (the real template and state machine, unchanged) and never reaches the others."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug import Request, Response

from contact_jobs import csvscan, runtime
from contact_jobs.imports import FieldMapping
from contact_jobs.providers import registry
from contact_jobs.providers.api import Call, JsonApi, api_path
from contact_jobs.state import ImportJob, PartResult, SendProgress, Upload
from contact_jobs.streams import open_sized
from sandbox.loopback import LoopbackFake
from tests.integration.conftest import only_notification

CSV = b"email,first_name\na@example.com,Ann\nb@example.com,Bo\nc@example.com,Cy\n"


class FakeTally(LoopbackFake):
    """Tally's whole API: POST /imports takes a CSV, GET /imports/<id> says how many rows it holds."""

    def __init__(self) -> None:
        self.received: list[str] = []

    @Request.application  # type: ignore[arg-type]
    def wsgi(self, request: Request) -> Response:
        if request.method == "POST":
            self.received.append(request.get_json()["csv"])
            answer = {"id": len(self.received)}
        else:
            rows = self.received[int(request.path.rsplit("/", 1)[1]) - 1].count("\n") - 1
            answer = {"status": "done", "rows": rows}
        return Response(json.dumps(answer), content_type="application/json")


class TallyImports:
    """The provider's side of an import: the whole file in one call, then its count."""

    name = "tally"

    def __init__(self, api: JsonApi) -> None:
        self._api = api

    def limits(self, configured: csvscan.Limits) -> csvscan.Limits:
        return configured

    def map_fields(self, header: list[str]) -> FieldMapping:
        return FieldMapping(list(header), [])

    def check_target(self, target: str) -> None:
        pass

    def send(self, job: ImportJob, s3: Any, deadline: float) -> tuple[SendProgress, list[Upload]]:
        source = job["source"]
        body, _ = open_sized(s3, source["bucket"], source["key"], source.get("version_id"))
        created = self._api.read(Call("create import", "POST", "/imports"), {"csv": body.read().decode()})
        upload = Upload(index=0, rows=job["rows"], provider_job_id=str(created.integer("id")))
        return {**job["send"], "done": True, "retry_in_s": 0}, [upload]

    def results(self, job: ImportJob) -> tuple[list[PartResult] | None, list[str]]:
        job_id = job["uploads"][0]["provider_job_id"]
        rows = self._api.read(Call("get import", "GET", api_path("/imports/{}", job_id))).integer("rows")
        counts = {"requested": rows, "created": rows, "updated": 0, "errored": 0}
        return [PartResult(index=0, provider_job_id=job_id, status="completed", counts=counts)], []

    def errors_url(self, provider_job_id: str) -> str | None:
        return None


@pytest.fixture
def tally(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTally]:
    with FakeTally() as fake:
        api = lambda: JsonApi("Tally", fake.base_url, {}, runtime.session(), 10)  # noqa: E731
        tally = registry.Provider("tally", "<anything>", lambda progress: TallyImports(api()))
        monkeypatch.setitem(registry.registered, "tally", tally)  # the one registration
        yield fake


@pytest.mark.slow
def test_a_provider_registered_in_a_test_imports_through_the_unchanged_workflow(import_file, tally):
    result = import_file(provider="tally", key="imports/tally/main/contacts.csv", body=CSV)
    assert result["status"] == "SUCCEEDED", result["states"]
    assert tally.received == [CSV.decode()]
    note = only_notification(result)["message"]
    assert (note["event_type"], note["provider"]) == ("import.completed", "tally")
    assert note["provider_job_id"] == "1"
    assert note["counts"] == {"requested": 3, "created": 3, "updated": 0, "errored": 0}
    assert result["provider_jobs"] == [], "Which50 (the runner's other fake) was never called"
