"""Where a fetch may go: never to a link-local or cloud metadata address, and not from a
public address to a private one unless `settings.allow_private_networks` says so.

A feed listed at a loopback or private address is the user's choice and is fetched; a
public server that redirects there (or a public page whose links lead there) is not,
or any blog could make the aggregator read the machines behind its owner's firewall.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Link-local (cloud metadata services live there: 169.254.169.254) and AWS's IPv6 one.
NEVER = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
         ipaddress.ip_network("fd00:ec2::254/128"))


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, as the connection would look them up."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class AddressPolicy:
    """What a fetch may reach; `resolve` is swapped in tests for names of their own."""

    allow_private: bool = False
    resolve: Callable[[str, int], Sequence[str]] = resolve_host

    def refusal(self, url: str, origin: str | None = None) -> str | None:
        """Why `url` may not be fetched, or None. `origin` is where the request comes
        from (the first address of a redirect chain, the page a link was found on)."""
        host, found = self._lookup(url)
        for address in found:
            if any(address in network for network in NEVER):
                return f"refused: {host} is a link-local or cloud metadata address ({address})"
        if origin is None or self.allow_private or not found:
            return None
        private = next((a for a in found if not a.is_global), None)
        origin_host, from_found = self._lookup(origin)
        if private is None or not from_found or not all(a.is_global for a in from_found):
            return None
        return (f"refused: {origin_host}, a public address, leads to {host}, a private one "
                f"({private}); settings.allow_private_networks: true allows it")

    def _lookup(self, url: str) -> tuple[str, list[IPAddress]]:
        """The host of `url` and its addresses; none when it cannot be resolved here
        (the request then fails, or goes through a proxy that resolves it)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            texts = self.resolve(host, port) if host else []
        except (OSError, ValueError, UnicodeError):
            return host, []
        return host, [_unmapped(ipaddress.ip_address(t.split("%", 1)[0])) for t in texts]


# The default: what feeds.yaml gives when it does not set allow_private_networks.
PRIVATE_FROM_PUBLIC_REFUSED = AddressPolicy()


def _unmapped(address: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (::ffff:169.254.169.254) is the IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address
