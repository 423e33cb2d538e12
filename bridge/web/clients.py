"""Whose request is this: the client's address, behind reverse proxies or not.

Behind nginx every request comes from the proxy's address, so per-address limits would lump
every visitor together. `ClientAddress` reads `X-Forwarded-For` only when the connection comes
from a proxy the admin listed in `http.trusted_proxies`, and then takes the rightmost address
that is not a trusted proxy: each proxy appends the address it saw, so entries to the left of
the last untrusted one are whatever the client chose to send and are never believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from aiohttp import web

#: What `ClientAddress` answers for a connection with no peer address (a Unix socket).
UNKNOWN = "unknown"

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def peer_address(request: web.BaseRequest) -> Address | None:
    """The TCP peer of the request (aiohttp reads no header for it), IPv4-mapped addresses as
    IPv4; None for a Unix socket."""
    return _address(request.remote or "")


class ClientAddress:
    """`client_address(request)`: the address limits and logs should use."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(item, strict=False) for item in trusted_proxies
        )

    def is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def __call__(self, request: web.BaseRequest) -> str:
        peer = peer_address(request)
        if peer is None:
            return request.remote or UNKNOWN
        if not self.trusted or not self.is_trusted(peer):
            return str(peer)
        hops = [
            hop
            for header in request.headers.getall("X-Forwarded-For", ())
            for hop in header.split(",")
        ]
        client = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:  # a hop nobody trusted wrote: stop at the last one we believe
                break
            client = address
            if not self.is_trusted(address):
                break
        return str(client)
