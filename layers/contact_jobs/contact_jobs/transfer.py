"""Copy bytes from an expiring provider URL into S3: streamed, counted, hashed, and all or nothing.

The download is read in part-sized pieces and handed to s3transfer, which runs the multipart upload
with a bounded number of parts in memory and aborts it if anything fails. A short or long body (against
``Content-Length``) fails the read before the upload can complete, so no partial object ever appears
under the final key. A gzip file served without ``Content-Length`` is checked as it streams instead (each
member's CRC-32 and length against its trailer), so one cut short fails the same way; a plain file
without ``Content-Length`` is refused, as nothing could tell it was cut short.
"""

import hashlib
import queue
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from boto3.s3.transfer import TransferConfig
from botocore.compat import HAS_CRT
from botocore.exceptions import ClientError

from contact_jobs.errors import CopyFailed, DownloadUrlExpired, ProviderError, TransientError, UrlNotAllowed
from contact_jobs.gzipcheck import GzipVerifier
from contact_jobs.urlguard import UrlGuard

GZIP_MAGIC = b"\x1f\x8b"
MIB = 1024 * 1024
EXPIRED_STATUSES = frozenset({401, 403, 404, 410})  # how S3 presigned URLs refuse once they lapse
# S3 checks every part against the checksum the client sends. botocore's default, CRC-32, costs about
# 0.45 CPU s per GiB here; CRC-32C, computed in hardware by awscrt, about 0.03. (CRC-64/NVME costs the same
# but is a full-object checksum only, which moto, under every test, builds by copying the whole object again
# in memory.) botocore computes CRC-32C only with awscrt, which CopyExportFile ships
# (functions/copy_export_file/requirements.txt); without it, the default CRC-32 is sent.
UPLOAD_CHECKSUM = {"ChecksumAlgorithm": "CRC32C"} if HAS_CRT else {}


@dataclass(frozen=True)
class CopyResult:
    bucket: str
    key: str
    bytes: int
    sha256: str
    gzip: bool


@dataclass(frozen=True)
class CopySettings:
    part_size_mib: int = 8
    concurrency: int = 10  # part uploads in flight, as boto3's default; memory is bounded by buffered_parts
    buffered_parts: int = 10  # parts read ahead of the uploads: what bounds memory (parts x part size)
    connect_timeout_s: float = 10
    read_timeout_s: float = 60

    def transfer_config(self) -> TransferConfig:
        part = self.part_size_mib * MIB
        config = TransferConfig(
            multipart_threshold=part,
            multipart_chunksize=part,
            max_concurrency=self.concurrency,
            use_threads=True,
        )
        # Parts read but not yet uploaded: this is what bounds memory. boto3's TransferConfig does not
        # take it as an argument, but s3transfer's manager reads the attribute.
        config.max_in_memory_upload_chunks = self.buffered_parts
        return config


class ObjectExists(CopyFailed):
    """The key already held an object (another attempt's): the conditional write refused to overwrite it,
    and the multipart upload was aborted. ``result`` is what this attempt read."""

    def __init__(self, message: str, result: CopyResult) -> None:
        super().__init__(message)
        self.result = result


# Keys being written by copy_url_to_s3 right now. s3transfer passes no IfNoneMatch to PutObject or
# CompleteMultipartUpload, and runs them on its own threads: a client-wide hook adds it for these keys.
# Counted: two attempts of one copy may run in one process (a retried Task beside a late Lambda).
_CONDITIONAL_KEYS: Counter[tuple[str, str]] = Counter()
_CONDITIONAL_LOCK = threading.Lock()
REFUSED_WRITE_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


def _if_none_match(params: dict[str, Any], **_: Any) -> None:
    with _CONDITIONAL_LOCK:
        conditional = _CONDITIONAL_KEYS[(str(params.get("Bucket")), str(params.get("Key")))] > 0
    if conditional:
        params["IfNoneMatch"] = "*"  # a late writer fails instead of overwriting what another stored


def _never_overwrite(s3: Any) -> None:
    for operation in ("PutObject", "CompleteMultipartUpload"):
        s3.meta.events.register(
            f"before-parameter-build.s3.{operation}", _if_none_match, unique_id=f"contact-jobs-{operation}"
        )


class ChunkConsumer(Protocol):
    """Anything fed the copied bytes in order, as hashlib's objects are."""

    def update(self, data: bytes, /) -> None: ...


