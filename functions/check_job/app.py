"""CheckJob: poll the provider job once and say how long to wait before the next poll."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import check_job
from contact_jobs.observability import entry_point
from contact_jobs.state import BackupJob, ImportJob


@entry_point(job_id=lambda event: event["job"]["job_id"])
def handler(event: dict[str, Any], context: LambdaContext) -> ImportJob | BackupJob:
    return check_job(event["job"])
