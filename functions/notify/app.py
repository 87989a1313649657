"""Notify: publish the job's one SNS notification (completed, errored or failed)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import logger, notify


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["execution"]["name"])
    return notify(event["state"], event["outcome"], event["execution"])
