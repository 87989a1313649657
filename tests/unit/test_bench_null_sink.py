"""The benchmark's null S3 (bench/s3_sink.py) checks the checksum each upload carries, as S3 does: a copy
measured into it has really sent what it claims."""

import base64
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import boto3
import pytest
import requests
from awscrt import checksums
from botocore.config import Config

from bench import s3_sink


@pytest.fixture
def sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), s3_sink.Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def stored_sizes(sink: str) -> dict[str, int]:
    sizes: dict[str, int] = requests.get(f"{sink}/_sizes", timeout=10).json()
    return sizes


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C"])  # botocore's default, the copy engine's
def test_an_upload_whose_checksum_matches_is_checked_and_counted(sink, algorithm):
    s3 = boto3.client(
        "s3", endpoint_url=sink, region_name="us-east-1", aws_access_key_id="b", aws_secret_access_key="b",
        config=Config(s3={"payload_signing_enabled": False}),
    )  # fmt: skip
    s3.put_object(Bucket="bench", Key=algorithm, Body=b"x" * 1000, ChecksumAlgorithm=algorithm)
    assert stored_sizes(sink)[f"bench/{algorithm}"] == 1000


@pytest.mark.parametrize("name", ["crc32", "crc32c"])
def test_a_body_that_does_not_match_its_checksum_is_refused(sink, name):
    wrong = base64.b64encode(checksums.crc32(b"other bytes").to_bytes(4, "big")).decode()
    answer = requests.put(
        f"{sink}/bench/refused-{name}",
        data=b"x" * 1000,
        headers={f"x-amz-checksum-{name}": wrong},
        timeout=10,
    )
    assert (answer.status_code, answer.text) == (400, f"{name} mismatch")
    assert f"bench/refused-{name}" not in stored_sizes(sink)
