"""Which URLs the copy engine may fetch."""

import pytest

from contact_jobs.errors import UrlNotAllowed
from contact_jobs.urlguard import UrlGuard


def resolver(address: str):
    return lambda host: [address]


def test_wildcard_admits_a_subdomain_with_a_public_address():
    UrlGuard(["*.s3.amazonaws.com"], resolver("52.95.1.1")).check("https://bucket.s3.amazonaws.com/x?sig=1")


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "192.168.1.1", "::1"])
def test_wildcard_never_admits_an_internal_address(address):
    with pytest.raises(UrlNotAllowed, match="internal address"):
        UrlGuard(["*.s3.amazonaws.com"], resolver(address)).check("https://evil.s3.amazonaws.com/x")


def test_wildcard_does_not_match_a_lookalike_host():
    with pytest.raises(UrlNotAllowed, match="allow-list"):
        UrlGuard(["*.s3.amazonaws.com"], resolver("52.95.1.1")).check(
            "https://evil-s3.amazonaws.com.example.org/x"
        )


def test_exact_host_and_port_is_an_explicit_allowance():
    UrlGuard(["127.0.0.1:8443"], resolver("127.0.0.1")).check("https://127.0.0.1:8443/files/1")


def test_exact_host_does_not_admit_another_port():
    with pytest.raises(UrlNotAllowed):
        UrlGuard(["127.0.0.1:8443"], resolver("127.0.0.1")).check("https://127.0.0.1:9000/files/1")


def test_credentials_in_the_url_are_refused():
    with pytest.raises(UrlNotAllowed, match="credentials"):
        UrlGuard(["files.example.com"]).check("https://user:pw@files.example.com/x")


def test_the_refusal_does_not_repeat_the_signed_url():
    with pytest.raises(UrlNotAllowed) as raised:
        UrlGuard(["files.example.com"]).check("http://files.example.com/x?Signature=secret")
    assert "secret" not in str(raised.value)
