"""Deterministic contacts: in SendGrid's export format (upper-case header, one row per contact), as import
files, and as seeds for the fake SendGrid's account (plus a field-by-field comparison of two accounts)."""

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

EXPORT_HEADER = (
    "EMAIL", "FIRST_NAME", "LAST_NAME", "CITY", "COUNTRY", "POSTAL_CODE",
    "CREATED_AT", "UPDATED_AT", "CONTACT_ID",
)  # fmt: skip
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman")
CITIES = (("Lisbon", "PT", "1100-148"), ("Dublin", "IE", "D02 X285"), ("Toronto", "CA", "M5V 2T6"))
NAMESPACE = uuid.UUID("6f1c2b1e-9a51-4cf6-8a57-3c1f0c2b9d10")
EMAIL_DOMAIN = "example.com"  # the leak test gives a canary domain instead


def contact_email(index: int, domain: str = EMAIL_DOMAIN) -> str:
    return f"contact{index:07d}@{domain}"


def invalid_email(index: int, domain: str = EMAIL_DOMAIN) -> str:
    """A malformed email (no @) that still carries the domain, so a leak of a rejected row is seen too."""
    return f"not-an-email-{index}.{domain}"


def contact_rows(count: int, domain: str = EMAIL_DOMAIN) -> Iterator[tuple[str, ...]]:
    for index in range(count):
        city, country, postal = CITIES[index % len(CITIES)]
        yield (
            contact_email(index, domain),
            FIRST_NAMES[index % len(FIRST_NAMES)],
            LAST_NAMES[index % len(LAST_NAMES)],
            city,
            country,
            postal,
            "2024-01-02T03:04:05Z",
            "2025-06-07T08:09:10Z",
            str(uuid.uuid5(NAMESPACE, str(index))),
        )


