"""Notify: publish the job's one SNS notification (completed, errored or failed)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import notify
from contact_jobs.observability import entry_point


@entry_point(job_id=lambda event: event["execution"]["name"])
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return notify(event["state"], event["outcome"], event["execution"])
