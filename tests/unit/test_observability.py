"""The handler wrapper: metrics per invocation as EMF on stdout, flushed even when the handler fails."""

import io
import json
import threading
from dataclasses import dataclass

import pytest

from contact_jobs.observability import entry_point, logger, metric


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


def json_objects(text: str) -> list[dict]:
    """Every JSON object in ``text``, even when two threads' lines were printed into one."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := text.find("{", at)) >= 0:
        record, at = decoder.raw_decode(text, at)
        found.append(record)
    return found


@pytest.fixture
def log_buffer():
    """The logger's JSON lines, as a string buffer (its handler keeps the stdout it was created with)."""
    buffer = io.StringIO()
    (handler,) = logger.handlers
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_concurrent_invocations_log_and_count_under_their_own_job_and_dimensions(capsys, log_buffer):
    # Both invocations set their keys and record before either logs or flushes: shared Powertools state
    # (inject_lambda_context's correlation id, one Metrics instance) would give both the last one's.
    both_started = threading.Barrier(2)

    @entry_point(job_id=lambda event: event["job_id"])
    def handler(event, context):
        metric("PollCount", 1, "backup", event["provider"])
        both_started.wait(timeout=10)
        logger.info("polled", extra={"own_job_id": event["job_id"]})
        both_started.wait(timeout=10)

    jobs = [{"job_id": "job-a", "provider": "provider-a"}, {"job_id": "job-b", "provider": "provider-b"}]
    threads = [
        threading.Thread(target=handler, args=(job, Context(aws_request_id=job["job_id"]))) for job in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    logs = [record for record in json_objects(log_buffer.getvalue()) if record["message"] == "polled"]
    assert sorted((r["correlation_id"], r["own_job_id"], r["function_request_id"]) for r in logs) == [
        ("job-a", "job-a", "job-a"),
        ("job-b", "job-b", "job-b"),
    ]
    blobs = [record for record in json_objects(capsys.readouterr().out) if "_aws" in record]
    assert sorted((blob["provider"], blob["PollCount"]) for blob in blobs) == [
        ("provider-a", [1.0]),
        ("provider-b", [1.0]),
    ]


def test_keys_an_invocation_adds_do_not_reach_the_next_one_on_the_same_thread(log_buffer):
    @entry_point(job_id=lambda event: event.get("job_id"))
    def handler(event, context):
        if "index" in event:
            logger.thread_safe_append_keys(file_index=event["index"])
        logger.info("ran")

    handler({"job_id": "job-a", "index": 3}, Context())
    handler({}, Context())
    first, second = [json.loads(line) for line in log_buffer.getvalue().splitlines()]
    assert (first["correlation_id"], first["file_index"]) == ("job-a", 3)
    assert "correlation_id" not in second
    assert "file_index" not in second
