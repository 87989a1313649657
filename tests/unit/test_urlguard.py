"""Which URLs the copy engine may fetch."""

import re

import pytest

from contact_jobs.errors import UrlNotAllowed
from contact_jobs.urlguard import UrlGuard


def resolver(address: str):
    return lambda host: [address]


NOT_PUBLIC = {
    "private 10/8": "10.0.0.5",
    "loopback": "127.0.0.1",
    "link-local (instance metadata)": "169.254.169.254",
    "private 192.168/16": "192.168.1.1",
    "shared address space 100.64/10 (carrier-grade NAT)": "100.64.0.1",
    "shared address space, top": "100.127.255.254",
    "multicast 224/4": "224.0.0.251",
    "multicast, administratively scoped": "239.255.255.250",
    "multicast, GLOP": "233.252.0.1",
    "reserved 240/4": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "unspecified": "0.0.0.0",
    "benchmarking 198.18/15": "198.18.0.1",
    "documentation TEST-NET-1": "192.0.2.1",
    "IPv6 loopback": "::1",
    "IPv6 unspecified": "::",
    "IPv6 link-local": "fe80::1",
    "IPv6 unique local": "fd00::1",
    "IPv6 site-local (deprecated)": "fec0::1",
    "IPv6 multicast, global scope": "ff0e::1",
    "IPv6 multicast, link scope": "ff02::1",
    "IPv6 documentation": "2001:db8::1",
    "IPv4-mapped private": "::ffff:10.0.0.5",
    "IPv4-mapped shared address space": "::ffff:100.64.0.1",
    "IPv4-mapped multicast": "::ffff:224.0.0.251",
    "NAT64 of a private address": "64:ff9b::a00:5",
    "6to4 of a private address": "2002:a00:5::1",
    "Teredo": "2001::1",
}
PUBLIC = {
    "IPv4": "52.95.1.1",
    "IPv6": "2600:1f18::1",
    "IPv4-mapped public": "::ffff:52.95.1.1",
    "NAT64 of a public address": "64:ff9b::345f:101",
}


@pytest.mark.parametrize("address", NOT_PUBLIC.values(), ids=NOT_PUBLIC.keys())
def test_wildcard_never_admits_an_address_that_is_not_globally_routable(address):
    with pytest.raises(UrlNotAllowed, match=re.escape(f"internal address, not a public one ({address})")):
        UrlGuard(["*.s3.amazonaws.com"], resolver(address)).check("https://evil.s3.amazonaws.com/x")


@pytest.mark.parametrize("address", PUBLIC.values(), ids=PUBLIC.keys())
def test_wildcard_admits_a_globally_routable_address(address):
    UrlGuard(["*.s3.amazonaws.com"], resolver(address)).check("https://bucket.s3.amazonaws.com/x")


def test_one_internal_address_among_public_ones_is_enough_to_refuse():
    guard = UrlGuard(["*.s3.amazonaws.com"], lambda host: ["52.95.1.1", "100.64.0.1"])
    with pytest.raises(UrlNotAllowed, match=r"\(100\.64\.0\.1\)"):
        guard.check("https://evil.s3.amazonaws.com/x")


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
