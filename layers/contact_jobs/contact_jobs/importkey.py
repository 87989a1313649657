"""The import key convention: ``imports/<provider>/<target>/<file>.csv[.gz]``."""

from dataclasses import dataclass
from urllib.parse import unquote_plus

from contact_jobs.errors import InvalidImportFile

PREFIX = "imports"
PROVIDERS = ("sendgrid", "which50")
EXTENSIONS = (".csv", ".csv.gz")
NO_TARGET = "_"  # SendGrid: import without adding to a list


@dataclass(frozen=True)
class ImportKey:
    key: str
    provider: str
    target: str  # SendGrid: a list id, or "" for none; Which50: the contact list id
    filename: str

    @property
    def gzipped(self) -> bool:
        return self.filename.endswith(".gz")

    @property
    def errors_prefix(self) -> str:
        return f"{PREFIX}/{self.provider}/{self.target or NO_TARGET}/errors/"


def decode_event_key(raw: str) -> str:
    """S3 event keys are URL-encoded (spaces as ``+``)."""
    return unquote_plus(raw)


def is_import_upload(key: str) -> bool:
    """Only ``imports/<provider>/<target>/<file>`` starts a job: the errors files this project writes
    under ``.../errors/`` must not trigger imports of their own."""
    parts = key.split("/")
    return len(parts) == 4 and parts[0] == PREFIX and bool(parts[3])


def parse(key: str) -> ImportKey:
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != PREFIX or not all(parts[1:]):
        raise InvalidImportFile(f"key {key!r} does not follow imports/<provider>/<target>/<file>.csv[.gz]")
    _, provider, target, filename = parts
    if provider not in PROVIDERS:
        raise InvalidImportFile(f"unknown provider {provider!r} in {key!r} (known: {', '.join(PROVIDERS)})")
    if not filename.lower().endswith(EXTENSIONS):
        raise InvalidImportFile(f"unsupported file type {filename!r}: imports take .csv or .csv.gz")
    return ImportKey(key, provider, "" if target == NO_TARGET else target, filename)
