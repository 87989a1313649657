"""CopyExportFile: stream one finished export file from its provider URL into the backup bucket."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import copy_export_file
from contact_jobs.observability import entry_point, logger


@entry_point(job_id=lambda event: event["job_id"])
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.thread_safe_append_keys(file_index=event["index"])
    return copy_export_file(event)
