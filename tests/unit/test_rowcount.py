"""Counting contacts in a stream of backup bytes, however the stream is cut into chunks."""

import csv
import io
import json

import pytest

from contact_jobs.rowcount import RowCounter

HARD_VALUES = ["plain", "comma, inside", 'a "quoted" word', "two\nlines", "crlf\r\nline", "Zoë Ångström", ""]


def _csv_bytes(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "first_name", "note"])
    for n in range(rows):
        writer.writerow([f"c{n}@example.com", HARD_VALUES[n % len(HARD_VALUES)], HARD_VALUES[(n + 3) % 7]])
    return out.getvalue().encode()


def _count(data: bytes, file_type: str, chunk: int) -> int:
    counter = RowCounter(file_type)
    for start in range(0, len(data), chunk):
        counter.update(data[start : start + chunk])
    return counter.rows


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_csv_records_are_counted_whatever_the_chunking(chunk: int) -> None:
    data = _csv_bytes(300)
    assert len(list(csv.reader(io.StringIO(data.decode())))) - 1 == 300
    assert _count(data, "csv", chunk) == 300


def test_newlines_inside_quoted_fields_do_not_count_as_records() -> None:
    data = b'email,note\na@x.io,"line one\nline two\nline three"\nb@x.io,plain\n'
    assert _count(data, "csv", 5) == 2


def test_a_last_record_without_its_newline_still_counts() -> None:
    assert _count(b"email\na@x.io\nb@x.io", "csv", 4) == 2


def test_a_header_alone_is_no_contact() -> None:
    assert _count(b"email,first_name\n", "csv", 100) == 0
    assert _count(b"", "csv", 100) == 0


def test_ndjson_counts_lines_and_ignores_quotes() -> None:
    lines = [json.dumps({"email": f"c{n}@x.io", "note": 'say "hi"\nthere'}) for n in range(50)]
    data = ("\n".join(lines) + "\n").encode()
    assert _count(data, "json", 9) == 50
