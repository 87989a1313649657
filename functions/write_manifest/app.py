"""WriteManifest: verify the copied files and write manifest.json, the mark of a complete backup."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from contact_jobs.jobs import write_manifest
from contact_jobs.observability import entry_point
from contact_jobs.state import Manifest


@entry_point(job_id=lambda event: event["state"]["job"]["job_id"])
def handler(event: dict[str, Any], context: LambdaContext) -> Manifest:
    return write_manifest(event["state"])
