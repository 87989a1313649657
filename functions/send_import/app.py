"""SendImport: send the next part of an import (SendGrid: one part's upload; Which50: batches until the
time budget, then /run). Returns a cursor; the state machine calls again until it says done."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import logger, send_import


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["job"]["job_id"])
    return send_import(event["job"])
