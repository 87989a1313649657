"""SendImport: send the next part of an import (SendGrid: one part's upload; Which50: batches until the
time budget, then /run). Returns a cursor; the state machine calls again until it says done."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import send_import
from contact_jobs.observability import entry_point
from contact_jobs.state import ImportJob


@entry_point(job_id=lambda event: event["job"]["job_id"])
def handler(event: dict[str, Any], context: LambdaContext) -> ImportJob:
    return send_import(event["job"])
