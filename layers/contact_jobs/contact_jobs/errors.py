"""Errors raised by the layer.

The state machine's Retry and Catch match on the class name (Lambda reports it as ``errorType``), so the
names are part of the contract with ``statemachine/contact_jobs.asl.json``: rename one, change both.
"""

import json


class ContactJobsError(Exception):
    """Base class: a failure that ends the job and is reported in the notification."""


class TransientError(ContactJobsError):
    """Worth retrying later: rate limits past the client's own budget, 5xx, connection failures."""


class RateLimited(ContactJobsError):
    """The provider's rate limit resets later than this invocation should sleep: the state machine waits
    ``wait_s`` (a Wait state, not billed) and calls the same Task again. The message is JSON, because the
    state machine reads ``wait_s`` from it (States.StringToJson of the Lambda error's errorMessage)."""

    def __init__(self, wait_s: int, reason: str) -> None:
        super().__init__(json.dumps({"wait_s": wait_s, "reason": reason}))
        self.wait_s = wait_s
        self.reason = reason


class ProviderError(ContactJobsError):
    """The provider refused the request (4xx); retrying the same request cannot succeed."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ExportFailed(ContactJobsError):
    """The provider reports that the export job ended in failure."""


class ExportExpired(ContactJobsError):
    """The export's files are past ``expires_at``: only a new export can produce them again."""


class DownloadUrlExpired(ContactJobsError):
    """A download URL was refused (403/404) though the export itself has not expired."""


class UrlNotAllowed(ContactJobsError):
    """A provider URL is not https, names a host off the allow-list, or redirects."""


class CopyFailed(ContactJobsError):
    """A copy into S3 did not deliver exactly the bytes announced; the multipart upload was aborted."""


class JobTimedOut(ContactJobsError):
    """The provider job did not finish within the configured maximum duration."""


class ConfigurationError(ContactJobsError):
    """A required setting is missing or malformed."""


class InvalidRequest(ContactJobsError):
    """The execution input asks for what this project does not do (unknown operation, provider, option)."""


class InvalidImportFile(ContactJobsError):
    """The uploaded file cannot be imported as it is (the message names the problem); nothing was sent."""


class ImportFailed(ContactJobsError):
    """The provider reports the import job as failed."""


class BackupUnreadable(ContactJobsError):
    """A backup's manifest is missing, is not JSON, or has a schema this version cannot read."""


class BackupNotVerified(ContactJobsError):
    """A backup's files do not match its manifest (the message names each file and how): not restored."""
