"""Workflow runs through the sandbox: the real template, the real ASL in moto, the fake SendGrid."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.import_runner import ImportScenario, run_import
from sandbox.runner import BackupScenario, run_backup
from sandbox.stack import LocalStack, StackConfig, local_stack


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


@pytest.fixture
def stack_with_fake() -> Iterator[tuple[LocalStack, FakeSendGrid]]:
    """The local stack wired to a fake SendGrid, for calling handlers directly with events/."""
    options = FakeSendGridOptions(export_ready_after_s=0.0, contacts=50)
    with FakeSendGrid(options) as fake:
        config = StackConfig(
            api_key=options.api_key,
            sendgrid_base_url=fake.base_url,
            download_hosts=fake.download_host,
        )
        with local_stack(config) as stack:
            yield stack, fake


@pytest.fixture
def import_file() -> Callable[..., dict[str, Any]]:
    def run(fake: FakeSendGridOptions | None = None, **scenario: Any) -> dict[str, Any]:
        fake = fake or FakeSendGridOptions(import_ready_after_s=0.05)
        return run_import(ImportScenario(fake=fake, **scenario), say=lambda line: None)

    return run
