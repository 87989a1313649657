"""Counting a backup file's contacts while its bytes stream past, without parsing every field.

A CSV record ends at a newline outside quotes (a quoted field may hold newlines: RFC 4180): a newline
ends a record when an even number of quotes precede it. Only quotes and newlines matter, so each chunk is
first reduced to them (``bytes.translate``, at C speed), and adjacent quote pairs are dropped (that keeps
every newline's parity: a quoted field without a newline, an escaped ``""``, vanishes). What is left is
mostly newlines; splitting it at the few quotes left gives pieces alternately outside and inside quotes.
NDJSON has one contact per line.
"""

NEWLINE = b"\n"
QUOTE = b'"'
NOT_QUOTE_OR_NEWLINE = bytes(b for b in range(256) if b not in (ord(QUOTE), ord(NEWLINE)))


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
        pieces = data.translate(None, NOT_QUOTE_OR_NEWLINE).replace(QUOTE + QUOTE, b"").split(QUOTE)
        outside = pieces[1::2] if self._inside_quotes else pieces[::2]
        self._line_ends += sum(piece.count(NEWLINE) for piece in outside)
        # len(pieces) - 1 quotes were crossed: an odd number flips the state.
        self._inside_quotes ^= (len(pieces) - 1) % 2 == 1

    @property
    def rows(self) -> int:
        records = self._line_ends + (1 if self._last_byte and self._last_byte != NEWLINE else 0)
        return max(0, records - 1) if self._has_header else records
