"""Which provider URLs may be fetched: https only, hosts on an allow-list, never a private address.

Allow-list entries are host names (``files.example.com``), suffix wildcards (``*.s3.amazonaws.com``) or
exact ``host:port`` pairs. A wildcard admits a host only if every address it resolves to is globally
routable unicast (not private, loopback, link-local, shared 100.64.0.0/10, multicast or reserved; an IPv6
address that embeds an IPv4 one is judged by that). Only an exact entry can admit an internal address
(that is how the sandbox allows its fake on 127.0.0.1).
"""

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from contact_jobs.errors import UrlNotAllowed

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)})
    except socket.gaierror:
        raise UrlNotAllowed(f"host {host} does not resolve") from None


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are an IPv4 address


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None


def is_public(address: str) -> bool:
    """Globally routable unicast. ``is_global`` alone admits multicast (and, for ``::ffff:100.64.0.1``,
    shared address space), so multicast, reserved and site-local are refused explicitly."""
    ip = ipaddress.ip_address(address)
    ip = _embedded_ipv4(ip) or ip
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or site_local)


class UrlGuard:
    def __init__(self, allowed: Sequence[str], resolver: Resolver = resolve) -> None:
        self._exact = {entry.lower() for entry in allowed if not entry.startswith("*.")}
        self._suffixes = tuple(entry[1:].lower() for entry in allowed if entry.startswith("*."))
        self._resolve = resolver

    def check(self, url: str) -> None:
        """Raise ``UrlNotAllowed`` naming the reason; the URL itself is not repeated (it may be signed)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https":
            raise UrlNotAllowed(f"refused a {parts.scheme or 'schemeless'} URL for host {host}: https only")
        if parts.username or parts.password:
            raise UrlNotAllowed(f"refused a URL with credentials for host {host}")
        netloc = f"{host}:{parts.port}" if parts.port else host
        if netloc in self._exact or (parts.port in (None, 443) and host in self._exact):
            return  # an exact entry is an explicit allowance, even for an internal address
        if not host.endswith(self._suffixes):  # False for an empty tuple: no wildcard, no match
            raise UrlNotAllowed(f"host {host} is not on the download allow-list")
        internal = [address for address in self._resolve(host) if not is_public(address)]
        if internal:
            raise UrlNotAllowed(
                f"host {host} resolves to an internal address, not a public one ({', '.join(internal)})"
            )