class BackgroundFeed:
    """Feeds each chunk to consumers (the SHA-256 for the manifest) on a thread of its own.

    The chunks are read on s3transfer's one submission thread, which also slices them into parts: hashing
    there (about half a second per GiB) stalls the reads that every upload waits for. hashlib releases the
    GIL on large buffers, so a thread of its own hashes beside the reads. The queue is bounded: a hasher
    that falls behind holds back the reads instead of holding copies of the stream (each queued chunk is
    the same bytes object s3transfer uploads, not a copy). A consumer's error is raised to the reader, at
    its next ``put`` or at ``close``.
    """

    def __init__(self, consumers: list[ChunkConsumer], depth: int = 4) -> None:
        self._consumers = consumers
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="copy-hash", daemon=True)
        self._thread.start()

    def put(self, data: bytes) -> None:
        self._raise_error()
        if not data:
            return
        if self._closed:
            raise RuntimeError("chunk fed after the end of the stream")
        self._queue.put(data)

    def close(self, raise_error: bool = True) -> None:
        """Wait until every chunk fed so far is consumed; then raise a consumer's error, if asked."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
        if raise_error:
            self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep draining so that a blocked put returns and sees the error
            try:
                for consumer in self._consumers:
                    consumer.update(data)
            except BaseException as exc:  # handed to the reading thread, raised there
                self._error = exc


class CountingReader:
    """A file-like view of a response body that hashes and counts, and fails on a wrong length."""

    def __init__(
        self, raw: Any, head: bytes, expected: int | None, verifier: GzipVerifier | None = None
    ) -> None:
        self._raw = raw
        self._head = head
        self._expected = expected
        self._verifier = verifier  # checks the content as it passes (a gzip file's trailers)
        self.bytes = 0
        self._sha256 = hashlib.sha256()
        self._feed = BackgroundFeed([self._sha256])

    @property
    def sha256(self) -> str:
        """The digest of every byte read (waits for the hashing thread to finish)."""
        self._feed.close()
        return self._sha256.hexdigest()

    def close(self) -> None:
        """End the hashing thread without raising (the copy's own error, if any, is the one to report)."""
        self._feed.close(raise_error=False)

    def read(self, amount: int = -1) -> bytes:
        data = self._fill(amount)
        self.bytes += len(data)
        self._feed.put(data)
        if self._verifier is not None:
            self._verifier.update(data)
        if self._expected is not None and self.bytes > self._expected:
            raise CopyFailed(f"received more than the announced {self._expected} bytes")
        if not data or (amount > 0 and len(data) < amount):
            self._check_complete()
            # The end of the stream: wait for the consumers here, inside s3transfer's read, so that a
            # consumer's error aborts the upload before CompleteMultipartUpload (or PutObject) is sent.
            self._feed.close()
        return data

    def _fill(self, amount: int) -> bytes:
        head, self._head = self._head, b""
        if amount is None or amount < 0:
            rest: bytes = self._raw.read()
            return head + rest
        chunks = [head] if head else []
        missing = amount - len(head)
        while missing > 0:  # a socket read may return less than asked; parts must be full-sized
            chunk = self._raw.read(missing)
            if not chunk:
                break
            chunks.append(chunk)
            missing -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # no copy of a part read whole

    def _check_complete(self) -> None:
        """At the end of the body, before s3transfer can complete the upload: raising here aborts it."""
        if self._expected is not None and self.bytes != self._expected:
            raise CopyFailed(f"received {self.bytes} bytes, Content-Length announced {self._expected}")
        if self._verifier is not None:
            self._verifier.finish()


def _presigned_request(
    method: str, url: str, guard: UrlGuard, settings: CopySettings, action: str, **kwargs: Any
) -> requests.Response:
    """One request to a provider's presigned URL: guarded, bare (no API key, no cookies), no redirects.
    A refusal is raised as the error the workflow acts on; the URL itself is never repeated (it is signed)."""
    guard.check(url)
    host = urlsplit(url).hostname
    timeout = (settings.connect_timeout_s, settings.read_timeout_s)
    try:
        response = requests.request(method, url, allow_redirects=False, timeout=timeout, **kwargs)
    except (requests.RequestException, OSError) as exc:
        raise TransientError(f"{action} {host} failed: {type(exc).__name__}") from None
    status = response.status_code
    if 200 <= status < 300:
        return response
    with response:  # closed once the error is built
        if 300 <= status < 400:
            raise UrlNotAllowed(f"{action} {host} answered with a redirect (HTTP {status})")
        if method == "GET" and status in EXPIRED_STATUSES:
            raise DownloadUrlExpired(f"{action} {host} refused with HTTP {status}")
        if status >= 500:
            raise TransientError(f"{action} {host} failed with HTTP {status}")
        detail = response.content[:200].decode(errors="replace")  # error bodies are short XML
        raise ProviderError(f"{action} {host} refused with HTTP {status}: {detail}")


def open_download(url: str, guard: UrlGuard, settings: CopySettings) -> requests.Response:
    """GET a provider's download URL as a stream, bytes as stored (no transparent decompression)."""
    return _presigned_request(
        "GET", url, guard, settings, "download from", stream=True, headers={"Accept-Encoding": "identity"}
    )


def copy_url_to_s3(
    s3: Any, url: str, bucket: str, key: str, guard: UrlGuard, settings: CopySettings
) -> CopyResult:
    """Stream ``url`` into ``s3://bucket/key`` (``.gz`` appended when the bytes are gzip)."""
    response = open_download(url, guard, settings)
    try:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        head = response.raw.read(len(GZIP_MAGIC), decode_content=False)
        gzipped = head == GZIP_MAGIC  # the file name says .gzip even when it is not: trust the bytes
        final_key = f"{key}.gz" if gzipped else key
        if expected is None and not gzipped:
            # Nothing could tell a plain file cut short from a whole one (a cut at a line end parses).
            raise CopyFailed(
                f"download for s3://{bucket}/{final_key} is a plain (not gzip) file without Content-Length:"
                " its completeness cannot be checked, refused"
            )
        # Without a length, a gzip file's trailers are what proves it whole. With one, the length does
        # (TLS guards the bytes themselves), and inflating every file would cost about 25x the SHA-256
        # per GiB on the reading thread (bench/gzip_verifier.py: ~21 CPU s per GiB of gzip, SHA-256 0.8).
        verifier = GzipVerifier() if gzipped and expected is None else None
        reader = CountingReader(response.raw, head, expected, verifier)
        extra = {"ContentType": "application/gzip" if gzipped else "text/csv", **UPLOAD_CHECKSUM}
        _never_overwrite(s3)
        with _CONDITIONAL_LOCK:
            _CONDITIONAL_KEYS[(bucket, final_key)] += 1
        try:
            s3.upload_fileobj(reader, bucket, final_key, ExtraArgs=extra, Config=settings.transfer_config())
        except ClientError as exc:
            # A refused complete: s3transfer has aborted the multipart upload (its failure cleanup).
            if exc.response.get("Error", {}).get("Code") not in REFUSED_WRITE_CODES:
                raise
            result = CopyResult(bucket, final_key, reader.bytes, reader.sha256, gzipped)
            raise ObjectExists(f"s3://{bucket}/{final_key} already exists; not overwritten", result) from None
        except Exception as exc:
            # urllib3 errors (a body cut short, a read timeout) surface from inside s3transfer's threads.
            if not isinstance(exc, (CopyFailed, requests.RequestException, OSError)) and not type(
                exc
            ).__module__.startswith("urllib3"):
                raise
            raise CopyFailed(
                f"copy to s3://{bucket}/{final_key} aborted after {reader.bytes} bytes: {exc}"
            ) from None
        finally:
            reader.close()  # the hashing thread ends with the copy, whether it succeeded or not
            with _CONDITIONAL_LOCK:
                _CONDITIONAL_KEYS[(bucket, final_key)] -= 1
                if _CONDITIONAL_KEYS[(bucket, final_key)] <= 0:
                    del _CONDITIONAL_KEYS[(bucket, final_key)]
        return CopyResult(bucket, final_key, reader.bytes, reader.sha256, gzipped)
    finally:
        response.close()


def upload_to_url(
    url: str, headers: dict[str, str], body: Any, guard: UrlGuard, settings: CopySettings
) -> None:
    """PUT a body to a provider's presigned upload URL: every header it asked for and an explicit
    Content-Length (from ``len(body)``)."""
    _presigned_request("PUT", url, guard, settings, "upload to", data=body, headers=headers).close()
