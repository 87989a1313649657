"""Do concurrent handlers in one process keep their own correlation id and metric dimensions?

The sandbox runs many handlers at once in one process (a Map's copies, concurrent executions), as threads.
This invokes NotifyFunction through the sandbox's Lambda (moto, the real handler in-process) from many
threads at once, each invocation with its own execution name (the correlation id) and its own provider
name (a metric dimension), and checks every log line and every EMF blob against the invocation that
wrote it (a log line is tied to its invocation by the SNS message id it names).

    .venv/bin/python -m bench.concurrent_observability [threads] [invocations per thread]
"""

import contextvars
import json
import sys
import threading
import uuid
from typing import Any

from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.runner import subscribe_queue
from sandbox.stack import LocalStack, StackConfig, local_stack
from sandbox.template import ROOT


def _invoke(stack: LocalStack, name: str) -> None:
    event: dict[str, Any] = json.loads((ROOT / "events" / "state" / "notify_failed.json").read_text())
    event["execution"]["name"] = name
    event["state"]["provider"] = event["state"]["job"]["provider"] = f"p-{name}"  # a dimension of its own
    answer = stack.client("lambda").invoke(FunctionName="NotifyFunction", Payload=json.dumps(event))
    if "FunctionError" in answer:
        raise RuntimeError(answer["Payload"].read())


def _published(stack: LocalStack, queue_url: str) -> dict[str, str]:
    """SNS message id -> the job id (execution name) its notification names."""
    sqs, found = stack.client("sqs"), {}
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            envelope = json.loads(message["Body"])
            found[envelope["MessageId"]] = json.loads(envelope["Message"])["job_id"]
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def measure(stack: LocalStack, threads: int, per_thread: int) -> dict[str, Any]:
    queue_url = subscribe_queue(stack)
    names = [[f"job-{t}-{i}-{uuid.uuid4().hex[:6]}" for i in range(per_thread)] for t in range(threads)]
    start = threading.Barrier(threads)

    def work(mine: list[str]) -> None:
        start.wait()
        for name in mine:
            _invoke(stack, name)

    # Each thread starts from the caller's context (as the sandbox's own threads do: it carries the identity).
    workers = [threading.Thread(target=contextvars.copy_context().run, args=(work, mine)) for mine in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    job_of_message = _published(stack, queue_url)
    records = [json.loads(line) for line in stack.lambda_log_lines()]
    logs = [r for r in records if r.get("message") == "notification published"]
    blobs = [r for r in records if "_aws" in r]
    wrong_logs = [r for r in logs if r.get("correlation_id") != job_of_message.get(r["message_id"])]
    counted = [(b.get("provider"), b.get("JobsFailed")) for b in blobs]
    expected = sorted((f"p-{name}", [1.0]) for mine in names for name in mine)
    return {
        "invocations": threads * per_thread,
        "log_lines": len(logs),
        "log_lines_with_another_correlation_id": len(wrong_logs),
        "emf_blobs": len(blobs),
        "emf_blobs_match_one_per_invocation": sorted(counted, key=str) == sorted(expected, key=str),
        "emf_blobs_not_one_own_count": sum(1 for provider, values in counted if values != [1.0])
        + abs(len(blobs) - threads * per_thread),
        "example_wrong_log": wrong_logs[0] if wrong_logs else None,
    }


def run(threads: int, per_thread: int) -> dict[str, Any]:
    """``measure`` on a stack of its own (made here: what handlers print must reach this stack's log)."""
    options = FakeSendGridOptions(export_ready_after_s=0.0, contacts=10)
    with FakeSendGrid(options) as fake:
        config = StackConfig(
            api_key=options.api_key, sendgrid_base_url=fake.base_url, download_hosts=fake.download_host
        )
        with local_stack(config) as stack:
            return measure(stack, threads, per_thread)


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    per_thread = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    print(json.dumps(run(threads, per_thread), indent=2))


if __name__ == "__main__":
    main()
