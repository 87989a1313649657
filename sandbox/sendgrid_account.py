"""The fake SendGrid's account: field definitions, lists, segments and the contacts themselves.

Imports upsert contacts by email into this store and exports are rendered from it, so a round trip
(import into one account, export, import into another) can be checked field by field. Kept compact for
a million contacts: one string per contact (its values joined by a unit separator, the email being the
key), list membership as a bit mask, and CSV rendering that only quotes the rows that need it.
"""

import io
import itertools
import json
import operator
import re
import struct
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any

from sandbox.contacts import DEFAULT_CUSTOM_FIELDS, field_definitions

# ASCII unit separator, between a stored contact's values (a contact with one in a value is kept as a tuple)
SEPARATOR = "\x1f"
FIELD_TYPES = ("Text", "Number", "Date")
MAX_CUSTOM_FIELDS = 500  # the contract's limit
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # the contract's prose: letters, digits, underscores
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}$")
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?|\d{1,2}/\d{1,2}/\d{4})$")
NEEDS_QUOTES = re.compile(r'[,"\r\n]')
_json_string: Callable[[str], str] = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
# Export columns in SendGrid's order (upper-case names), before the custom fields (their names as defined).
EXPORT_FIELDS = (
    "email", "first_name", "last_name", "address_line_1", "address_line_2", "city", "state_province_region",
    "postal_code", "country", "alternate_emails", "phone_number", "whatsapp", "line", "facebook",
    "unique_name", "phone_number_id", "external_id", "anonymous_id", "email_domains", "last_clicked",
    "last_opened", "last_emailed", "created_at", "updated_at", "contact_id",
)  # fmt: skip
STORED_FIELDS = EXPORT_FIELDS[1:]  # the email is the key
GZIP_LEVEL = 6


class FieldDefinitionError(ValueError):
    """A field definition the real API refuses (400)."""


@dataclass(frozen=True)
class FieldDefinition:
    id: str
    name: str
    field_type: str
    read_only: bool = False

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "name": self.name, "field_type": self.field_type}
        return {**body, "read_only": True} if self.read_only else body


@dataclass(frozen=True)
class ContactList:
    id: str
    name: str
    bit: int  # this list's bit in each contact's membership mask


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    parent_list_id: str | None  # None: all contacts


@dataclass
class Upserted:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = dataclass_field(default_factory=list)  # (row number, reason)


def reserved_definitions() -> list[FieldDefinition]:
    """Reserved fields with the ids the contract's examples use (``_rf2_T`` is ``email``)."""
    return [
        FieldDefinition(str(d["id"]), str(d["name"]), str(d["field_type"]), bool(d.get("read_only")))
        for d in field_definitions()["reserved_fields"]
    ]


class _Plan:
    """How an import's columns apply: which one is the email, which slots the others fill, which need
    their values checked against their field's type."""

    def __init__(self, fields: Sequence[FieldDefinition | None], slots: dict[str, int], bits: int) -> None:
        email = [i for i, f in enumerate(fields) if f and f.name == "email"]
        self.email_column = email[0] if email else -1
        self.columns = len(fields)
        self.mapped = [(i, slots[f.name]) for i, f in enumerate(fields) if f and f.name != "email"]
        self.typed = [(i, f) for i, f in enumerate(fields) if f and f.field_type != "Text"]
        self.bits = bits
        self.now = _now_iso()

    def refusal(self, row: list[str]) -> str:
        """Why SendGrid would refuse this row ("blank": skipped without a word), or ""."""
        if not any(cell.strip() for cell in row):
            return "blank"
        if self.email_column < 0 or not EMAIL.match(row[self.email_column].strip().lower()):
            return "invalid email"
        for column, field in self.typed:
            if _bad_value(field, row[column].strip()):
                return f"invalid {field.field_type.lower()} for field {field.name}"
        return ""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _bad_value(field: FieldDefinition, value: str) -> bool:
    if not value:
        return False
    if field.field_type == "Number":
        try:
            float(value)
        except ValueError:
            return True
        return False
    return field.field_type == "Date" and not DATE.match(value)


