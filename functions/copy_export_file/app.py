"""CopyExportFile: stream one finished export file from its provider URL into the backup bucket."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import copy_export_file
from contact_jobs.observability import entry_point, logger
from contact_jobs.state import CopiedFile, CopyItem


@entry_point(job_id=lambda event: event["job_id"])
def handler(event: CopyItem, context: LambdaContext) -> CopiedFile:
    logger.thread_safe_append_keys(file_index=event["index"])
    return copy_export_file(event)
