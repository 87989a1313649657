"""The handler wrapper: metrics per invocation as EMF on stdout, flushed even when the handler fails."""

import json
from dataclasses import dataclass

import pytest

from contact_jobs.observability import entry_point, metric


@dataclass
class Context:
    function_name: str = "CheckJobFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:CheckJobFunction"
    aws_request_id: str = "request-1"


def emf_records(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith('{"_aws"')]


def test_metrics_recorded_in_a_handler_are_printed_as_emf_once(capsys):
    @entry_point(job_id=lambda event: event["job_id"])
    def handler(event, context):
        metric("PollCount", 1, "backup", "sendgrid")
        metric("PollCount", 1, "backup", "sendgrid")
        return "ok"

    assert handler({"job_id": "backup-1"}, Context()) == "ok"
    (record,) = emf_records(capsys.readouterr().out)
    assert record["PollCount"] == [1.0, 1.0]
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ContactJobs"
    dimensions = (record["operation"], record["provider"], record["service"])
    assert dimensions == ("backup", "sendgrid", "contact-jobs")


def test_metrics_are_flushed_when_the_handler_fails(capsys):
    @entry_point(job_id=lambda event: None)
    def handler(event, context):
        metric("BytesCopied", 5, "backup", "sendgrid")
        raise RuntimeError("copy failed")

    with pytest.raises(RuntimeError):
        handler({}, Context())
    (record,) = emf_records(capsys.readouterr().out)
    assert record["BytesCopied"] == [5.0]


def test_an_invocation_without_metrics_prints_none_and_outside_a_handler_metric_is_a_no_op(capsys):
    metric("JobsStarted", 1, "import", "sendgrid")

    @entry_point(job_id=lambda event: None)
    def handler(event, context):
        return None

    handler({}, Context())
    assert emf_records(capsys.readouterr().out) == []
