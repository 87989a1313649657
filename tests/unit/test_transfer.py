"""The copy engine: streams a provider URL into S3, all or nothing."""

import base64
import gzip
import hashlib
import os
import threading
import zlib

import pytest
from awscrt import checksums

from contact_jobs import transfer
from contact_jobs.errors import CopyFailed, DownloadUrlExpired, UrlNotAllowed
from contact_jobs.transfer import BackgroundFeed, CopySettings, copy_url_to_s3
from contact_jobs.urlguard import UrlGuard
from tests.download_server import Route

SMALL_PARTS = CopySettings(part_size_mib=5, concurrency=2)  # 5 MiB: the smallest part S3 accepts


def guard_for(server) -> UrlGuard:
    return UrlGuard([server.host])


def copy(s3, server, path: str, key: str):
    """The copy engine from the test server into the test bucket, with that server allowed."""
    return copy_url_to_s3(s3, server.url(path), "backups", key, guard_for(server), SMALL_PARTS)


def no_trace_of(s3, prefix: str) -> bool:
    objects = s3.list_objects_v2(Bucket="backups", Prefix=prefix).get("KeyCount", 0)
    uploads = s3.list_multipart_uploads(Bucket="backups", Prefix=prefix).get("Uploads", [])
    return objects == 0 and not uploads


def test_gzip_bytes_are_stored_with_gz_suffix_and_their_hash(s3, download_server):
    body = gzip.compress(b"EMAIL\na@example.com\n" * 1000)
    download_server.routes["/export.csv.gzip"] = Route(body=body)
    result = copy(s3, download_server, "/export.csv.gzip", "b/part-1.csv")
    assert (result.key, result.gzip, result.bytes) == ("b/part-1.csv.gz", True, len(body))
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    stored = s3.get_object(Bucket="backups", Key="b/part-1.csv.gz")
    assert stored["Body"].read() == body
    assert stored["ContentType"] == "application/gzip"


def test_plain_bytes_named_gzip_are_stored_as_plain_csv(s3, download_server):
    body = b"EMAIL\na@example.com\n"
    download_server.routes["/export.csv.gzip"] = Route(body=body)
    result = copy(s3, download_server, "/export.csv.gzip", "b/part-1.csv")
    assert (result.key, result.gzip) == ("b/part-1.csv", False)
    assert s3.get_object(Bucket="backups", Key="b/part-1.csv")["Body"].read() == body


def test_multipart_copy_of_a_large_file_is_byte_identical(s3, download_server):
    body = os.urandom(12 * 1024 * 1024)
    download_server.routes["/big"] = Route(body=body)
    result = copy(s3, download_server, "/big", "b/big.csv")
    stored = s3.get_object(Bucket="backups", Key="b/big.csv")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == result.sha256 == hashlib.sha256(body).hexdigest()


def crc32c(body: bytes) -> bytes:
    return checksums.crc32c(body).to_bytes(4, "big")


def s3_crc32c(body: bytes, part_size: int) -> str:
    """The CRC-32C S3 keeps: the object's own for one PutObject, else the CRC-32C of the parts' CRC-32Cs
    (S3 appends "-<parts>"; moto does not)."""
    if len(body) < part_size:
        return base64.b64encode(crc32c(body)).decode()
    parts = b"".join(crc32c(body[start : start + part_size]) for start in range(0, len(body), part_size))
    return base64.b64encode(crc32c(parts)).decode()


@pytest.mark.parametrize("size", [1000, 12 * 1024 * 1024], ids=["put", "multipart"])
def test_every_upload_carries_a_crc32c_that_s3_checks_and_keeps(s3, download_server, size):
    body = os.urandom(size)
    download_server.routes["/f"] = Route(body=body)
    copy(s3, download_server, "/f", "b/f.csv")
    stored = s3.head_object(Bucket="backups", Key="b/f.csv", ChecksumMode="ENABLED")
    part_size = SMALL_PARTS.part_size_mib * 1024 * 1024
    assert stored.get("ChecksumCRC32C", "").split("-")[0] == s3_crc32c(body, part_size)


def test_without_awscrt_the_upload_carries_botocores_default_crc32(s3, download_server, monkeypatch):
    monkeypatch.setattr(transfer, "UPLOAD_CHECKSUM", {})  # as HAS_CRT False leaves it
    body = os.urandom(1000)
    download_server.routes["/f"] = Route(body=body)
    copy(s3, download_server, "/f", "b/f.csv")
    stored = s3.head_object(Bucket="backups", Key="b/f.csv", ChecksumMode="ENABLED")
    assert "ChecksumCRC32C" not in stored
    assert stored.get("ChecksumCRC32") == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def test_body_shorter_than_content_length_fails_and_aborts_the_multipart_upload(s3, download_server):
    body = os.urandom(12 * 1024 * 1024)
    download_server.routes["/cut"] = Route(body=body, send_bytes=11 * 1024 * 1024)  # two parts uploaded first
    with pytest.raises(CopyFailed, match="aborted"):
        copy(s3, download_server, "/cut", "b/cut.csv")
    assert no_trace_of(s3, "b/")


def test_small_body_shorter_than_content_length_leaves_no_object(s3, download_server):
    download_server.routes["/cut"] = Route(body=b"x" * 1000, send_bytes=10)
    with pytest.raises(CopyFailed):
        copy(s3, download_server, "/cut", "b/cut.csv")
    assert no_trace_of(s3, "b/")


