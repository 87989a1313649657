"""One streaming pass over an import file: is it a CSV we can import, how many contacts, and where to
cut it into parts that respect the provider's limits. The file is never held in memory.

Offsets are positions in the decompressed bytes (the file itself for a plain CSV), at record
boundaries: a quoted field may hold a newline, so records are found by the csv module, fed one line at a
time so that the bytes consumed are known after every record.

Every read is bounded before it happens: a line is read with ``readline(limit)`` where the limit is what
is left of the record's byte budget, so a 300 MiB line costs at most one record's worth of memory. A
gzip stream may not inflate past a ratio of its compressed size, and the scan stops at a deadline, so a
gzip bomb ends with a named reason rather than a Lambda timeout.
"""

import codecs
import csv
import gzip
import io
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, cast

from contact_jobs.errors import InvalidImportFile

BOM = codecs.BOM_UTF8
BINARY_SNIFF = b"\x00"
SNIFF_BYTES = 8192
RATIO_FLOOR_BYTES = 16 * 1024 * 1024  # below this, any ratio is fine: small files cannot hurt
CLOCK_EVERY_LINES = 1024  # the clock is read every so many lines or bytes, whichever comes first
CLOCK_EVERY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one file may hold. The names in brackets in error messages are the settings (config.py)."""

    max_rows: int = 1_000_000
    max_bytes: int = 5 * 1000**3  # SendGrid: 5 GB per import
    max_parts: int = 100  # every part is a few hundred bytes of workflow state
    max_header_bytes: int = 64 * 1024
    max_columns: int = 1000
    max_record_bytes: int = 1024 * 1024  # one contact, quoted newlines included
    max_field_chars: int = 128 * 1024  # the csv module's own default
    max_gzip_ratio: int = 100  # decompressed / compressed bytes: contact CSVs are 5-20, gzip's most ~1030


@dataclass(frozen=True)
class Part:
    index: int
    start: int  # first byte of the part's first record
    end: int  # one past the last byte of its last record
    rows: int


@dataclass
class ScanResult:
    header: list[str]
    header_bytes: bytes  # the header line as uploaded with every part (no BOM)
    rows: int = 0
    size: int = 0  # decompressed bytes
    parts: list[Part] = field(default_factory=list)


class _Lines:
    """Decoded lines of a stream, each read within what is left of the current record's byte budget.
    ``consumed`` is the offset just past the last line read; ``row`` the 1-based record number (the
    header is row 1, as in a spreadsheet)."""

    def __init__(self, stream: IO[bytes], offset: int, limits: Limits) -> None:
        self.stream = stream
        self.limits = limits
        self.consumed = offset
        self.record_start = offset
        self.row = 1
        self.budget = limits.max_header_bytes
        self.budget_name = "header row is longer than {limit} bytes (MAX_IMPORT_HEADER_BYTES)"
        self.inflate_limit: int | None = None  # decompressed bytes allowed (gzip ratio)
        self.deadline: float | None = None  # time.monotonic() value
        self._clock_at = offset + CLOCK_EVERY_BYTES

    def next_record(self) -> None:
        """The csv reader returned a record: the next one starts here, with a contact's budget."""
        self.record_start = self.consumed
        self.row += 1
        self.budget = self.limits.max_record_bytes
        self.budget_name = "row {row} is longer than {limit} bytes (MAX_IMPORT_RECORD_BYTES)"

    def __iter__(self) -> Iterator[str]:
        _sniff_binary(self.stream)
        first, lines = True, 0
        while True:
            room = self.budget - (self.consumed - self.record_start)
            raw = _read_line(self.stream, room + 1)  # one byte more than allowed: a long line shows
            if not raw:
                return
            if len(raw) > room:
                raise InvalidImportFile(self.budget_name.format(row=self.row, limit=self.budget))
            if BINARY_SNIFF in raw:
                raise InvalidImportFile("file is binary, not CSV text (it contains NUL bytes)")
            self.consumed += len(raw)
            lines += 1
            self._check_inflation_and_time(lines)
            if first and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            first = False
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidImportFile(
                    f"file is not UTF-8 text (byte {self.consumed - len(raw) + exc.start})"
                ) from None

    def _check_inflation_and_time(self, lines: int) -> None:
        if self.inflate_limit is not None and self.consumed > self.inflate_limit:
            raise InvalidImportFile(
                f"gzip file inflates more than {self.limits.max_gzip_ratio} times its size "
                f"(MAX_IMPORT_GZIP_RATIO): stopped at {self.consumed} bytes, row {self.row}"
            )
        if self.deadline is None or (lines % CLOCK_EVERY_LINES and self.consumed < self._clock_at):
            return
        self._clock_at = self.consumed + CLOCK_EVERY_BYTES
        if time.monotonic() > self.deadline:
            raise InvalidImportFile(
                f"file takes longer to read than the function's time allows (SCAN_TIME_RESERVE_S): "
                f"stopped at {self.consumed} bytes, row {self.row}"
            )


def _read_line(stream: IO[bytes], limit: int) -> bytes:
    try:
        return stream.readline(limit)
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidImportFile(f"file is not valid gzip: {exc}") from None


def _sniff_binary(stream: IO[bytes]) -> None:
    """Images, spreadsheets and archives carry NUL bytes early; text never does."""
    try:
        head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]  # type: ignore[attr-defined]
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidImportFile(f"file is not valid gzip: {exc}") from None
    if BINARY_SNIFF in head:
        raise InvalidImportFile("file is binary, not CSV text (it contains NUL bytes)")


