"""A gzip file checked while it streams: the verifier on its own, then the copy engine downloading from
the fake SendGrid on 127.0.0.1 with and without Content-Length, into moto's S3."""

import gzip
import os
from collections.abc import Iterator

import pytest

from contact_jobs.errors import CopyFailed
from contact_jobs.gzipcheck import GzipVerifier
from contact_jobs.http import provider_session
from contact_jobs.providers.base import ExportRequest
from contact_jobs.providers.sendgrid.client import SendGridClient
from contact_jobs.transfer import CopySettings, copy_url_to_s3
from contact_jobs.urlguard import UrlGuard
from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions

CONTENT = os.urandom(200_000) + b"EMAIL\na@example.com\n" * 50_000  # some of it compresses, some not
WHOLE = gzip.compress(CONTENT, mtime=0)


def verify(data: bytes, chunk: int = 64 * 1024) -> GzipVerifier:
    verifier = GzipVerifier()
    for start in range(0, len(data), chunk):
        verifier.update(data[start : start + chunk])
    verifier.finish()
    return verifier


def flipped(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_a_whole_gzip_file_passes():
    assert verify(WHOLE).members == 1


def test_a_multi_member_gzip_file_passes_with_every_member_checked():
    assert verify(WHOLE + gzip.compress(b"more\n") + WHOLE, chunk=1000).members == 3


def test_a_gzip_file_cut_short_fails_naming_the_missing_trailer():
    for cut in (len(WHOLE) - 1, len(WHOLE) - 8, len(WHOLE) // 2, 5):
        with pytest.raises(CopyFailed, match=r"gzip file is cut short: member 1 has no trailer"):
            verify(WHOLE[:cut])


def test_a_second_member_cut_short_fails_naming_it():
    with pytest.raises(CopyFailed, match="member 2 has no trailer"):
        verify(WHOLE + WHOLE[:-3])


def test_a_wrong_crc32_fails_naming_it():
    with pytest.raises(CopyFailed, match="member 1 is corrupt: CRC-32 does not match its trailer"):
        verify(flipped(WHOLE, len(WHOLE) - 8))


def test_a_wrong_length_fails_naming_isize():
    with pytest.raises(CopyFailed, match=r"length does not match its trailer \(ISIZE\)"):
        verify(flipped(WHOLE, len(WHOLE) - 4))


def test_corrupted_compressed_data_fails():
    with pytest.raises(CopyFailed, match="member 1 is corrupt"):
        verify(flipped(WHOLE, len(WHOLE) // 2))


def test_trailing_bytes_that_are_not_gzip_fail_and_zero_padding_passes():
    assert verify(WHOLE + b"\x00" * 512).members == 1
    with pytest.raises(CopyFailed, match="4 trailing bytes after member 1 that are not gzip"):
        verify(WHOLE + b"junk")


def test_a_plain_file_is_not_gzip():
    with pytest.raises(CopyFailed, match=r"member 1 is corrupt: its header is not gzip's"):
        verify(b"EMAIL\na@example.com\n")


@pytest.mark.slow
def test_memory_stays_bounded_on_a_highly_compressed_file():
    # 256 MiB of zeros compress to about 256 KiB; the verifier never holds more than a chunk of output.
    import tracemalloc

    bomb = gzip.compress(b"\x00" * (256 * 1024 * 1024), compresslevel=1)
    tracemalloc.start()
    verify(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"


# The copy engine, downloading from the fake SendGrid ------------------------------------------------


@pytest.fixture
def fake(fake_options: FakeSendGridOptions) -> Iterator[FakeSendGrid]:
    fake_options.contacts = 20_000  # about 1.3 MB of CSV: several reads, gzip about 300 KB
    with FakeSendGrid(fake_options) as server:
        yield server


def copy_export_file(s3, fake: FakeSendGrid, key: str = "b/part-00001.csv"):
    client = SendGridClient(fake.base_url, fake.options.api_key, provider_session(1, 1), 10)
    export_id = client.start_export(ExportRequest())
    (url,) = client.export_status(export_id).urls
    guard = UrlGuard([fake.base_url.removeprefix("https://")])
    return copy_url_to_s3(s3, url, "backups", key, guard, CopySettings(part_size_mib=5, concurrency=2))


def nothing_under(s3, prefix: str) -> bool:
    objects = s3.list_objects_v2(Bucket="backups", Prefix=prefix).get("KeyCount", 0)
    uploads = s3.list_multipart_uploads(Bucket="backups", Prefix=prefix).get("Uploads", [])
    return objects == 0 and not uploads


def test_a_whole_gzip_file_without_content_length_is_stored(s3, fake):
    fake.options.serve_without_content_length = True
    result = copy_export_file(s3, fake)
    assert result.gzip
    assert (
        s3.get_object(Bucket="backups", Key=result.key)["Body"].read()
        == fake.exports[next(iter(fake.exports))].files[0]
    )


def test_a_gzip_file_cut_short_without_content_length_fails_and_leaves_nothing(s3, fake):
    fake.options.serve_without_content_length = True
    fake.options.truncate_after_bytes = 100_000
    with pytest.raises(CopyFailed, match="gzip file is cut short"):
        copy_export_file(s3, fake)
    assert nothing_under(s3, "b/")


def test_a_gzip_file_cut_short_with_content_length_fails_and_leaves_nothing(s3, fake):
    fake.options.truncate_after_bytes = 100_000
    with pytest.raises(CopyFailed, match=r"IncompleteRead\(100000 bytes read"):
        copy_export_file(s3, fake)
    assert nothing_under(s3, "b/")


def test_a_plain_file_without_content_length_is_refused_by_name(s3, fake):
    fake.options.serve_without_content_length = True
    fake.options.gzip_files = False
    with pytest.raises(CopyFailed, match=r"plain \(not gzip\) file without Content-Length"):
        copy_export_file(s3, fake)
    assert nothing_under(s3, "b/")


def test_a_plain_file_with_content_length_is_still_stored(s3, fake):
    fake.options.gzip_files = False
    result = copy_export_file(s3, fake)
    assert (result.gzip, result.key) == (False, "b/part-00001.csv")
