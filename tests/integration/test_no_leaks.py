"""The demo, run with a canary API key and canary contact emails: neither may appear in the handlers' logs
(and metrics), in any state payload or event of the executions' history, or in a notification."""

import hashlib
import json
import uuid
from typing import Any

import pytest

from sandbox.__main__ import demo
from sandbox.contacts import import_csv


@pytest.fixture(scope="module")
def canaries() -> dict[str, str]:
    return {
        "api_key": f"SG.canary-{uuid.uuid4().hex}",
        "email_domain": f"canary-{uuid.uuid4().hex[:12]}.example",
    }


@pytest.fixture(scope="module")
def ran(canaries) -> dict[str, Any]:
    return demo(api_key=canaries["api_key"], email_domain=canaries["email_domain"], say=lambda line: None)


def surfaces(run: dict[str, Any]) -> dict[str, str]:
    return {
        "logs": "\n".join(run["lambda_logs"]),
        "execution history": json.dumps(run["history"]),
        "notifications": json.dumps(run["notifications"]),
    }


def test_the_canaries_really_went_through_the_jobs(ran, canaries):
    """Without this, a leak test could pass because the canaries were never used."""
    assert ran["import"]["status"] == ran["backup"]["status"] == "SUCCEEDED"
    sent = import_csv(2000, 3, canaries["email_domain"])
    assert canaries["email_domain"].encode() in sent
    assert ran["import"]["received_sha256"] == hashlib.sha256(sent).hexdigest()
    assert ran["import"]["counts"]["errored"] == 3
    assert len(ran["backup"]["files"]) >= 2
    for run in ran.values():
        assert all(surfaces(run).values()), "every surface has content to search"
        assert len(run["history"][0]["events"]) > 20


@pytest.mark.parametrize("job", ["import", "backup"])
@pytest.mark.parametrize("surface", ["logs", "execution history", "notifications"])
@pytest.mark.parametrize("canary", ["api_key", "email_domain"])
def test_no_canary_appears_anywhere_an_operator_or_subscriber_can_read(ran, canaries, job, surface, canary):
    assert canaries[canary] not in surfaces(ran[job])[surface]
