"""DiscardPartialBackup: remove the files of a backup that will not get its manifest."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import discard_partial_backup
from contact_jobs.observability import entry_point


@entry_point(job_id=lambda event: (event["state"].get("job") or {}).get("job_id"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return discard_partial_backup(event["state"])
