"""Logs, metrics and traces for every handler (Powertools), correlated by the job id (the execution name).

Everything an invocation adds is kept per invocation, because the sandbox runs many handlers at once in
one process (a Map's copies, concurrent executions, each on its own thread), and Powertools' shared state
mixes them (measured with ``python -m bench.concurrent_observability``, see README):

- Log keys (the correlation id, the Lambda context, a file's index) go through Powertools' thread-safe
  keys (a context variable), not ``inject_lambda_context(correlation_id_path=...)``/``append_keys``,
  which write one formatter shared by every thread.
- Metrics go to an ``EphemeralMetrics`` made for the invocation and found through a context variable, not a
  module-level instance with ``log_metrics``, whose dimensions and metric set are shared by every thread.

Nothing here is ever given a secret, a URL or a contact.
"""

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from contact_jobs.http import call_deadline

SERVICE = "contact-jobs"
NAMESPACE = "ContactJobs"  # the CloudWatch namespace the README and dashboards name

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)  # off outside Lambda; on in Lambda with the template's Tracing: Active
_metrics: ContextVar[EphemeralMetrics | None] = ContextVar("contact_jobs_metrics", default=None)
_cold_start = [True]  # the first invocation in this process

Handler = Callable[[Any, Any], Any]


def metric(
    name: str, value: float, operation: str, provider: str, unit: MetricUnit = MetricUnit.Count
) -> None:
    """Record a metric for this invocation, by operation and provider (a no-op outside a handler)."""
    metrics = _metrics.get()
    if metrics is None:
        return
    metrics.add_dimension(name="operation", value=operation)
    metrics.add_dimension(name="provider", value=provider)
    metrics.add_metric(name=name, unit=unit, value=value)


def entry_point(job_id: Callable[[Any], str | None]) -> Callable[[Handler], Handler]:
    """Wrap a Lambda handler: structured logs with the Lambda context and the job's correlation id, a
    trace (responses are not captured: they are job state), the invocation's metrics as EMF, and a
    deadline for provider calls from the context's remaining time."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def correlated(event: Any, context: Any) -> Any:
            correlation_id = job_id(event)
            cold_start, _cold_start[0] = _cold_start[0], False
            keys = {"cold_start": cold_start, "correlation_id": correlation_id}
            logger.thread_safe_append_keys(**keys, **vars(build_lambda_context_model(context)))
            try:
                if correlation_id:
                    tracer.put_annotation(key="job_id", value=correlation_id)
                return handler(event, context)
            finally:
                logger.thread_safe_clear_keys()  # a thread that runs another handler next starts clean

        traced = tracer.capture_lambda_handler(capture_response=False)(correlated)

        @wraps(handler)
        def measured(event: Any, context: Any) -> Any:
            metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
            token = _metrics.set(metrics)
            try:
                with call_deadline(_remaining_ms(context)):  # no provider call outlives the invocation
                    return traced(event, context)
            finally:
                _metrics.reset(token)
                if metrics.metric_set:
                    metrics.flush_metrics()

        return measured

    return decorate


def _remaining_ms(context: Any) -> int | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return int(remaining()) if callable(remaining) else None
