"""WriteManifest: verify the copied files and write manifest.json, the mark of a complete backup."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import logger, write_manifest


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["state"]["job"]["job_id"])
    return write_manifest(event["state"])
