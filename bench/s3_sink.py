"""A null S3 for benchmarks: just enough of the S3 API (CreateBucket, CreateMultipartUpload, UploadPart,
CompleteMultipartUpload, AbortMultipartUpload, PutObject) for boto3 and s3transfer, over plain http on
127.0.0.1. Every body is read to its Content-Length and checked against the checksum the client sent
(CRC-32 by default in botocore, CRC-32C as the copy engine sends it, or Content-MD5), counted, and
discarded; a complete checks that the parts listed are the parts received. ``GET /_sizes`` answers the
stored sizes as JSON, so that the benchmark can check each copy arrived whole. Own process (its CPU is not
the copier's); prints its port.
"""

import base64
import hashlib
import json
import re
import threading
import uuid
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from awscrt import checksums

CHUNK = 1024 * 1024
_PART = re.compile(rb"<PartNumber>(\d+)</PartNumber>")
# The running CRCs a client may send (x-amz-checksum-<name>): the function and the digest's width.
CRCS: dict[str, tuple[Callable[[Any, int], int], int]] = {
    "crc32": (zlib.crc32, 4),
    "crc32c": (checksums.crc32c, 4),
}


class Store:
    """What arrived: per upload, each part's size and ETag; per key, the completed object's size."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.uploads: dict[str, dict[int, tuple[int, str]]] = {}
        self.sizes: dict[str, int] = {}


STORE = Store()


class BadBody(Exception):
    pass


class Check:
    """The checksum the client sent, computed over the body as it arrives: a CRC is cheap enough not to
    make the sink the bottleneck; MD5 only when it is the one the client sent."""

    def __init__(self, name: str, expected: str) -> None:
        self.name, self.expected = name, expected
        self._md5 = hashlib.md5(usedforsecurity=False) if name == "md5" else None
        self._crc = 0

    @classmethod
    def sent(cls, headers: Any) -> "Check | None":
        for name in CRCS:
            if expected := headers.get(f"x-amz-checksum-{name}"):
                return cls(name, expected)
        md5 = headers.get("Content-MD5")
        return cls("md5", md5) if md5 else None

    def update(self, data: memoryview) -> None:
        if self._md5 is not None:
            self._md5.update(data)
        else:
            self._crc = CRCS[self.name][0](data, self._crc)

    def matches(self) -> bool:
        digest = (
            self._md5.digest() if self._md5 is not None else self._crc.to_bytes(CRCS[self.name][1], "big")
        )
        return base64.b64encode(digest).decode() == self.expected


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drain(self) -> tuple[int, str]:
        """Read the body into one reused buffer (nothing kept), checked against the client's checksum."""
        length = int(self.headers.get("Content-Length") or 0)
        check = Check.sent(self.headers)
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        received = 0
        while received < length:
            got = self.rfile.readinto(view[: min(CHUNK, length - received)])
            if not got:
                raise BadBody(f"body cut short at {received} of {length} bytes")
            received += got
            if check:
                check.update(view[:got])
        if check and not check.matches():
            raise BadBody(f"{check.name} mismatch")
        return received, f'"{uuid.uuid4().hex}{received:x}"'

    def do_PUT(self) -> None:
        path, query = self._target()
        if "/" not in path:  # CreateBucket
            self._reply(200)
            return
        try:
            size, etag = self._drain()
        except BadBody as exc:
            self._reply(400, str(exc).encode())
            return
        if "uploadId" in query:
            with STORE.lock:
                parts = STORE.uploads.get(query["uploadId"])
                if parts is None:
                    self._reply(404, b"NoSuchUpload")
                    return
                parts[int(query["partNumber"])] = (size, etag)
        else:
            with STORE.lock:
                STORE.sizes[path] = size
        self._reply(200, ETag=etag)

    def do_POST(self) -> None:
        path, query = self._target()
        if "uploads" in query:
            upload_id = uuid.uuid4().hex
            with STORE.lock:
                STORE.uploads[upload_id] = {}
            bucket, key = path.split("/", 1)
            body = (
                f"<InitiateMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{key}</Key>"
                f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>"
            )
            self._reply(200, body.encode())
            return
        self._complete(path, query["uploadId"])

    def _complete(self, path: str, upload_id: str) -> None:
        listed = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        numbers = [int(match.group(1)) for match in _PART.finditer(listed)]
        with STORE.lock:
            parts = STORE.uploads.pop(upload_id, None)
            if parts is None or sorted(parts) != numbers or numbers != list(range(1, len(numbers) + 1)):
                self._reply(400, b"InvalidPart")
                return
            STORE.sizes[path] = sum(size for size, _ in parts.values())
        bucket, key = path.split("/", 1)
        body = (
            f"<CompleteMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{key}</Key>"
            f'<ETag>"x-{len(numbers)}"</ETag></CompleteMultipartUploadResult>'
        )
        self._reply(200, body.encode())

    def do_DELETE(self) -> None:
        path, query = self._target()
        with STORE.lock:
            if "uploadId" in query:
                STORE.uploads.pop(query["uploadId"], None)
            else:
                STORE.sizes.pop(path, None)
        self._reply(204)

    def do_GET(self) -> None:
        with STORE.lock:
            body = json.dumps(STORE.sizes).encode()
        self._reply(200, body, Content_Type="application/json")

    def _target(self) -> tuple[str, dict[str, str]]:
        split = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(split.query, keep_blank_values=True).items()}
        return split.path.strip("/"), query

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
