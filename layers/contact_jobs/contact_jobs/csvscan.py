"""One streaming pass over an import file: is it a CSV we can import, how many contacts, and where to
cut it into parts that respect the provider's limits. The file is never held in memory.

Offsets are positions in the decompressed bytes (the file itself for a plain CSV), at record
boundaries: a quoted field may hold a newline, so records are found by the csv module, fed one line at a
time so that the bytes consumed are known after every record.
"""

import codecs
import csv
import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, cast

from contact_jobs.errors import InvalidImportFile

BOM = codecs.BOM_UTF8
MAX_HEADER_BYTES = 64 * 1024
BINARY_SNIFF = b"\x00"
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Limits:
    max_rows: int = 1_000_000
    max_bytes: int = 5 * 1000**3  # SendGrid: 5 GB per import


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


def _sniff_binary(stream: IO[bytes]) -> None:
    """Images, spreadsheets and archives carry NUL bytes early; text never does."""
    try:
        head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]  # type: ignore[attr-defined]
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidImportFile(f"file is not valid gzip: {exc}") from None
    if BINARY_SNIFF in head:
        raise InvalidImportFile("file is binary, not CSV text (it contains NUL bytes)")


def _lines(stream: IO[bytes], counter: list[int]) -> Iterator[str]:
    """Decoded lines; ``counter[0]`` is the number of bytes consumed so far."""
    _sniff_binary(stream)
    first = True
    while True:
        try:
            raw = stream.readline()
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidImportFile(f"file is not valid gzip: {exc}") from None
        if not raw:
            return
        if BINARY_SNIFF in raw:
            raise InvalidImportFile("file is binary, not CSV text (it contains NUL bytes)")
        counter[0] += len(raw)
        if first and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        first = False
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidImportFile(
                f"file is not UTF-8 text (byte {counter[0] - len(raw) + exc.start})"
            ) from None


def open_decompressed(body: IO[bytes], gzipped: bool) -> IO[bytes]:
    if gzipped:
        return cast(IO[bytes], gzip.GzipFile(fileobj=body, mode="rb"))
    return body


def scan(body: IO[bytes], gzipped: bool, limits: Limits) -> ScanResult:
    counter = [0]
    reader = csv.reader(_lines(open_decompressed(body, gzipped), counter), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InvalidImportFile(f"header row is not valid CSV: {exc}") from None
    if not header or not any(name.strip() for name in header):
        raise InvalidImportFile("file is empty: no header row")
    if counter[0] > MAX_HEADER_BYTES:
        raise InvalidImportFile(f"header row is longer than {MAX_HEADER_BYTES} bytes")
    _check_header(header)
    header_bytes = _header_line(header)
    result = ScanResult(header=header, header_bytes=header_bytes)
    part_start, part_rows = counter[0], 0
    part_budget = limits.max_bytes - len(header_bytes)
    record_start = counter[0]
    try:
        for row in reader:
            record_end = counter[0]
            if not any(cell.strip() for cell in row):
                record_start = record_end
                continue  # blank lines are not contacts
            if part_rows and (part_rows >= limits.max_rows or record_end - part_start > part_budget):
                result.parts.append(Part(len(result.parts), part_start, record_start, part_rows))
                part_start, part_rows = record_start, 0
            part_rows += 1
            result.rows += 1
            record_start = record_end
    except csv.Error as exc:
        raise InvalidImportFile(f"row {result.rows + 2} is not valid CSV: {exc}") from None
    if result.rows == 0:
        raise InvalidImportFile("file has a header but no contacts")
    result.parts.append(Part(len(result.parts), part_start, counter[0], part_rows))
    result.size = counter[0]
    return result


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        folded = name.strip().lower()
        if not folded:
            raise InvalidImportFile("header has an empty column name")
        if folded in seen:
            raise InvalidImportFile(f"header names column {name.strip()!r} twice")
        seen.add(folded)


def _header_line(header: list[str]) -> bytes:
    line: list[str] = []

    class _Sink:
        def write(self, text: str) -> None:
            line.append(text)

    csv.writer(_Sink(), lineterminator="\n").writerow(header)
    return "".join(line).encode()


def records(stream: IO[bytes], offset: int = 0) -> Iterator[tuple[list[str], int]]:
    """Non-blank records with the byte offset just past each, for a stream that starts at ``offset``."""
    counter = [offset]
    try:
        for row in csv.reader(_lines(stream, counter), strict=True):
            if any(cell.strip() for cell in row):
                yield row, counter[0]
    except csv.Error as exc:
        raise InvalidImportFile(f"a row past byte {counter[0]} is not valid CSV: {exc}") from None


def header_names(header_bytes: bytes) -> list[str]:
    return next(csv.reader([header_bytes.decode()]))
