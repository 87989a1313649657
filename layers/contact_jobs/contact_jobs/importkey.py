"""The import key convention: ``imports/<provider>/<target>/<file>.csv[.gz]``.

Keys here are S3 keys as stored (already decoded from an event: see ``decode_event_key``). File suffixes are
compared case-insensitively everywhere: ``contacts.CSV.GZ`` is a gzip CSV like ``contacts.csv.gz``.
"""

from dataclasses import dataclass
from urllib.parse import unquote_plus

from contact_jobs.errors import InvalidImportFile
from contact_jobs.providers import registry

PREFIX = "imports"
EXTENSIONS = (".csv", ".csv.gz")
GZIP_SUFFIX = ".gz"
NO_TARGET = "_"  # SendGrid: import without adding to a list
ERRORS_FOLDER = "errors"  # imports/<provider>/<target>/errors/...: reports this project writes
LAYOUT = f"{PREFIX}/<provider>/<target>/<file>.csv[.gz]"


@dataclass(frozen=True)
class ImportKey:
    key: str
    provider: str
    target: str  # SendGrid: a list id, or "" for none; Which50: the contact list id
    filename: str

    @property
    def gzipped(self) -> bool:
        return self.filename.lower().endswith(GZIP_SUFFIX)

    @property
    def stem(self) -> str:
        """The file name without ``.csv`` / ``.csv.gz`` (in whatever case it was written)."""
        lowered = self.filename.lower()
        for extension in sorted(EXTENSIONS, key=len, reverse=True):
            if lowered.endswith(extension):
                return self.filename[: -len(extension)]
        return self.filename

    @property
    def errors_prefix(self) -> str:
        return f"{PREFIX}/{self.provider}/{self.target or NO_TARGET}/{ERRORS_FOLDER}/"


def decode_event_key(raw: str) -> str:
    """An S3 event's key as stored. S3 form-encodes keys in events (a space as ``+``, a ``+`` as ``%2B``,
    ``%`` as ``%25``): decode exactly once, or ``a+b.csv`` becomes ``a b.csv``."""
    return unquote_plus(raw)


def is_under_imports(key: str) -> bool:
    return key.startswith(f"{PREFIX}/")


def is_folder(key: str) -> bool:
    """A zero-byte ``.../`` object, as the S3 console's "Create folder" makes: not a file to import."""
    return key.endswith("/")


def is_errors_report(key: str) -> bool:
    """``imports/<provider>/<target>/errors/...``: where this project copies providers' error reports.
    Those objects start nothing and notify nobody."""
    parts = key.split("/")
    return len(parts) > 4 and parts[0] == PREFIX and parts[3] == ERRORS_FOLDER


def expected_key(key: str) -> str:
    """Where a file like this one should have been uploaded (for messages to the person who uploaded it)."""
    parts = key.split("/")
    filename = parts[-1] or "<file>.csv"
    provider = registry.known().get(parts[1]) if len(parts) > 2 else None
    if provider is None:
        return f"{PREFIX}/<{'|'.join(registry.known())}>/<target>/{filename}"
    return f"{PREFIX}/{provider.name}/{provider.target}/{filename}"


def parse(key: str) -> ImportKey:
    """The key's provider, target and file; ``InvalidImportFile`` naming the key and its expected layout."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != PREFIX or not all(parts[1:]):
        depth = "too deep" if len(parts) > 4 else "misplaced"
        raise InvalidImportFile(
            f"key {key!r} does not follow {LAYOUT} ({depth}): upload it as {expected_key(key)}"
        )
    _, provider, target, filename = parts
    known = registry.known()
    if provider not in known:
        hint = f"; did you mean {provider.lower()!r}?" if provider.lower() in known else ""
        raise InvalidImportFile(f"unknown provider {provider!r} in {key!r} (known: {', '.join(known)}){hint}")
    if not filename.lower().endswith(EXTENSIONS):
        raise InvalidImportFile(
            f"unsupported file type {filename!r} in {key!r}: imports take .csv or .csv.gz"
        )
    return ImportKey(key, provider, "" if target == NO_TARGET else target, filename)
