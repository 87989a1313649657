"""Shared fixtures: the fake providers on 127.0.0.1, moto, and the sandbox's CA for https."""

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.tls import loopback_certificate
from tests.download_server import DownloadServer

EVENTS = Path(__file__).resolve().parents[1] / "events"
REGION = "eu-west-1"
# Whole folders of slow tests: each integration test runs a local stack, each gate test a tool (make
# test-fast leaves them out with -m "not slow"). A slow test elsewhere carries @pytest.mark.slow itself.
SLOW_FOLDERS = ("integration", "gates")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        if item.path.is_relative_to(tests) and item.path.relative_to(tests).parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real account: fake credentials, one region, the sandbox CA trusted."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(loopback_certificate().cert_path))


@pytest.fixture
def fake_options() -> FakeSendGridOptions:
    return FakeSendGridOptions(contacts=500, export_ready_after_s=0.0)


@pytest.fixture
def fake_sendgrid(fake_options: FakeSendGridOptions) -> Iterator[FakeSendGrid]:
    with FakeSendGrid(fake_options) as fake:
        yield fake


@pytest.fixture
def s3() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket="backups", CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def load_event(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((EVENTS / name).read_text())
    return loaded


@pytest.fixture
def download_server() -> Iterator[DownloadServer]:

    with DownloadServer() as server:
        yield server
