"""The CLI's pieces that need no stack: the schedule's next run, the key and name it takes from the layer,
its console script."""

import tomllib
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path

import pytest

from contact_jobs import trigger
from contact_jobs_cli import layer, schedule

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_schedule_runs_next_at_three_the_next_day():
    now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert schedule.next_run("cron(0 3 * * ? *)", "UTC", now) == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def test_a_weekday_schedule_skips_to_the_named_day():
    wednesday = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert schedule.next_run("cron(30 2 ? * MON *)", "UTC", wednesday) == datetime(
        2026, 12, 7, 2, 30, tzinfo=UTC
    )


def test_a_schedule_is_read_in_its_time_zone():
    now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    found = schedule.next_run("cron(0 9 * * ? *)", "Europe/Berlin", now)
    assert found is not None
    assert found.astimezone(UTC) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["rate(1 day)", "cron(0 3 L * ? *)", "at(2026-12-24T00:00:00)"])
def test_expressions_the_cli_cannot_compute_have_no_next_run(expression):
    assert schedule.next_run(expression, "UTC") is None


def test_the_upload_key_follows_the_layers_convention():
    assert layer.import_key("sendgrid", None, "spring.csv") == "imports/sendgrid/_/spring.csv"
    assert layer.import_key("which50", "101", "m.csv.gz") == "imports/which50/101/m.csv.gz"


def test_a_file_the_layer_would_refuse_is_refused_by_name():
    with pytest.raises(layer.KeyProblem, match=r"\.csv or \.csv\.gz"):
        layer.import_key("sendgrid", None, "contacts.xlsx")


def test_the_execution_name_is_the_one_the_trigger_derives():
    event = {"source": "aws.s3", "detail-type": "Object Created",
             "detail": {"bucket": {"name": "b"}, "object": {"key": "imports/sendgrid/_/a+b.csv",
                                                          "version-id": "v1", "etag": "e"}}}  # fmt: skip
    created = trigger.parse_event(event)
    expected = trigger.execution_name(created.bucket, created.key, created.version)
    assert layer.upload_execution_name("b", "imports/sendgrid/_/a b.csv", "v1", "e") == expected


def test_the_console_script_names_the_clis_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["contact-jobs"].partition(":")
    assert callable(getattr(import_module(module), function))