def _csv_value(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if NEEDS_QUOTES.search(value) else value


class SendGridAccount:
    """One SendGrid account's marketing contacts. Thread-safe; the fake's requests and tests share it."""

    def __init__(
        self, list_ids: Iterable[str] = (), custom_fields: Iterable[tuple[str, str]] = DEFAULT_CUSTOM_FIELDS
    ) -> None:
        self._lock = threading.RLock()
        self._reserved = reserved_definitions()
        self._custom: list[FieldDefinition] = []
        self._by_id = {field.id: field for field in self._reserved}
        self._lists: dict[str, ContactList] = {}
        self._segments: dict[str, Segment] = {}
        self._rows: dict[str, str | tuple[str, ...]] = {}  # email -> mask, then STORED_FIELDS, then custom
        self._slot = {name: index + 1 for index, name in enumerate(STORED_FIELDS)}
        self._list_counts: dict[int, int] = {}  # list bit -> contacts on it
        self.written = False  # nothing seeded or imported yet
        self._updated_slot = self._slot["updated_at"]
        self._id_prefix = str(uuid.uuid4())[:24]
        self._id_counter = itertools.count(1)
        for list_id in list_ids:
            self.add_list(f"list {list_id[:8]}", list_id)
        for name, field_type in custom_fields:
            self.create_field(name, field_type)

    # Field definitions ---------------------------------------------------------------------------

    def field_definitions(self) -> dict[str, list[dict[str, Any]]]:
        """As ``GET /v3/marketing/field_definitions`` answers (without ``_metadata``)."""
        with self._lock:
            return {
                "custom_fields": [field.as_json() for field in self._custom],
                "reserved_fields": [field.as_json() for field in self._reserved],
            }

    def create_field(self, name: str, field_type: str) -> FieldDefinition:
        """A new custom field, refused as the real API refuses it (``FieldDefinitionError``)."""
        if field_type not in FIELD_TYPES:
            raise FieldDefinitionError(f"field_type must be one of {', '.join(FIELD_TYPES)}")
        if not FIELD_NAME.match(name):
            raise FieldDefinitionError(
                "custom field names may contain only letters, numbers and underscores, "
                "and must begin with a letter or an underscore"
            )
        with self._lock:
            taken = {field.name.lower() for field in self._reserved + self._custom}
            if name.lower() in taken:
                raise FieldDefinitionError(
                    f"a field named {name!r} already exists (names are case-insensitive)"
                )
            if len(self._custom) >= MAX_CUSTOM_FIELDS:
                raise FieldDefinitionError(f"an account has at most {MAX_CUSTOM_FIELDS} custom fields")
            field = FieldDefinition(f"e{len(self._custom) + 1}_{field_type[0]}", name, field_type)
            self._custom.append(field)
            self._by_id[field.id] = field
            self._slot[name] = len(STORED_FIELDS) + len(self._custom)
            return field

    def field(self, field_id: str) -> FieldDefinition | None:
        return self._by_id.get(field_id)

    def field_named(self, name: str) -> FieldDefinition:
        """A field by name, case-insensitively (``KeyError`` if the account has none)."""
        lowered = name.lower()
        for field in self._reserved + self._custom:
            if field.name.lower() == lowered:
                return field
        raise KeyError(f"no field named {name!r} in this account")

    @property
    def custom_fields(self) -> list[FieldDefinition]:
        with self._lock:
            return list(self._custom)

    # Lists and segments --------------------------------------------------------------------------

    def add_list(self, name: str, list_id: str | None = None) -> ContactList:
        with self._lock:
            created = ContactList(list_id or str(uuid.uuid4()), name, len(self._lists))
            self._lists[created.id] = created
            return created

    def lists(self) -> list[ContactList]:
        with self._lock:
            return list(self._lists.values())

    def get_list(self, list_id: str) -> ContactList | None:
        return self._lists.get(list_id)

    def add_segment(self, name: str, parent_list_id: str | None = None) -> Segment:
        """A segment of all contacts (or of one list's): enough for exports by ``segment_ids``."""
        with self._lock:
            segment = Segment(str(uuid.uuid4()), name, parent_list_id)
            self._segments[segment.id] = segment
            return segment

    def get_segment(self, segment_id: str) -> Segment | None:
        return self._segments.get(segment_id)

    def list_count(self, list_id: str) -> int:
        """Contacts on the list (counted as they join: no scan of a million contacts per request)."""
        with self._lock:
            return self._list_counts.get(self._lists[list_id].bit, 0)

    # Contacts ------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def emails(self) -> set[str]:
        with self._lock:
            return set(self._rows)

    def __contains__(self, email: object) -> bool:
        return email in self._rows

    def contact(self, email: str) -> dict[str, str] | None:
        """One contact by field name (reserved, read-only and custom), ``None`` if absent."""
        with self._lock:
            row = self._rows.get(email.strip().lower())
            return None if row is None else self._named(email.strip().lower(), row)

    def contacts(self) -> Iterator[dict[str, str]]:
        """Every contact by field name, in insertion order (a snapshot of the emails, then each contact)."""
        for email in list(self._rows):
            found = self.contact(email)
            if found is not None:
                yield found

    def emails_in_order(self) -> list[str]:
        with self._lock:
            return list(self._rows)

    def values_of(self, email: str, names: Sequence[str]) -> tuple[str, ...] | None:
        """The named fields of one contact ("" for a field the account lacks), ``None`` if absent."""
        return self.values_reader(names)(email)

    def values_reader(self, names: Sequence[str]) -> Callable[[str], tuple[str, ...] | None]:
        """``values_of`` for many contacts: the fields' places are looked up once (comparing a million
        contacts field by field takes seconds, not minutes)."""
        width = len(STORED_FIELDS) + 1 + len(self._custom)
        # Index 0 of a contact's values holds its email here; index ``width`` an empty value.
        slots = [0 if name == "email" else self._slot.get(name, width) for name in names]
        pick: Callable[[list[str]], tuple[str, ...]] = (
            operator.itemgetter(*slots) if len(slots) > 1 else lambda values: tuple(values[i] for i in slots)
        )
        padding = [""] * (width + 1)

        def read(email: str) -> tuple[str, ...] | None:
            row = self._rows.get(email)
            if row is None:
                return None
            values = row.split(SEPARATOR) if isinstance(row, str) else list(row)
            values[0] = email
            values += padding[len(values) :]
            return pick(values)

        return read

    def list_ids_of(self, email: str) -> list[str]:
        row = self._rows.get(email.lower())
        mask = 0 if row is None else self._mask(row)
        return [item.id for item in self._lists.values() if mask >> item.bit & 1]

    def upsert(self, contacts: Iterable[Mapping[str, str]], list_ids: Iterable[str] = ()) -> Upserted:
        """Contacts by field name (``email`` required), applied as an import of those columns would be."""
        result = Upserted()
        for contact in contacts:
            fields: list[FieldDefinition | None] = [self.field_named(name) for name in contact]
            outcome = self.apply_rows(fields, [list(contact.values())], list(list_ids), first_row=1)
            result.created += outcome.created
            result.updated += outcome.updated
            result.errors += outcome.errors
        return result

    def apply_rows(
        self,
        fields: Sequence[FieldDefinition | None],
        rows: Iterable[list[str]],
        list_ids: list[str],
        first_row: int = 2,
    ) -> Upserted:
        """Upsert CSV rows whose columns are ``fields`` (None: skipped), as SendGrid applies an import:
        keyed by email, the mapped fields set (an empty cell empties the field), the others kept, the
        contact added to ``list_ids``. Rows it refuses come back in ``errors`` with their row number."""
        plan = _Plan(fields, self._slot, sum(1 << self._lists[i].bit for i in list_ids))
        result = Upserted()
        with self._lock:
            self.written = True
            width = len(STORED_FIELDS) + 1 + len(self._custom)
            for number, row in enumerate(rows, start=first_row):
                if len(row) < plan.columns:
                    row = row + [""] * (plan.columns - len(row))
                reason = plan.refusal(row)
                if reason:
                    if reason != "blank":
                        result.errors.append((number, reason))
                    continue
                email = row[plan.email_column].strip().lower()
                existing = self._rows.get(email)
                if existing is None:
                    values = self._new_values(email, width, plan.now)
                    result.created += 1
                else:
                    values = self._values(existing, width)
                    result.updated += 1
                old_mask = int(values[0] or "0", 16)
                if plan.bits & ~old_mask:
                    self._count_joined(plan.bits & ~old_mask)
                mask = old_mask | plan.bits
                values[0] = format(mask, "x") if mask else ""
                values[self._updated_slot] = plan.now
                for column, slot in plan.mapped:
                    values[slot] = row[column]
                self._rows[email] = self._pack(values)
        return result

    def _new_values(self, email: str, width: int, now: str) -> list[str]:
        values = [""] * width
        values[self._slot["email_domains"]] = email.rpartition("@")[2]
        values[self._slot["created_at"]] = now
        # Unique in the account, different between accounts, cheaper than uuid4 for a million.
        values[self._slot["contact_id"]] = f"{self._id_prefix}{next(self._id_counter):012x}"
        return values

    def _count_joined(self, bits: int) -> None:
        for item in self._lists.values():
            if bits >> item.bit & 1:
                self._list_counts[item.bit] = self._list_counts.get(item.bit, 0) + 1

    def delete_all(self) -> None:
        with self._lock:
            self._rows.clear()
            self._list_counts.clear()

    # Exports -------------------------------------------------------------------------------------

    def export_header(self) -> list[str]:
        with self._lock:
            return [name.upper() for name in EXPORT_FIELDS] + [field.name for field in self._custom]

    def selection(
        self, list_ids: Iterable[str] = (), segment_ids: Iterable[str] = ()
    ) -> Callable[[int], bool]:
        """Which membership masks an export of these lists and segments holds (no ids: every contact)."""
        list_ids, segment_ids = list(list_ids), list(segment_ids)
        segments = [self._segments[s] for s in segment_ids]
        if (not list_ids and not segment_ids) or any(s.parent_list_id is None for s in segments):
            return lambda mask: True
        wanted = {*list_ids, *(s.parent_list_id for s in segments if s.parent_list_id)}
        bits = sum(1 << self._lists[list_id].bit for list_id in wanted)
        return lambda mask: bool(mask & bits)

    def render_export(
        self,
        file_type: str,
        max_bytes: int,
        selected: Callable[[int], bool],
        gzip_files: bool,
        mtime: int = 0,
    ) -> tuple[list[bytes], int]:
        """The export's files, each at most ``max_bytes`` of uncompressed data (a CSV header in each),
        and the number of contacts in them. A snapshot: the store is locked while it renders."""
        header = self.export_header()
        files = _FileSplitter(max_bytes, gzip_files, (_csv_line(header) if file_type == "csv" else ""))
        count = 0
        with self._lock:
            width = len(header) - 1
            render = self._csv_row if file_type == "csv" else self._json_row
            keys = [_json_string(name) + ": " for name in header]
            for email, row in self._rows.items():
                if not selected(self._mask(row)):
                    continue
                files.add(render(email, row, width, keys))
                count += 1
        finished = files.finish()
        if gzip_files and mtime:  # the gzip header's MTIME (bytes 4-7): exports then differ in bytes
            finished = [data[:4] + struct.pack("<I", mtime) + data[8:] for data in finished]
        return finished, count

    # Internals -----------------------------------------------------------------------------------

    @staticmethod
    def _mask(row: str | tuple[str, ...]) -> int:
        first = row.partition(SEPARATOR)[0] if isinstance(row, str) else row[0]
        return int(first, 16) if first else 0

    @staticmethod
    def _values(row: str | tuple[str, ...], width: int) -> list[str]:
        values = row.split(SEPARATOR) if isinstance(row, str) else list(row)
        return values + [""] * (width - len(values))

    @staticmethod
    def _pack(values: list[str]) -> str | tuple[str, ...]:
        joined = SEPARATOR.join(values)
        # A value holding the separator would split wrongly: such a contact is kept as a tuple.
        return tuple(values) if joined.count(SEPARATOR) != len(values) - 1 else joined

    def _named(self, email: str, row: str | tuple[str, ...]) -> dict[str, str]:
        values = self._values(row, len(STORED_FIELDS) + 1 + len(self._custom))
        named = {"email": email}
        named.update(zip(STORED_FIELDS, values[1:], strict=False))
        named.update(zip((f.name for f in self._custom), values[1 + len(STORED_FIELDS) :], strict=False))
        return named

    @staticmethod
    def _csv_row(email: str, row: str | tuple[str, ...], width: int, keys: list[str]) -> str:
        if isinstance(row, str):
            rest = row.partition(SEPARATOR)[2]
            padding = "," * (width - rest.count(SEPARATOR) - 1)
            if not NEEDS_QUOTES.search(rest):  # most rows: no value needs quoting
                return f"{email},{rest.replace(SEPARATOR, ',')}{padding}\n"
            values = rest.split(SEPARATOR)
        else:
            values = list(row[1:])
            padding = "," * (width - len(values))
        return email + "," + ",".join(_csv_value(value) for value in values) + padding + "\n"

    @staticmethod
    def _json_row(email: str, row: str | tuple[str, ...], width: int, keys: list[str]) -> str:
        """One NDJSON line as ``json.dumps`` of the header-keyed dict writes it, built without the dict."""
        values = row.split(SEPARATOR) if isinstance(row, str) else list(row)
        values[0] = email
        values += [""] * (width + 1 - len(values))
        return "{" + ", ".join(map(operator.add, keys, map(_json_string, values))) + "}\n"


def _csv_line(values: list[str]) -> str:
    return ",".join(_csv_value(value) for value in values) + "\n"


class _FileSplitter:
    """Lines into files of at most ``max_bytes`` uncompressed (a file holds at least one line), each
    compressed as it grows so that a big export is never held whole in memory uncompressed."""

    CHUNK = 1 << 20

    def __init__(self, max_bytes: int, gzip_files: bool, header: str) -> None:
        self.max_bytes, self.gzip_files, self.header = max_bytes, gzip_files, header.encode()
        self.files: list[bytes] = []
        self._start()

    def _start(self) -> None:
        self._out = io.BytesIO()
        self._compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if self.gzip_files else None
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._size = 0
        self._lines = 0
        if self.header:
            self._write(self.header)

    def _write(self, data: bytes) -> None:
        self._size += len(data)
        self._out.write(self._compressor.compress(data) if self._compressor else data)

    def _flush(self) -> None:
        if self._pending:
            data = "".join(self._pending).encode()
            self._pending = []
            self._pending_bytes = 0
            self._size -= len(data)  # counted already in add
            self._write(data)

    def add(self, line: str) -> None:
        size = len(line) if line.isascii() else len(line.encode())
        if self._size + size > self.max_bytes and self._lines:
            self._close()
            self._start()
        self._pending.append(line)
        self._size += size
        self._lines += 1
        self._pending_bytes += size
        if self._pending_bytes >= self.CHUNK:
            self._flush()

    def _close(self) -> None:
        self._flush()
        if self._compressor:
            self._out.write(self._compressor.flush())
        self.files.append(self._out.getvalue())

    def finish(self) -> list[bytes]:
        self._close()
        return self.files
