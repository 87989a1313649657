"""CopyImportErrors: copy the provider's error reports into S3 before their URLs expire."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import copy_import_errors, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> list[str]:
    logger.append_keys(job_id=event["job"]["job_id"])
    return copy_import_errors(event["job"])
