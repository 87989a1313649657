"""SendGrid's side of an import: field ids by name, a list check, one import job per part.

Each part's import job id is recorded (progress table) as soon as ``PUT /imports`` answers, and the part
is marked sent once its upload is answered, so a retried step polls that job instead of creating another.
A retry that finds a job recorded but its upload unconfirmed (the upload's answer was lost, or the Lambda
died while uploading) cannot learn from SendGrid whether the bytes arrived: its import status says
``pending`` ("not started") both for a job without a file and for one whose file waits to be processed.
That part is not sent again (rows are applied at most once, never twice); the notification says so."""

from typing import Any

from contact_jobs import csvscan
from contact_jobs.errors import InvalidImportFile
from contact_jobs.imports import COUNTS, FieldMapping, part_source
from contact_jobs.progress import SENT, Progress, ProgressStore
from contact_jobs.progress import required as progress_required
from contact_jobs.providers.sendgrid.client import IDENTIFIER_FIELDS, SendGridClient
from contact_jobs.state import ImportJob, Part, PartResult, SendProgress, Upload
from contact_jobs.streams import ExactBody, open_sized, part_chunks, read_chunks
from contact_jobs.transfer import CopySettings, upload_to_url
from contact_jobs.urlguard import UrlGuard

KNOWN_STATUSES = ("pending", "completed", "errored", "failed")


class SendGridImports:
    name = "sendgrid"

    def __init__(
        self,
        client: SendGridClient,
        guard: UrlGuard,
        settings: CopySettings,
        progress: ProgressStore | None = None,
    ) -> None:
        self._client = client
        self._guard = guard
        self._settings = settings
        self._progress = progress

    def limits(self, configured: csvscan.Limits) -> csvscan.Limits:
        return configured  # 1,000,000 contacts or 5 GB per import, unless lowered by configuration

    def map_fields(self, header: list[str]) -> FieldMapping:
        return map_sendgrid_fields(header, self._client.field_definitions())

    def check_target(self, target: str) -> None:
        if target:
            self._client.check_list(target)

    def send(self, job: ImportJob, s3: Any, deadline: float) -> tuple[SendProgress, list[Upload]]:
        """One part per call: create its import job (or resume the one recorded), stream the part to
        the upload URI, record it sent."""
        part = job["parts"][len(job["uploads"])]
        recorded = self._store().get(job["job_id"], part["index"]) or self._create_and_upload(job, part, s3)
        upload: Upload = {
            "index": part["index"],
            "rows": part["rows"],
            "provider_job_id": recorded.provider_job_id,
        }
        if not recorded.sent and self._resolve_unconfirmed(job["job_id"], part["index"], recorded):
            upload["upload_unconfirmed"] = True
        uploads = [*job["uploads"], upload]
        return {**job["send"], "done": len(uploads) == len(job["parts"]), "retry_in_s": 0}, uploads

    def _create_and_upload(self, job: ImportJob, part: Part, s3: Any) -> Progress:
        """The job id is recorded before uploading, "sent" after: a retry never creates a second job."""
        progress = self._store()
        lists = [job["target"]] if job["target"] else []
        created = self._client.create_import(lists, part_source(job, part).field_mappings)
        recorded = progress.start(job["job_id"], part["index"], self.name, created.job_id)
        if recorded.provider_job_id != created.job_id:
            return recorded  # another attempt's job holds (ours stays empty, so nothing is applied)
        body = self._body(job, part, s3)
        upload_to_url(created.upload_uri, created.upload_headers, body, self._guard, self._settings)
        progress.finish(job["job_id"], part["index"], created.job_id)
        return Progress(created.job_id, SENT)

    def _resolve_unconfirmed(self, job_id: str, index: int, recorded: Progress) -> bool:
        """A job created by an earlier attempt whose upload was not confirmed. A finished job got its
        file; a pending one may or may not have: either way it is not uploaded again (the upload URI is
        not kept, and a second upload could apply the rows twice). True when it stays unconfirmed."""
        finished = self._client.import_status(recorded.provider_job_id).finished
        self._store().finish(job_id, index, recorded.provider_job_id)
        return not finished

    def _store(self) -> ProgressStore:
        return progress_required(self._progress, self.name)

    @staticmethod
    def _body(job: ImportJob, part: Part, s3: Any) -> ExactBody:
        origin = part_source(job, part)
        source = origin.source
        if origin.whole:  # the object as it is, gzip too
            stream, length = open_sized(s3, source["bucket"], source["key"], source.get("version_id"))
            return ExactBody(read_chunks(stream), length)
        header = origin.header.encode()
        return ExactBody(
            part_chunks(s3, source, header, part["start"], part["end"]),
            len(header) + part["end"] - part["start"],
        )

    def results(self, job: ImportJob) -> tuple[list[PartResult] | None, list[str]]:
        statuses = [self._client.import_status(upload["provider_job_id"]) for upload in job["uploads"]]
        unknown = sorted({s.status for s in statuses} - set(KNOWN_STATUSES))
        warnings = [f"SendGrid reported an unknown import status {value!r}" for value in unknown]
        warnings += [
            f"part {upload['index'] + 1}: the answer to its upload was lost; it was not sent again, so its "
            f"rows are applied at most once (import job {upload['provider_job_id']})"
            for upload in job["uploads"]
            if upload.get("upload_unconfirmed")
        ]
        if not all(s.finished for s in statuses):
            return None, warnings
        results = [
            PartResult(index=upload["index"], provider_job_id=s.job_id, status=s.status,
                       counts={name: getattr(s, name) for name in COUNTS}, has_errors_file=bool(s.errors_url))
            for upload, s in zip(job["uploads"], statuses, strict=True)
        ]  # fmt: skip
        return results, warnings

    def errors_url(self, provider_job_id: str) -> str | None:
        return self._client.import_status(provider_job_id).errors_url


def map_sendgrid_fields(header: list[str], definitions: dict[str, Any]) -> FieldMapping:
    """Match columns to reserved and custom fields; read-only and unknown columns are skipped and
    reported. A file without an identifier column is refused before anything is sent. ``definitions``
    come from ``SendGridClient.field_definitions``, which checks that every writable field has an id."""
    fields: dict[str, dict[str, Any]] = {}
    for definition in definitions.get("reserved_fields") or []:
        fields[str(definition["name"]).lower()] = definition
    for definition in definitions.get("custom_fields") or []:
        fields.setdefault(str(definition["name"]).lower(), definition)
    field_ids: list[str | None] = []
    warnings: list[str] = []
    for column in header:
        name = column.strip()
        definition = fields.get(name.lower())
        if definition is None:
            field_ids.append(None)
            warnings.append(f"column {name!r} matches no field: skipped")
        elif definition.get("read_only"):
            field_ids.append(None)
            warnings.append(f"column {name!r} is read-only in SendGrid: skipped")
        else:
            field_ids.append(str(definition["id"]))
    mapped = {column.strip().lower() for column, field_id in zip(header, field_ids, strict=True) if field_id}
    if not mapped.intersection(IDENTIFIER_FIELDS):
        raise InvalidImportFile(
            f"no identifier column: the header needs one of {', '.join(IDENTIFIER_FIELDS)}"
        )
    return FieldMapping(field_ids, warnings)
