"""StartExport: start (or join) the provider's export described by the execution input."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import start_export
from contact_jobs.observability import entry_point
from contact_jobs.state import BackupJob


@entry_point(job_id=lambda event: event["execution"]["name"])
def handler(event: dict[str, Any], context: LambdaContext) -> BackupJob:
    return start_export(event["state"], event["execution"])
