"""Workflow runs through the sandbox: the real template, the real ASL in moto, the fake SendGrid."""

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.fake_sendgrid import FakeSendGridOptions
from sandbox.runner import BackupScenario, run_backup


@pytest.fixture
def backup() -> Callable[..., dict[str, Any]]:
    def run(fake: FakeSendGridOptions | None = None, **scenario: Any) -> dict[str, Any]:
        fake = fake or FakeSendGridOptions(export_ready_after_s=0.05)
        return run_backup(BackupScenario(fake=fake, **scenario), say=lambda line: None)

    return run


def only_notification(result: dict[str, Any]) -> dict[str, Any]:
    assert len(result["notifications"]) == 1, result["notifications"]
    note: dict[str, Any] = result["notifications"][0]
    return note
