"""Which provider URLs may be fetched: https only, hosts on an allow-list, never a private address.

Allow-list entries are host names (``files.example.com``), suffix wildcards (``*.s3.amazonaws.com``) or
exact ``host:port`` pairs. A wildcard never admits a host that resolves to a private, loopback or
link-local address; only an exact entry can (that is how the sandbox allows its fake on 127.0.0.1).
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


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified


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
        internal = [address for address in self._resolve(host) if _is_internal(address)]
        if internal:
            raise UrlNotAllowed(f"host {host} resolves to an internal address ({', '.join(internal)})")
