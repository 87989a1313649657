"""VerifyBackup: read a backup's files back from S3 and check them against its manifest, resuming from
where the last call stopped; the state machine calls again until it says done."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import verify_backup
from contact_jobs.observability import entry_point
from contact_jobs.state import VerifyProgress


@entry_point(job_id=lambda event: event["execution"]["name"])
def handler(event: dict[str, Any], context: LambdaContext) -> VerifyProgress:
    return verify_backup(event["state"], context.get_remaining_time_in_millis())
