"""Counting a backup file's contacts while its bytes stream past, without parsing every field.

A CSV record ends at a newline outside quotes (a quoted field may hold newlines: RFC 4180). Splitting a
chunk at its quotes leaves the pieces alternately outside and inside a quoted field (an escaped quote,
``""``, closes and reopens, which keeps the alternation right), so counting newlines in every other piece
counts records at C speed; a chunk without quotes is one ``bytes.count``. NDJSON has one contact per line.
"""

NEWLINE = b"\n"
QUOTE = b'"'


class RowCounter:
    """Feed a file's (decompressed) bytes in order with ``update``; ``rows`` is the count of contacts:
    CSV records after the header, or NDJSON lines. A last record without its newline still counts."""

    def __init__(self, file_type: str) -> None:
        self._has_header = file_type == "csv"
        self._quote_aware = file_type == "csv"
        self._inside_quotes = False
        self._line_ends = 0
        self._last_byte = b""

    def update(self, data: bytes, /) -> None:
        if not data:
            return
        self._last_byte = data[-1:]
        if not self._quote_aware or (not self._inside_quotes and QUOTE not in data):
            self._line_ends += data.count(NEWLINE)
            return
        pieces = data.split(QUOTE)
        outside = pieces[1::2] if self._inside_quotes else pieces[::2]
        self._line_ends += sum(piece.count(NEWLINE) for piece in outside)
        # len(pieces) - 1 quotes were crossed: an odd number flips the state.
        self._inside_quotes ^= (len(pieces) - 1) % 2 == 1

    @property
    def rows(self) -> int:
        records = self._line_ends + (1 if self._last_byte and self._last_byte != NEWLINE else 0)
        return max(0, records - 1) if self._has_header else records
