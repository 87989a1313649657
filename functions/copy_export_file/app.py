"""CopyExportFile: stream one finished export file from its provider URL into the backup bucket."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import copy_export_file, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["job_id"], file_index=event["index"])
    return copy_export_file(event)
