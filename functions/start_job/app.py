"""StartJob: start (or join) the provider job described by the execution input."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import logger, start_job


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["execution"]["name"])
    return start_job(event["state"], event["execution"])
