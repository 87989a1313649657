"""One streaming pass over an import file: validation, counts and the split plan."""

import gzip
import io

import pytest

from contact_jobs.csvscan import Limits, scan
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
