"""Byte streams over S3 objects for imports: buffered reads for scanning, exact-length chunked bodies
for uploads. Nothing here holds more than one chunk of a file."""

import io
from collections.abc import Iterator
from typing import IO, Any

from contact_jobs.csvscan import open_decompressed
from contact_jobs.state import Source

CHUNK = 1024 * 1024


class _RawBody(io.RawIOBase):
    """An S3 StreamingBody as a raw stream, so io.BufferedReader can give fast readline()."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_object(
    s3: Any, bucket: str, key: str, version_id: str | None = None, byte_range: str | None = None
) -> IO[bytes]:
    return open_sized(s3, bucket, key, version_id, byte_range)[0]


def open_sized(
    s3: Any, bucket: str, key: str, version_id: str | None = None, byte_range: str | None = None
) -> tuple[IO[bytes], int]:
    """The object (or range) as a buffered stream, and its length from the same GET."""
    optional = {"VersionId": version_id, "Range": byte_range}
    got = s3.get_object(Bucket=bucket, Key=key, **{name: value for name, value in optional.items() if value})
    return io.BufferedReader(_RawBody(got["Body"]), buffer_size=CHUNK), int(got["ContentLength"])


class ExactBody:
    """A request body of a known length, sent in large chunks. requests sends ``Content-Length`` from
    ``len()`` (never chunked transfer encoding, which presigned S3 URLs refuse); a source that ends early or
    runs long raises mid-send, so the receiver never gets a complete wrong body."""

    def __init__(self, chunks: Iterator[bytes], length: int) -> None:
        self._chunks = chunks
        self._length = length
        self.sent = 0

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.sent += len(chunk)
            if self.sent > self._length:
                raise OSError(f"upload source ran past its announced {self._length} bytes")
            yield chunk
        if self.sent != self._length:
            raise OSError(f"upload source ended after {self.sent} of {self._length} bytes")


def read_chunks(stream: IO[bytes], limit: int | None = None) -> Iterator[bytes]:
    remaining = limit
    while remaining is None or remaining > 0:
        chunk = stream.read(CHUNK if remaining is None else min(CHUNK, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def open_at(s3: Any, source: Source, start: int, end: int | None = None) -> IO[bytes]:
    """The decompressed file from byte ``start`` (to ``end``): a ranged GET for plain files; gzip cannot
    seek, so it is decompressed from the beginning and what lies before ``start`` dropped."""
    bucket, key, version = source["bucket"], source["key"], source.get("version_id")
    if not source["gzipped"]:
        return open_object(s3, bucket, key, version, f"bytes={start}-{'' if end is None else end - 1}")
    stream = open_decompressed(open_object(s3, bucket, key, version), gzipped=True)
    skipped = 0
    while skipped < start:
        data = stream.read(min(CHUNK, start - skipped))
        if not data:
            raise OSError(f"s3://{bucket}/{key} is shorter than when it was scanned")
        skipped += len(data)
    return stream


def part_chunks(s3: Any, source: Source, header: bytes, start: int, end: int) -> Iterator[bytes]:
    """The header line, then bytes [start, end) of the decompressed file."""
    yield header
    yield from read_chunks(open_at(s3, source, start, end), end - start)


class ChunksReader:
    """Chunks from a generator as a file-like ``read`` (what s3transfer's upload_fileobj takes), holding
    at most one chunk and one read's worth."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def read(self, amount: int = -1) -> bytes:
        pieces = [self._pending]
        held = len(self._pending)
        while amount < 0 or held < amount:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            pieces.append(chunk)
            held += len(chunk)
        data = b"".join(pieces)
        cut = len(data) if amount < 0 else amount
        data, self._pending = data[:cut], data[cut:]
        return data
