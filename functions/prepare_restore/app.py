"""PrepareRestore: plan a verified backup's import back into the provider (fields created first if asked,
JSON staged as CSV, columns mapped, parts planned); on a dry run, the plan is all."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import prepare_restore
from contact_jobs.observability import entry_point
from contact_jobs.state import ImportJob


@entry_point(job_id=lambda event: event["execution"]["name"])
def handler(event: dict[str, Any], context: LambdaContext) -> ImportJob:
    return prepare_restore(event["state"], event["execution"], context.get_remaining_time_in_millis())
