"""PrepareImport: check the uploaded file, map its columns, plan its parts; nothing is sent yet."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import prepare_import
from contact_jobs.observability import entry_point
from contact_jobs.state import ImportJob


@entry_point(job_id=lambda event: event["execution"]["name"])
def handler(event: dict[str, Any], context: LambdaContext) -> ImportJob:
    return prepare_import(event["state"], event["execution"], context.get_remaining_time_in_millis())