def open_decompressed(body: IO[bytes], gzipped: bool) -> IO[bytes]:
    if gzipped:
        return cast(IO[bytes], gzip.GzipFile(fileobj=body, mode="rb"))
    return body


def _reader(lines: _Lines) -> Iterator[list[str]]:
    # A process-wide setting in the csv module; every reader here sets it from its own limits.
    csv.field_size_limit(lines.limits.max_field_chars)
    return csv.reader(lines, strict=True)


def _csv_problem(exc: csv.Error, lines: _Lines) -> InvalidImportFile:
    what = "header row" if lines.row == 1 else f"row {lines.row}"
    if "field larger than field limit" in str(exc):
        limit = lines.limits.max_field_chars
        return InvalidImportFile(
            f"{what} has a field longer than {limit} characters (MAX_IMPORT_FIELD_CHARS)"
        )
    return InvalidImportFile(f"{what} is not valid CSV: {exc}")


def scan(
    body: IO[bytes],
    gzipped: bool,
    limits: Limits,
    compressed_size: int | None = None,
    deadline: float | None = None,
) -> ScanResult:
    """Read the whole file once, within ``limits``; ``compressed_size`` (the object's size) bounds how
    far a gzip file may inflate, ``deadline`` (monotonic seconds) how long the reading may take."""
    lines = _Lines(open_decompressed(body, gzipped), 0, limits)
    if gzipped and compressed_size is not None:
        lines.inflate_limit = max(limits.max_gzip_ratio * compressed_size, RATIO_FLOOR_BYTES)
    lines.deadline = deadline
    reader = _reader(lines)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _csv_problem(exc, lines) from None
    if not header or not any(name.strip() for name in header):
        raise InvalidImportFile("file is empty: no header row")
    _check_header(header, limits)
    result = ScanResult(header=header, header_bytes=_header_line(header))
    _scan_rows(reader, lines, result, limits)
    if result.rows == 0:
        raise InvalidImportFile("file has a header but no contacts")
    result.size = lines.consumed
    return result


def _scan_rows(reader: Iterator[list[str]], lines: _Lines, result: ScanResult, limits: Limits) -> None:
    """Count the contacts and cut the parts; every row has as many fields as the header."""
    columns = len(result.header)
    lines.next_record()
    part_start, part_rows = lines.consumed, 0
    part_budget = limits.max_bytes - len(result.header_bytes)
    try:
        for row in reader:
            record_start, record_end = lines.record_start, lines.consumed
            if any(cell.strip() for cell in row):  # blank lines are not contacts
                _check_width(row, columns, lines.row)
                if part_rows and (part_rows >= limits.max_rows or record_end - part_start > part_budget):
                    result.parts.append(Part(len(result.parts), part_start, record_start, part_rows))
                    part_start, part_rows = record_start, 0
                    _check_parts(len(result.parts), limits)
                part_rows += 1
                result.rows += 1
            lines.next_record()
    except csv.Error as exc:
        raise _csv_problem(exc, lines) from None
    result.parts.append(Part(len(result.parts), part_start, lines.consumed, part_rows))


def _check_parts(parts: int, limits: Limits) -> None:
    if parts >= limits.max_parts:
        raise InvalidImportFile(
            f"file needs more than {limits.max_parts} parts (MAX_IMPORT_PARTS) at "
            f"{limits.max_rows} rows or {limits.max_bytes} bytes each: split it into several files"
        )


def _check_width(row: list[str], columns: int, number: int) -> None:
    """A row with more fields than the header would shift values into the wrong columns (or lose the
    last); one with fewer cannot say which of its columns is missing. Either way: refuse the file."""
    if len(row) != columns:
        relation = "more" if len(row) > columns else "fewer"
        raise InvalidImportFile(
            f"row {number} has {len(row)} fields, {relation} than the header's {columns}: "
            "every row needs one field per column"
        )


def _check_header(header: list[str], limits: Limits) -> None:
    if len(header) > limits.max_columns:
        raise InvalidImportFile(
            f"header has {len(header)} columns, more than {limits.max_columns} (MAX_IMPORT_COLUMNS)"
        )
    seen: set[str] = set()
    for name in header:
        folded = name.strip().lower()
        if not folded:
            raise InvalidImportFile("header has an empty column name")
        if folded in seen:
            raise InvalidImportFile(f"header names column {name.strip()!r} twice")
        seen.add(folded)


def _header_line(header: list[str]) -> bytes:
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(header)
    return line.getvalue().encode()


def records(stream: IO[bytes], limits: Limits, offset: int = 0) -> Iterator[tuple[list[str], int]]:
    """Non-blank records with the byte offset just past each, for a stream that starts at ``offset``
    (after the header), read within the same bounds as the scan."""
    lines = _Lines(stream, offset, limits)
    lines.next_record()
    try:
        for row in _reader(lines):
            if any(cell.strip() for cell in row):
                yield row, lines.consumed
            lines.next_record()
    except csv.Error as exc:
        raise InvalidImportFile(f"a row past byte {lines.consumed} is not valid CSV: {exc}") from None


def header_names(header_bytes: bytes) -> list[str]:
    return next(csv.reader([header_bytes.decode()]))
