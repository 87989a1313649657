"""UploadImportPart: create the provider's import job for one part and stream the part to it."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import logger, upload_import_part


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["job"]["job_id"], part=event["part"]["index"])
    return upload_import_part(event["job"], event["part"])
