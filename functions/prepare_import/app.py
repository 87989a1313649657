"""PrepareImport: check the uploaded file, map its columns, plan its parts; nothing is sent yet."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import logger, prepare_import


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["execution"]["name"])
    return prepare_import(event["state"], event["execution"])
