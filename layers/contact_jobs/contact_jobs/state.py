"""What the state machine's Tasks exchange (read by the ASL: tests/integration/test_state_paths.py).
TypedDicts: the state *is* JSON, so they type it where it is built and read (mypy checks every key) with no
conversion at each Task boundary, which dataclasses would need; Pydantic is not in the locked layer."""

from typing import Any, Literal, NotRequired, TypedDict


class Execution(TypedDict):  # $$.Execution
    name: str
    arn: str
    start_time: str


class Poll(TypedDict):
    attempt: int
    delay_s: int  # WaitForJob waits this long


class Part(TypedDict):  # csvscan.Part: a byte range of whole records
    index: int
    start: int
    end: int
    rows: int
    file: NotRequired[int]  # a restore: which of the job's files the range is in


class PartFile(TypedDict):  # a restore: one backup file (or its CSV staging), read by its parts
    source: "Source"
    header: str
    field_mappings: list[str | None]


class Upload(TypedDict):
    index: int
    rows: int
    provider_job_id: str
    upload_unconfirmed: NotRequired[bool]


class CopyItem(TypedDict):  # one iteration of CopyExportFiles (its ItemSelector)
    provider: str
    job_id: str
    provider_job_id: str  # the export
    prefix: str
    file_type: str
    index: int


class CopiedFile(TypedDict):
    index: int
    key: str
    bytes: int
    sha256: str
    gzip: bool
    etag: str
    outcome: str  # "copied"; FileNotCopied gives a failed copy its error's name instead


class Manifest(TypedDict):
    bucket: str
    manifest_key: str
    file_keys: list[str]
    total_bytes: int
    contact_count: int | None


class Source(TypedDict):  # the uploaded object, as the trigger names it
    bucket: str
    key: str
    version_id: str | None
    etag: NotRequired[str | None]
    size: NotRequired[int | None]
    gzipped: NotRequired[bool]


class SendProgress(TypedDict):
    calls: int
    done: bool  # SendImport is called again until it is
    retry_in_s: int  # > 0: WaitBeforeSending first
    offset: NotRequired[int]  # the rest: a provider's own cursor (Which50's), resumed by the next call
    rows_sent: NotRequired[int]
    failures: NotRequired[int]
    import_job_id: NotRequired[int]
    run_called: NotRequired[bool]
    last_error: NotRequired[str]


class PartResult(TypedDict):
    index: int
    provider_job_id: str
    status: str  # completed | errored | failed
    counts: dict[str, int]  # requested, created, updated, errored
    details: NotRequired[dict[str, int]]  # provider-specific counts, reported as they are
    has_errors_file: NotRequired[bool]
    reason: NotRequired[str]  # why a failed part failed, when the provider's status alone does not say


class ImportJob(TypedDict):
    operation: Literal["import", "restore"]
    provider: str
    job_id: str  # the execution name
    started_at: str
    source: Source
    target: str
    errors_prefix: str
    field_mappings: list[str | None]
    warnings: list[str]
    header: str
    rows: int
    limits: dict[str, int]  # the csvscan.Limits the file was checked with
    parts: list[Part]
    send: SendProgress
    uploads: list[Upload]
    status: str  # sending | running | finished
    poll: Poll
    results: NotRequired[list[PartResult]]
    counts: NotRequired[dict[str, int]]
    details: NotRequired[dict[str, int]]
    outcome: NotRequired[str]  # completed | errored | failed
    failure: NotRequired[str | None]
    files: NotRequired[list[PartFile]]  # a restore: the parts' files (an import's one file is its source)
    errors_folder: NotRequired[str]  # a restore's error reports: restores/<execution>/errors/
    manifest_key: NotRequired[str]
    dry_run: NotRequired[bool]


class BackupDescription(TypedDict):  # what a restore needs besides the files (manifest schema 2)
    fields: list[dict[str, Any]]  # {"name", "field_type", "reserved"}
    lists: list[dict[str, Any]]  # {"id", "name"}
    segments: list[dict[str, Any]]


class BackupJob(TypedDict):
    operation: Literal["backup"]
    provider: str
    job_id: str
    provider_job_id: str  # the export
    started_at: str
    prefix: str
    file_type: str
    restarts: int
    status: str  # running | ready
    poll: Poll
    files: NotRequired[list[dict[str, int]]]  # {"index": n} per export file, for CopyExportFiles
    contact_count: NotRequired[int | None]
    expires_at: NotRequired[str | None]
    fields: NotRequired[list[dict[str, Any]]]
    lists: NotRequired[list[dict[str, Any]]]
    segments: NotRequired[list[dict[str, Any]]]


class VerifyProgress(TypedDict):  # $.verify: a backup read back, file by file (contact_jobs.verify)
    manifest_key: str
    prefix: str
    files: int
    bytes: int
    counted_rows: list[int | None]  # per file checked so far, in manifest order
    problems: list[dict[str, str]]  # {"file", "problem"}, the first MAX_PROBLEMS
    problem_count: int
    done: bool  # VerifyBackup is called again until it is
    verified: bool
    rows: NotRequired[int | None]
    calls: NotRequired[int]  # VerifyBackup calls so far: IsVerifyDone's bound


class WorkflowState(TypedDict, total=False):  # "$", as the Tasks that take the whole state see it
    operation: str
    provider: str
    source: Source
    list_ids: list[str]
    segment_ids: list[str]
    file_type: str
    max_file_size_mb: int
    job: Any  # ImportJob | BackupJob, or part of one: a failure may come before it is whole
    files: list[CopiedFile]
    manifest: Manifest
    errors_keys: list[str]
    error: dict[str, str]  # a Catch's {"Error", "Cause"}
    errors_report_error: dict[str, str]
    manifest_key: str  # verify and restore: the backup's manifest (or its prefix)
    verify: VerifyProgress
    verify_after_backup: bool
    list_id: str
    create_missing_fields: bool
    dry_run: bool
