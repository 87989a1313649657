"""TriggerImport: an S3 Object Created event (via EventBridge) starts one import execution.

The event is read by ``contact_jobs.trigger`` (not Powertools' data class, which decodes the key itself and
fails with a bare KeyError on a versionless event). A refused event is logged as an error and answered,
not raised: the refusal is deterministic, so Lambda's asynchronous retries would only repeat it (the
upload rule's pattern already keeps other buckets and shapes away; what reaches here was invoked by hand).
A failure to start an execution is still raised: Lambda retries it, then dead-letters it.
"""

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.observability import entry_point, logger
from contact_jobs.trigger import RefusedEvent, handle_event


@cache
def _sfn() -> Any:
    return boto3.client("stepfunctions")


@entry_point(job_id=lambda event: None)  # the job id is the execution name it starts
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        result = handle_event(_sfn(), os.environ["STATE_MACHINE_ARN"], os.environ["IMPORT_BUCKET"], event)
    except RefusedEvent as exc:
        logger.error("event refused", extra={"problem": str(exc)})
        return {"started": False, "refused": str(exc)}
    logger.thread_safe_append_keys(correlation_id=result.get("execution_name"))
    logger.info("import trigger", extra=result)
    return result
