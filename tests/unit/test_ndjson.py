"""A JSON (NDJSON) backup becomes CSV for SendGrid's import, streaming, values intact."""

import csv
import io
import json

import pytest

from contact_jobs.errors import InvalidImportFile
from contact_jobs.ndjson import bounded_lines, columns, to_csv

CONTACTS = [
    {"EMAIL": "a@example.com", "FIRST_NAME": 'Zoë "Z"', "custom_fields": {"loyalty_points": 12}},
    {"EMAIL": "b@example.com", "CITY": "Paris, FR\nCedex", "ALTERNATE_EMAILS": ["b2@x.io", "b3@x.io"]},
    {"EMAIL": "c@example.com", "FIRST_NAME": None, "custom_fields": {"vip": True}},
]


def _lines(contacts: list[dict[str, object]]) -> list[bytes]:
    return [json.dumps(contact).encode() + b"\n" for contact in contacts]


def test_columns_are_every_key_in_first_seen_order_with_nested_fields_flattened() -> None:
    assert columns(_lines(CONTACTS)) == [
        "EMAIL", "FIRST_NAME", "loyalty_points", "CITY", "ALTERNATE_EMAILS", "vip",
    ]  # fmt: skip


def test_rows_keep_their_values_through_csv_quoting() -> None:
    header = columns(_lines(CONTACTS))
    text = b"".join(to_csv(_lines(CONTACTS), header)).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["EMAIL"] for row in rows] == ["a@example.com", "b@example.com", "c@example.com"]
    assert rows[0]["FIRST_NAME"] == 'Zoë "Z"'
    assert rows[0]["loyalty_points"] == "12"
    assert rows[1]["CITY"] == "Paris, FR\nCedex"
    assert rows[1]["ALTERNATE_EMAILS"] == "b2@x.io,b3@x.io"
    assert rows[2]["FIRST_NAME"] == ""
    assert rows[2]["vip"] == "true"


def test_output_comes_in_bounded_chunks() -> None:
    many = [{"EMAIL": f"c{n}@example.com", "NOTE": "x" * 200} for n in range(20_000)]
    chunks = list(to_csv(_lines(many), ["EMAIL", "NOTE"]))
    assert len(chunks) > 1
    assert max(map(len, chunks)) < 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("line", "named"),
    [
        (b"{not json\n", "line 2 is not JSON"),
        (b"[1, 2]\n", "line 2 is a JSON list"),
        (
            b'{"EMAIL": "x@y.io", "custom_fields": {"EMAIL": "z@y.io"}}\n',
            "line 2 names the field 'EMAIL' twice",
        ),
    ],
)
def test_a_malformed_line_is_refused_with_its_number(line: bytes, named: str) -> None:
    with pytest.raises(InvalidImportFile, match=named):
        columns([b'{"EMAIL": "a@example.com"}\n', line])


def test_lines_are_read_bounded_and_an_endless_line_is_refused() -> None:
    assert list(bounded_lines(io.BytesIO(b'{"a": 1}\n{"a": 2}'), max_bytes=10)) == [
        b'{"a": 1}\n',
        b'{"a": 2}',
    ]
    with pytest.raises(InvalidImportFile, match="line 2 is longer than 10 bytes"):
        list(bounded_lines(io.BytesIO(b'{"a": 1}\n' + b"x" * 100), max_bytes=10))