def test_the_api_key_and_no_credentials_are_sent_to_download_urls(s3, download_server):
    download_server.routes["/f"] = Route(body=b"EMAIL\n")
    copy(s3, download_server, "/f", "b/f.csv")
    headers = {name.lower() for name in download_server.seen_headers[0]}
    assert "authorization" not in headers
    assert "cookie" not in headers


def test_refused_url_is_reported_as_expired(s3, download_server):
    download_server.routes["/gone"] = Route(status=403, body=b"<Error><Code>AccessDenied</Code></Error>")
    with pytest.raises(DownloadUrlExpired, match="HTTP 403"):
        copy(s3, download_server, "/gone", "b/g.csv")
    assert no_trace_of(s3, "b/")


def test_redirect_is_refused_and_not_followed(s3, download_server):
    download_server.routes["/moved"] = Route(status=302, headers={"Location": download_server.url("/f")})
    download_server.routes["/f"] = Route(body=b"EMAIL\n")
    with pytest.raises(UrlNotAllowed, match="redirect"):
        copy(s3, download_server, "/moved", "b/m.csv")
    assert len(download_server.seen_headers) == 1, "the redirect target was never requested"
    assert no_trace_of(s3, "b/")


def test_plain_http_is_refused_before_any_request(s3, download_server):
    with pytest.raises(UrlNotAllowed, match="https only"):
        copy_url_to_s3(
            s3,
            f"http://{download_server.host}/f",
            "backups",
            "b/h.csv",
            guard_for(download_server),
            SMALL_PARTS,
        )
    assert download_server.seen_headers == []


def test_host_off_the_allow_list_is_refused_before_any_request(s3, download_server):
    with pytest.raises(UrlNotAllowed, match="not on the download allow-list"):
        copy_url_to_s3(
            s3, download_server.url("/f"), "backups", "b/h.csv", UrlGuard(["*.s3.amazonaws.com"]), SMALL_PARTS
        )
    assert download_server.seen_headers == []


def test_a_host_resolving_to_a_private_address_is_refused_before_any_byte_is_written(s3, download_server):
    internal = UrlGuard(["*.files.example"], resolver=lambda host: ["10.1.2.3"])
    with pytest.raises(UrlNotAllowed, match="internal address"):
        copy_url_to_s3(s3, "https://exports.files.example/f.csv", "backups", "b/p.csv", internal, SMALL_PARTS)
    assert no_trace_of(s3, "b/")
    assert download_server.seen_headers == []


class Failing:
    """A consumer that fails on its n-th chunk (as a stream check would on bad bytes)."""

    def __init__(self, on: int = 2) -> None:
        self.seen = 0
        self.on = on

    def update(self, data: bytes) -> None:
        self.seen += 1
        if self.seen == self.on:
            raise ValueError("bad chunk")


class Gated:
    """A consumer that blocks until released: the reader must stall, not queue without end."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.chunks: list[bytes] = []

    def update(self, data: bytes) -> None:
        self.release.wait(timeout=10)
        self.chunks.append(data)


def test_hashing_thread_gives_hashlibs_digest_of_the_same_bytes():
    chunks = [os.urandom(size) for size in (1, 3 * 1024 * 1024, 0, 4095, 8 * 1024 * 1024)]
    digest = hashlib.sha256()
    feed = BackgroundFeed([digest])
    for chunk in chunks:
        feed.put(chunk)
    feed.close()
    assert digest.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()


def test_a_consumers_error_is_raised_to_the_reader():
    feed = BackgroundFeed([Failing()])
    feed.put(b"a" * 10)
    feed.put(b"b" * 10)
    with pytest.raises(ValueError, match="bad chunk"):
        feed.close()
    with pytest.raises(ValueError, match="bad chunk"):  # and at the next put, even after close
        feed.put(b"c")


def test_the_queue_is_bounded_so_a_slow_consumer_stalls_the_reader():
    consumer = Gated()
    feed = BackgroundFeed([consumer], depth=2)
    fed = 0

    def reader() -> None:
        nonlocal fed
        for _ in range(10):
            feed.put(b"x")
            fed += 1

    thread = threading.Thread(target=reader)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive()  # blocked: one chunk in the consumer, two queued, the fourth put waits
    assert fed == 3
    consumer.release.set()
    thread.join(timeout=10)
    feed.close()
    assert len(consumer.chunks) == 10


def test_a_consumers_error_aborts_the_upload(s3, download_server, monkeypatch):
    """A consumer failing on the last chunk (12 MiB in 5 MiB parts: the third) is heard at the end of the
    stream, where the reader waits for its consumers inside s3transfer's read: the copy fails with its
    error before any complete, and leaves no object and no multipart upload behind."""
    body = os.urandom(12 * 1024 * 1024)
    download_server.routes["/big"] = Route(body=body)
    monkeypatch.setattr(
        "contact_jobs.transfer.BackgroundFeed", lambda consumers: BackgroundFeed([*consumers, Failing(on=3)])
    )
    with pytest.raises(ValueError, match="bad chunk"):
        copy(s3, download_server, "/big", "b/failing.csv")
    assert no_trace_of(s3, "b/failing")
