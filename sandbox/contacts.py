"""Deterministic contacts in SendGrid's export format (upper-case header, one row per contact)."""

import csv
import io
import json
import uuid
from collections.abc import Iterator

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
READ_ONLY_FIELDS = (
    "email_domains",
    "last_clicked",
    "last_opened",
    "last_emailed",
    "created_at",
    "updated_at",
    "contact_id",
)


def field_definitions() -> dict[str, list[dict[str, object]]]:
    """The account's fields as GET /v3/marketing/field_definitions gives them (ids as in the spec)."""
    reserved: list[dict[str, object]] = [
        {"id": f"_rf{index}_T", "name": name, "field_type": "Text"}
        for index, name in enumerate(RESERVED_FIELDS)
    ]
    reserved += [
        {"id": f"_rf{len(RESERVED_FIELDS) + index}_D", "name": name, "field_type": "Date", "read_only": True}
        for index, name in enumerate(READ_ONLY_FIELDS)
    ]
    custom: list[dict[str, object]] = [{"id": "e1_N", "name": "loyalty_points", "field_type": "Number"}]
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
