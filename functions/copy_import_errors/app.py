"""CopyImportErrors: copy the provider's error reports into S3 before their URLs expire."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import copy_import_errors
from contact_jobs.observability import entry_point


@entry_point(job_id=lambda event: event["job"]["job_id"])
def handler(event: dict[str, Any], context: LambdaContext) -> list[str]:
    return copy_import_errors(event["job"])
