"""SendGrid's side of an import: field ids by name, a list check, one import job per part."""

from typing import Any

from contact_jobs import csvscan
from contact_jobs.fieldmap import FieldMapping, map_sendgrid_fields
from contact_jobs.imports import COUNTS, PartResult
from contact_jobs.providers.sendgrid import SendGridClient
from contact_jobs.streams import ExactBody, open_sized, part_chunks, read_chunks
from contact_jobs.transfer import CopySettings, upload_to_url
from contact_jobs.urlguard import UrlGuard

KNOWN_STATUSES = ("pending", "completed", "errored", "failed")


class SendGridImports:
    name = "sendgrid"

    def __init__(self, client: SendGridClient, guard: UrlGuard, settings: CopySettings) -> None:
        self._client = client
        self._guard = guard
        self._settings = settings

    def limits(self, configured: csvscan.Limits) -> csvscan.Limits:
        return configured  # 1,000,000 contacts or 5 GB per import, unless lowered by configuration

    def map_fields(self, header: list[str]) -> FieldMapping:
        return map_sendgrid_fields(header, self._client.field_definitions())

    def check_target(self, target: str) -> None:
        if target:
            self._client.check_list(target)

    def send(
        self, job: dict[str, Any], s3: Any, deadline: float
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One part per call: create its import job, stream the part to the upload URI."""
        part = job["parts"][len(job["uploads"])]
        created = self._client.create_import([job["target"]] if job["target"] else [], job["field_mappings"])
        upload_to_url(
            created.upload_uri, created.upload_headers, self._body(job, part, s3), self._guard, self._settings
        )
        uploads = [
            *job["uploads"],
            {"index": part["index"], "provider_job_id": created.job_id, "rows": part["rows"]},
        ]
        return {**job["send"], "done": len(uploads) == len(job["parts"]), "retry_in_s": 0}, uploads

    @staticmethod
    def _body(job: dict[str, Any], part: dict[str, Any], s3: Any) -> ExactBody:
        source = job["source"]
        if len(job["parts"]) == 1:  # the object as it is, gzip too
            stream, length = open_sized(s3, source["bucket"], source["key"], source.get("version_id"))
            return ExactBody(read_chunks(stream), length)
        header = job["header"].encode()
        return ExactBody(
            part_chunks(s3, source, header, part["start"], part["end"]),
            len(header) + part["end"] - part["start"],
        )

    def results(self, job: dict[str, Any]) -> tuple[list[PartResult] | None, list[str]]:
        statuses = [self._client.import_status(upload["provider_job_id"]) for upload in job["uploads"]]
        unknown = sorted({s.status for s in statuses} - set(KNOWN_STATUSES))
        warnings = [f"SendGrid reported an unknown import status {value!r}" for value in unknown]
        if not all(s.finished for s in statuses):
            return None, warnings
        results = [
            PartResult(upload["index"], s.job_id, s.status, {name: getattr(s, name) for name in COUNTS},
                       has_errors_file=bool(s.errors_url))
            for upload, s in zip(job["uploads"], statuses, strict=True)
        ]  # fmt: skip
        return results, warnings

    def errors_url(self, provider_job_id: str) -> str | None:
        return self._client.import_status(provider_job_id).errors_url
