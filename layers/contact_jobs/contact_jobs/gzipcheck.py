"""Checking a gzip file while it streams past: every member's CRC-32 and length (ISIZE) against its trailer.

A download without ``Content-Length`` that is cut short looks complete to HTTP; a gzip file does not: its
last member then has no trailer. zlib checks each member's trailer itself (``wbits=31``) and raises on a
wrong CRC-32 or ISIZE; what is left to do here is to start a new decompressor for each further member
(``gzip -c a b`` and parallel compressors write several) and to say at the end whether the last one was
whole. The decompressed bytes go to ``output`` (verify counts rows in them) or are thrown away;
memory stays bounded by ``OUTPUT_CHUNK`` whatever the
compression ratio.
"""

import zlib
from collections.abc import Callable

from contact_jobs.errors import CopyFailed

GZIP_WBITS = 31  # zlib's gzip format: header, deflate stream, and the trailer checked
OUTPUT_CHUNK = 1024 * 1024  # decompressed bytes held at a time


class GzipVerifier:
    """Feed it the file's bytes in order with ``update``; ``finish`` once they end. Either raises
    ``CopyFailed`` naming the problem (and the member and offset where it was found)."""

    def __init__(self, output: Callable[[bytes], None] | None = None) -> None:
        self._output = output
        self._inflate = zlib.decompressobj(wbits=GZIP_WBITS)
        self._members = 1
        self._consumed = 0  # compressed bytes fed so far
        self._padding = False  # past the last member, only zeros seen (tolerated, as gzip does)

    @property
    def members(self) -> int:
        return self._members

    def update(self, data: bytes) -> None:
        self._consumed += len(data)
        while data:
            if self._padding:
                self._check_padding(data)
                return
            data = self._inflate_member(data)

    def finish(self) -> None:
        if not self._padding and not self._inflate.eof:
            raise CopyFailed(
                f"gzip file is cut short: member {self._members} has no trailer after {self._consumed} bytes"
            )

    def _inflate_member(self, data: bytes) -> bytes:
        """Inflate ``data`` into the current member; return what lies past its end (the next member)."""
        try:
            out = self._inflate.decompress(data, OUTPUT_CHUNK)
            # Output capped: go on with the input left over, and with output zlib may still hold.
            while not self._inflate.eof and (self._inflate.unconsumed_tail or len(out) == OUTPUT_CHUNK):
                self._emit(out)
                out = self._inflate.decompress(self._inflate.unconsumed_tail, OUTPUT_CHUNK)
            self._emit(out)
        except zlib.error as exc:
            raise CopyFailed(f"gzip member {self._members} is corrupt: {_reason(exc)}") from None
        if not self._inflate.eof:
            return b""
        rest = self._inflate.unused_data
        if rest and rest[:1] != b"\x1f":
            self._padding = True
        elif rest:
            self._members += 1
            self._inflate = zlib.decompressobj(wbits=GZIP_WBITS)
        return rest

    def _emit(self, out: bytes) -> None:
        if self._output is not None and out:
            self._output(out)

    def _check_padding(self, data: bytes) -> None:
        if data.strip(b"\x00"):
            raise CopyFailed(
                f"gzip file has {len(data)} trailing bytes after member {self._members} that are not gzip"
            )


def _reason(exc: zlib.error) -> str:
    """zlib's words for what is wrong, in the gzip format's: 'incorrect data check' is the CRC-32."""
    text = str(exc)
    if "incorrect data check" in text:
        return "CRC-32 does not match its trailer"
    if "incorrect length check" in text:
        return "length does not match its trailer (ISIZE)"
    if "incorrect header check" in text:
        return "its header is not gzip's (1f 8b 08)"
    return text
