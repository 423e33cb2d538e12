"""Behind a reverse proxy (issue 14): the client's address comes from X-Forwarded-For only
when the connection is from a proxy in `http.trusted_proxies`, and then it is the rightmost
address no trusted proxy wrote. A spoofed header from anyone else changes nothing.

Measured on the widget's per-address limit of new visitor tokens (burst 20), over real HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import make_mocked_request

from adapters.site.limits import NEW_VISITORS
from bridge.web.clients import ClientAddress
from tests.adapters.site.harness import SHOP_ORIGIN, WIDGET, Bridge, close_bridge, open_bridge

BURST = NEW_VISITORS.burst


@pytest.fixture
async def proxied(tmp_path) -> AsyncIterator[Bridge]:
    bridge = await open_bridge(tmp_path, [SHOP_ORIGIN], http={"trusted_proxies": ["127.0.0.0/8"]})
    yield bridge
    await close_bridge(bridge)


async def new_visitor(client, forwarded: str | None = None) -> int:
    headers = {"Origin": SHOP_ORIGIN}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    response = await client.post(f"/widget/{WIDGET}/visitors", headers=headers)
    return response.status


async def test_a_spoofed_header_from_an_untrusted_address_does_not_escape_the_limit(client):
    statuses = [await new_visitor(client, f"198.51.100.{i}") for i in range(BURST + 5)]
    assert statuses[:BURST] == [200] * BURST
    assert set(statuses[BURST:]) == {429}


async def test_behind_a_trusted_proxy_each_visitor_has_their_own_limit(proxied, aiohttp_client):
    client = await aiohttp_client(proxied.app())
    # Sixty visitors behind one proxy: none is refused, though the proxy's address is shared.
    assert [await new_visitor(client, f"203.0.113.{i}") for i in range(60)] == [200] * 60
    # One of them alone still meets the limit.
    statuses = [await new_visitor(client, "192.0.2.77") for _ in range(BURST + 3)]
    assert statuses[:BURST] == [200] * BURST and set(statuses[BURST:]) == {429}


async def test_addresses_a_client_prepends_are_not_believed(proxied, aiohttp_client):
    client = await aiohttp_client(proxied.app())
    # nginx appends the address it saw (192.0.2.99); what the client sent before it is its own.
    statuses = [await new_visitor(client, f"10.9.{i}.1, 192.0.2.99") for i in range(BURST + 3)]
    assert set(statuses[BURST:]) == {429}


class Peer:
    def __init__(self, address: str) -> None:
        self.address = address

    def get_extra_info(self, name: str, default=None):
        return (self.address, 40000) if name == "peername" else default


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),  # no proxy
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),  # an untrusted peer's header is ignored
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),  # one trusted proxy
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # client-written hop ignored
        ("10.0.0.2", "198.51.100.7, 10.0.0.9", "198.51.100.7"),  # two trusted proxies
        ("10.0.0.2", "10.0.0.8, 10.0.0.9", "10.0.0.8"),  # every hop trusted: the farthest
        ("10.0.0.2", "garbage, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "198.51.100.7, garbage", "10.0.0.2"),  # a broken hop: stop at the proxy
        ("10.0.0.2", "[2001:db8::5]:443", "2001:db8::5"),
        ("10.0.0.2", "198.51.100.7:5555", "198.51.100.7"),
        ("::ffff:10.0.0.2", "198.51.100.7", "198.51.100.7"),  # IPv4-mapped peer
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_the_client_address_is_the_rightmost_untrusted_hop(peer, forwarded, expected):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    request = make_mocked_request("GET", "/", headers=headers, transport=Peer(peer))
    assert ClientAddress(["10.0.0.0/8"])(request) == expected
