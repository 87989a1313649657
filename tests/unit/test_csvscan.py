"""One streaming pass over an import file: validation, counts and the split plan."""

import gzip
import io
import time

import pytest

from contact_jobs import csvscan
from contact_jobs.csvscan import Limits, records, scan
from contact_jobs.errors import InvalidImportFile

NO_LIMITS = Limits()


def scanned(data: bytes, limits: Limits = NO_LIMITS, gzipped: bool = False):
    return scan(io.BufferedReader(io.BytesIO(data)), gzipped, limits)


def test_rows_are_counted_and_a_bom_is_not_part_of_the_header():
    result = scanned(b"\xef\xbb\xbfemail,name\na@x.io,A\nb@x.io,B\n")
    assert (result.header, result.rows, len(result.parts)) == (["email", "name"], 2, 1)


def test_a_quoted_newline_is_one_record():
    assert scanned(b'email,note\na@x.io,"two\nlines"\nb@x.io,x\n').rows == 2


def test_gzip_is_read_through():
    assert scanned(gzip.compress(b"email\na@x.io\n"), gzipped=True).rows == 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "file is empty"),
        (b"email,name\n", "header but no contacts"),
        (b"email,Email\na,b\n", "names column 'Email' twice"),
        (b"email,name\n\xff\xfe,x\n", "not UTF-8"),
        (b"email\x00\x01\x02\n", "binary"),
        (b"email,,name\na,b,c\n", "empty column name"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(data, problem):
    with pytest.raises(InvalidImportFile, match=problem):
        scanned(data)


def test_corrupt_gzip_is_refused():
    with pytest.raises(InvalidImportFile, match="not valid gzip"):
        scanned(b"\x1f\x8bnot gzip at all", gzipped=True)


def reassembled(data: bytes, result) -> list[bytes]:
    return [result.header_bytes + data[part.start : part.end] for part in result.parts]


def test_split_by_rows_cuts_at_record_boundaries_and_loses_nothing():
    rows = [f'c{i}@x.io,"note\n{i}"\n'.encode() for i in range(10)]
    data = b"email,note\n" + b"".join(rows)
    result = scanned(data, Limits(max_rows=4, max_bytes=10**9))
    assert [part.rows for part in result.parts] == [4, 4, 2]
    parts = reassembled(data, result)
    assert all(part.startswith(b"email,note\n") for part in parts)
    assert b"".join(part.removeprefix(b"email,note\n") for part in parts) == b"".join(rows)


def test_split_by_bytes_keeps_every_part_under_the_limit():
    data = b"email\n" + b"".join(f"contact{i:04d}@example.com\n".encode() for i in range(100))
    result = scanned(data, Limits(max_rows=10**6, max_bytes=200))
    assert len(result.parts) > 1
    assert all(len(part) <= 200 for part in reassembled(data, result))
    assert sum(part.rows for part in result.parts) == 100


class CountingStream(io.RawIOBase):
    """A raw stream that records how many bytes were taken from it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._data.read(len(buffer))
        buffer[: len(data)] = data
        self.taken += len(data)
        return len(data)


def test_a_long_line_is_refused_after_reading_one_record_budget_not_the_line():
    raw = CountingStream(b"email\n" + b"a" * (10 * 1024 * 1024) + b"\n")
    with pytest.raises(
        InvalidImportFile, match=r"row 2 is longer than 1024 bytes \(MAX_IMPORT_RECORD_BYTES\)"
    ):
        scan(io.BufferedReader(raw), False, Limits(max_record_bytes=1024))
    assert raw.taken < 64 * 1024


def test_a_header_over_its_byte_limit_is_refused():
    with pytest.raises(
        InvalidImportFile, match=r"header row is longer than 32 bytes \(MAX_IMPORT_HEADER_BYTES\)"
    ):
        scanned(b"email," + b"x" * 40 + b"\na@x.io,1\n", Limits(max_header_bytes=32))


def test_a_record_of_many_short_quoted_lines_is_bounded_as_one_record():
    record = b'a@x.io,"' + b"line\n" * 100 + b'"\n'
    with pytest.raises(InvalidImportFile, match="row 3 is longer than 256 bytes"):
        scanned(b"email,note\nb@x.io,x\n" + record, Limits(max_record_bytes=256))


def test_a_field_over_the_field_limit_is_refused_naming_the_row():
    with pytest.raises(
        InvalidImportFile, match=r"row 3 has a field longer than 100 characters \(MAX_IMPORT_FIELD_CHARS\)"
    ):
        scanned(b"email,note\na@x.io,x\nb@x.io," + b"n" * 101 + b"\n", Limits(max_field_chars=100))


def test_a_header_over_the_column_limit_is_refused_naming_both_counts():
    header = ",".join(["email", *(f"c{i}" for i in range(8000))]).encode()
    with pytest.raises(
        InvalidImportFile, match=r"header has 8001 columns, more than 1000 \(MAX_IMPORT_COLUMNS\)"
    ):
        scanned(header + b"\n" + b"a@x.io" + b"," * 8000 + b"\n")


def test_a_row_with_more_fields_than_the_header_is_refused_with_its_spreadsheet_row_number():
    data = b'email,note\na@x.io,"two\nlines"\n\nb@x.io,x,shifted\n'  # row 3 is blank, row 4 too wide
    with pytest.raises(InvalidImportFile, match="row 4 has 3 fields, more than the header's 2"):
        scanned(data)


def test_a_row_with_fewer_fields_than_the_header_is_refused():
    with pytest.raises(InvalidImportFile, match="row 3 has 1 fields, fewer than the header's 2"):
        scanned(b"email,note\na@x.io,x\nb@x.io\n")


def test_a_gzip_stream_inflating_past_the_ratio_is_stopped(monkeypatch):
    monkeypatch.setattr(csvscan, "RATIO_FLOOR_BYTES", 0)
    body = gzip.compress(b"email\n" + b"a@x.io\n" * 10_000)
    with pytest.raises(
        InvalidImportFile, match=r"inflates more than 10 times its size \(MAX_IMPORT_GZIP_RATIO\)"
    ):
        scan(io.BufferedReader(io.BytesIO(body)), True, Limits(max_gzip_ratio=10), compressed_size=len(body))


def test_a_small_gzip_under_the_floor_is_read_whatever_its_ratio():
    body = gzip.compress(b"email\n" + b"a@x.io\n" * 10_000)  # ~70 KB from a few hundred bytes
    result = scan(
        io.BufferedReader(io.BytesIO(body)), True, Limits(max_gzip_ratio=10), compressed_size=len(body)
    )
    assert result.rows == 10_000


def test_the_scan_stops_at_its_deadline_with_a_named_reason():
    data = b"email\n" + b"a@x.io\n" * 5000
    with pytest.raises(
        InvalidImportFile, match=r"longer to read than the function's time allows \(SCAN_TIME_RESERVE_S\)"
    ):
        scan(io.BufferedReader(io.BytesIO(data)), False, NO_LIMITS, deadline=time.monotonic() - 1)


def test_a_file_needing_more_parts_than_the_limit_is_refused():
    data = b"email\n" + b"".join(f"c{i}@x.io\n".encode() for i in range(10))
    with pytest.raises(InvalidImportFile, match=r"more than 3 parts \(MAX_IMPORT_PARTS\)"):
        scanned(data, Limits(max_rows=2, max_parts=3))


def test_rereading_records_keeps_the_record_bound():
    stream = io.BufferedReader(io.BytesIO(b"a@x.io\n" + b"b" * 5000 + b"\n"))
    with pytest.raises(InvalidImportFile, match="longer than 1024 bytes"):
        list(records(stream, Limits(max_record_bytes=1024), offset=6))


def test_the_deadline_is_also_checked_every_few_mib_of_long_lines():
    data = b"email,note\n" + b"".join(b"a@x.io," + b"n" * (2 * 1024 * 1024) + b"\n" for _ in range(5))
    limits = Limits(max_record_bytes=3 * 1024 * 1024, max_field_chars=3 * 1024 * 1024)
    with pytest.raises(InvalidImportFile, match="time allows"):
        scan(io.BufferedReader(io.BytesIO(data)), False, limits, deadline=time.monotonic() - 1)
