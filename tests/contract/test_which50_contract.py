"""The fake Which50 and the client against contracts/which50/which50-api.yaml."""

from pathlib import Path

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from contact_jobs.errors import ProviderError
from contact_jobs.http import provider_session
from contact_jobs.providers.which50.client import MAX_BATCH, Which50Auth, Which50Client
from sandbox.fake_which50 import KNOWN_LIST, ROOT_PATH, FakeWhich50, FakeWhich50Options
from sandbox.specs import contracts_dir

PROGRESS_S = 0.25  # the fake's time from /run to ProgressPercent 100 (quarters are exact in binary)


class ManualClock:
    """The fake's time, moved by the test instead of slept through."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def which50(clock):
    with FakeWhich50(FakeWhich50Options(progress_s=PROGRESS_S, clock=clock)) as fake:
        yield fake


@pytest.fixture(scope="module")
def contract() -> OpenAPI:
    document = yaml.safe_load(Path(contracts_dir() / "which50" / "which50-api.yaml").read_text())
    document["servers"] = [{"url": ROOT_PATH}]
    return OpenAPI.from_dict(document)


def client_for(fake: FakeWhich50, key: str | None = None, auth: Which50Auth | None = None) -> Which50Client:
    return Which50Client(
        fake.base_url, key or fake.options.api_key, auth or Which50Auth(), {}, provider_session(2, 2), 10
    )


def call(fake, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {fake.options.api_key}"}
    return requests.request(method, f"{fake.base_url}{path}", headers=headers, timeout=10, **kwargs)


def assert_fits(contract: OpenAPI, response: requests.Response) -> None:
    contract.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))


def test_list_job_and_status_answers_fit_the_contract(which50, contract):
    assert_fits(contract, call(which50, "GET", f"/contactLists/{KNOWN_LIST}"))
    created = call(which50, "POST", f"/contactLists/{KNOWN_LIST}/import", json={"FieldNames": ["Email"]})
    assert_fits(contract, created)
    job_id = created.json()["Id"]
    assert_fits(contract, call(which50, "POST", f"/contactLists/{KNOWN_LIST}/import/{job_id}/run"))
    assert_fits(contract, call(which50, "GET", f"/contactLists/{KNOWN_LIST}/import/{job_id}"))


@pytest.mark.slow
def test_a_batch_over_ten_thousand_contacts_is_refused(which50):
    job_id = call(
        which50, "POST", f"/contactLists/{KNOWN_LIST}/import", json={"FieldNames": ["Email"]}
    ).json()["Id"]
    batch = [{"Values": {"Email": f"c{i}@example.com"}} for i in range(MAX_BATCH + 1)]
    response = call(which50, "POST", f"/contactLists/{KNOWN_LIST}/import/{job_id}", json=batch)
    assert response.status_code == 400
    assert "maxItems 10000" in response.json()["Message"]
    assert which50.batch_sizes == []


def test_the_client_refuses_to_send_an_oversized_batch(which50):
    with pytest.raises(ValueError, match="at most 10000"):
        client_for(which50).push(KNOWN_LIST, 1, [{"Values": {}}] * (MAX_BATCH + 1))


def test_batches_are_applied_only_after_run(which50, clock):
    client = client_for(which50)
    job_id = client.create_import(KNOWN_LIST, ["Email"])
    client.push(KNOWN_LIST, job_id, [{"Values": {"Email": "a@example.com"}}])
    clock.advance(10 * PROGRESS_S)  # far longer than a run takes: time alone applies nothing
    before = client.status(KNOWN_LIST, job_id)
    assert (before.finished, before.inserted, which50.contacts) == (False, 0, set())
    client.run(KNOWN_LIST, job_id)
    clock.advance(PROGRESS_S)
    after = client.status(KNOWN_LIST, job_id)
    assert (after.finished, after.inserted) == (True, 1)


def test_run_never_passes_customevents(which50):
    client = client_for(which50)
    client.run(KNOWN_LIST, client.create_import(KNOWN_LIST, ["Email"]))
    assert which50.statuses[-1] == 200, "the fake refuses customevents"


def test_progress_rises_over_time_until_finished(which50, clock):
    client = client_for(which50)
    job_id = client.create_import(KNOWN_LIST, ["Email"])
    client.run(KNOWN_LIST, job_id)
    seen = []
    while not (status := client.status(KNOWN_LIST, job_id)).finished:
        seen.append(
            call(which50, "GET", f"/contactLists/{KNOWN_LIST}/import/{job_id}").json()["ProgressPercent"]
        )
        assert len(seen) <= 4, "finished once its progress time has passed"
        clock.advance(PROGRESS_S / 4)
    assert seen == sorted(set(seen)), "it rose at every look"
    assert len(seen) == 4, "the job was running for a while"
    assert status.status == "Complete"


@pytest.mark.parametrize(
    ("header", "scheme", "sent"),
    [("Authorization", "Bearer", "Bearer k"), ("X-Api-Key", "", "k"), ("Authorization", "Basic", "Basic k")],
)
def test_the_auth_header_and_scheme_are_configuration(header, scheme, sent):
    assert Which50Auth(header, scheme).headers("k") == {header: sent}


def test_a_custom_auth_header_is_what_the_fake_is_told_to_accept():
    options = FakeWhich50Options(auth_header="X-Api-Key", auth_scheme="", api_key="k")
    with FakeWhich50(options) as fake:
        client_for(fake, auth=Which50Auth("X-Api-Key", "")).check_list(KNOWN_LIST)
        with pytest.raises(ProviderError, match="HTTP 401"):
            client_for(fake).check_list(KNOWN_LIST)


def test_status_meaning_comes_from_configuration_and_unknown_values_stay_unmapped(which50):
    mapped = Which50Client(which50.base_url, which50.options.api_key, Which50Auth(), {"Complete": "finished"},
                           provider_session(2, 2), 10)  # fmt: skip
    job_id = mapped.create_import(KNOWN_LIST, ["Email"])
    assert mapped.status(KNOWN_LIST, job_id).meaning is None, "'Created' is not in the mapping"