def _csv_line(row: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue().encode()


def _json_line(row: tuple[str, ...]) -> bytes:
    return json.dumps(dict(zip(EXPORT_HEADER, row, strict=True))).encode() + b"\n"


def export_files(
    count: int, max_bytes: int, file_type: str = "csv", domain: str = EMAIL_DOMAIN
) -> list[bytes]:
    """The export split as SendGrid splits by ``max_file_size``: each file under ``max_bytes`` of
    uncompressed data; CSV files each with the header, JSON files as NDJSON (one contact a line)."""
    _line = _csv_line if file_type == "csv" else _json_line
    header = _csv_line(EXPORT_HEADER) if file_type == "csv" else b""
    files: list[bytes] = []
    current = [header]
    size = len(header)
    for row in contact_rows(count, domain):
        line = _line(row)
        if size + len(line) > max_bytes and len(current) > (1 if header else 0):
            files.append(b"".join(current))
            current, size = [header], len(header)
        current.append(line)
        size += len(line)
    files.append(b"".join(current))
    return files


RESERVED_FIELDS = (
    "first_name", "last_name", "email", "alternate_emails", "address_line_1", "address_line_2", "city",
    "state_province_region", "postal_code", "country", "phone_number", "whatsapp", "line", "facebook",
    "unique_name", "phone_number_id", "external_id", "anonymous_id",
)  # fmt: skip
READ_ONLY_FIELDS = {
    "email_domains": "Text",
    "last_clicked": "Date",
    "last_opened": "Date",
    "last_emailed": "Date",
    "created_at": "Date",
    "updated_at": "Date",
    "contact_id": "Text",
}  # name -> field_type
DEFAULT_CUSTOM_FIELDS = (("loyalty_points", "Number"),)  # a fresh fake account's custom fields


def field_definitions() -> dict[str, list[dict[str, object]]]:
    """A fresh fake account's fields as GET /v3/marketing/field_definitions gives them (ids as in the
    spec; custom ids ``e<n>_<T|N|D>``, per account)."""
    reserved: list[dict[str, object]] = [
        {"id": f"_rf{index}_T", "name": name, "field_type": "Text"}
        for index, name in enumerate(RESERVED_FIELDS)
    ]
    reserved += [
        {
            "id": f"_rf{len(RESERVED_FIELDS) + index}_{field_type[0]}",
            "name": name,
            "field_type": field_type,
            "read_only": True,
        }
        for index, (name, field_type) in enumerate(READ_ONLY_FIELDS.items())
    ]
    custom: list[dict[str, object]] = [
        {"id": f"e{index + 1}_{field_type[0]}", "name": name, "field_type": field_type}
        for index, (name, field_type) in enumerate(DEFAULT_CUSTOM_FIELDS)
    ]
    return {"custom_fields": custom, "reserved_fields": reserved}


def import_csv(count: int, invalid_rows: int = 0, domain: str = EMAIL_DOMAIN) -> bytes:
    """A CSV to import: the first ``invalid_rows`` rows carry a malformed email."""
    lines = [_csv_line(("email", "first_name", "last_name", "city", "loyalty_points", "created_at"))]
    for index, row in enumerate(contact_rows(count, domain)):
        email = row[0] if index >= invalid_rows else invalid_email(index, domain)
        lines.append(_csv_line((email, row[1], row[2], row[3], str(index % 500), row[6])))
    return b"".join(lines)


WHICH50_HEADER = ("Email", "FirstName", "LastName", "City")


def which50_csv(count: int, invalid_rows: int = 0, domain: str = EMAIL_DOMAIN) -> bytes:
    """A CSV for a Which50 contact list (field names as the list defines them)."""
    lines = [_csv_line(WHICH50_HEADER)]
    for index, row in enumerate(contact_rows(count, domain)):
        email = row[0] if index >= invalid_rows else invalid_email(index, domain)
        lines.append(_csv_line((email, row[1], row[2], row[3])))
    return b"".join(lines)


# Accounts for round trips: seeding one, comparing two ----------------------------------------------

# Custom fields a seeded account has (beside the default ones), one of each type.
SEED_CUSTOM_FIELDS = (("nickname", "Text"), ("lifetime_value", "Number"), ("birthday", "Date"))
SEED_COLUMNS = (
    "email", "first_name", "last_name", "address_line_1", "address_line_2", "city", "state_province_region",
    "postal_code", "country", "phone_number", "external_id", "loyalty_points", "nickname", "lifetime_value",
    "birthday",
)  # fmt: skip
# Values that need CSV quoting (commas, quotes, line breaks) or are not ASCII: (column, value) pairs, one
# of them given to every ``TRICKY_EVERY``-th contact in turn.
TRICKY_VALUES = (
    ("last_name", 'O"Brien, Jr.'),
    ("address_line_1", "Flat 2\nHigh Street"),
    ("nickname", 'says "hi", then\r\nleaves'),
    ("first_name", "Zoë"),
    ("city", "São Paulo"),
    ("nickname", "東京 🎉"),
    ("address_line_2", ",,,"),
    ("nickname", '"'),
)
TRICKY_EVERY = 97


class Account(Protocol):
    """What seeding and comparing need of an account (``sandbox.sendgrid_account.SendGridAccount``)."""

    written: bool

    def field_named(self, name: str) -> Any: ...
    def create_field(self, name: str, field_type: str) -> Any: ...
    def apply_rows(self, fields: list[Any], rows: Iterable[list[str]], list_ids: list[str]) -> Any: ...
    def emails_in_order(self) -> list[str]: ...
    def values_reader(self, names: Sequence[str]) -> Callable[[str], tuple[str, ...] | None]: ...
    def __contains__(self, email: object) -> bool: ...
    @property
    def custom_fields(self) -> list[Any]: ...


def seed_row(index: int, domain: str = EMAIL_DOMAIN) -> list[str]:
    """Contact ``index`` of a seeded account, as values of ``SEED_COLUMNS``."""
    city, country, postal = CITIES[index % len(CITIES)]
    row = [
        contact_email(index, domain),
        FIRST_NAMES[index % len(FIRST_NAMES)],
        LAST_NAMES[index % len(LAST_NAMES)],
        f"{index % 200 + 1} Main Street",
        "Flat 2" if index % 3 == 0 else "",
        city,
        "" if index % 2 else "Region",
        postal,
        country,
        f"+3519{index:08d}",
        f"ext-{index}",
        str(index % 500),
        f"nick{index}" if index % 5 else "",
        f"{index * 1.25:.2f}",
        f"19{50 + index % 50}-{index % 12 + 1:02d}-{index % 28 + 1:02d}",
    ]
    if index % TRICKY_EVERY == 0:
        column, value = TRICKY_VALUES[index // TRICKY_EVERY % len(TRICKY_VALUES)]
        row[SEED_COLUMNS.index(column)] = value
    return row


def seed_account(
    account: Account, count: int, domain: str = EMAIL_DOMAIN, list_ids: Iterable[str] = ()
) -> None:
    """Give ``account`` ``count`` contacts (``seed_row``) with the custom fields of ``SEED_CUSTOM_FIELDS``
    (created if missing), added to ``list_ids``. Straight into the store: no HTTP, about 1 s per 200,000."""
    present = {field.name for field in account.custom_fields}
    for name, field_type in SEED_CUSTOM_FIELDS + DEFAULT_CUSTOM_FIELDS:
        if name not in present:
            account.create_field(name, field_type)
    fields = [account.field_named(name) for name in SEED_COLUMNS]
    account.apply_rows(fields, (seed_row(index, domain) for index in range(count)), list(list_ids))


@dataclass(frozen=True)
class ContactMismatch:
    email: str
    differences: dict[str, tuple[str | None, str | None]]  # field -> (value in A, value in B); None: absent


def compared_fields(account: Account) -> list[str]:
    """The fields a restore can carry: writable reserved ones and the account's custom ones."""
    return [*RESERVED_FIELDS, *(field.name for field in account.custom_fields)]  # "email" among them


def compare_accounts(
    a: Account, b: Account, fields: Iterable[str] | None = None, limit: int | None = None
) -> list[ContactMismatch]:
    """The contacts that differ between ``a`` and ``b`` (in one only, or in any of ``fields``: by default
    ``compared_fields(a)``, so read-only ones such as ``contact_id`` are not compared), at most ``limit``.
    A field an account lacks reads as empty."""
    names = list(fields) if fields is not None else compared_fields(a)
    mismatches: list[ContactMismatch] = []
    read_a, read_b = a.values_reader(names), b.values_reader(names)
    for email in a.emails_in_order():
        ours, theirs = read_a(email), read_b(email)
        if ours != theirs:
            mismatches.append(ContactMismatch(email, _differences(email, names, ours, theirs)))
            if limit is not None and len(mismatches) >= limit:
                return mismatches
    for email in b.emails_in_order():
        if email not in a:
            mismatches.append(ContactMismatch(email, {"email": (None, email)}))
            if limit is not None and len(mismatches) >= limit:
                break
    return mismatches


def _differences(
    email: str, names: list[str], ours: tuple[str, ...] | None, theirs: tuple[str, ...] | None
) -> dict[str, tuple[str | None, str | None]]:
    if ours is None or theirs is None:
        return {"email": (None if ours is None else email, None if theirs is None else email)}
    return {name: (x, y) for name, x, y in zip(names, ours, theirs, strict=True) if x != y}
