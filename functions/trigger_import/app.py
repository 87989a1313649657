"""TriggerImport: an S3 Object Created event (via EventBridge) starts one import execution."""

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.observability import entry_point, logger
from contact_jobs.trigger import start_import


@cache
def _sfn() -> Any:
    return boto3.client("stepfunctions")


@event_source(data_class=S3EventBridgeNotificationEvent)
@entry_point(job_id=lambda event: None)  # the job id is the execution name it starts
def handler(event: S3EventBridgeNotificationEvent, context: LambdaContext) -> dict[str, Any]:
    detail = event.detail
    result = start_import(
        _sfn(), os.environ["STATE_MACHINE_ARN"], detail.bucket.name, detail.object.key,
        detail.object.version_id, detail.object.etag, detail.object.size,
    )  # fmt: skip
    logger.set_correlation_id(result.get("execution_name"))
    logger.info("import trigger", extra=result)
    return result
