"""NDJSON contacts (a JSON export, one contact a line) as CSV, streaming, for an import.

SendGrid imports take CSV only. A JSON backup is read twice, a line at a time: once for its columns
(every key any contact has, in the order first seen; a nested object such as ``custom_fields`` adds its
keys as columns of their own), then to write the rows. Nothing holds more than a line and an output
chunk.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from contact_jobs.errors import InvalidImportFile

OUTPUT_CHUNK = 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024  # one contact; a line past it is a broken file, not a contact


def bounded_lines(stream: IO[bytes], max_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The stream's lines, none held longer than ``max_bytes`` (a file without newlines is refused)."""
    number = 0
    while line := stream.readline(max_bytes + 1):
        number += 1
        if len(line) > max_bytes:
            raise InvalidImportFile(f"line {number} is longer than {max_bytes} bytes: not one contact")
        yield line


def columns(lines: Iterable[bytes]) -> list[str]:
    """Every column the contacts use, in the order first seen."""
    seen: dict[str, None] = {}
    for number, contact in _contacts(lines):
        for name in _flat(contact, number):
            seen.setdefault(name)
    return list(seen)


def to_csv(lines: Iterable[bytes], header: list[str]) -> Iterator[bytes]:
    """The header, then one CSV record per contact (a missing key is an empty field), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for number, contact in _contacts(lines):
        flat = _flat(contact, number)
        if unknown := set(flat) - set(header):
            raise InvalidImportFile(f"line {number} has columns the header lacks: {sorted(unknown)[:5]}")
        writer.writerow([_text(flat.get(name)) for name in header])
        if buffer.tell() >= OUTPUT_CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _contacts(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            contact = json.loads(line)
        except ValueError as exc:
            raise InvalidImportFile(f"line {number} is not JSON: {exc}") from None
        if not isinstance(contact, dict):
            raise InvalidImportFile(f"line {number} is a JSON {type(contact).__name__}, not a contact object")
        yield number, contact


def _flat(contact: dict[str, Any], number: int) -> dict[str, Any]:
    """Top-level fields, and a nested object's fields beside them (``custom_fields``)."""
    flat: dict[str, Any] = {}
    for name, value in contact.items():
        for inner, inner_value in value.items() if isinstance(value, dict) else [(name, value)]:
            if inner in flat:
                raise InvalidImportFile(f"line {number} names the field {inner!r} twice")
            flat[inner] = inner_value
    return flat


def _text(value: Any) -> str:
    """A field as SendGrid's CSV holds it: nothing for null, lists comma-joined, JSON's own literals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return str(value)
