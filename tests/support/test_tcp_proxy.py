"""The fault proxy itself: forwards, freezes without closing, refuses, cuts."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.tcp_proxy import TcpProxy


async def _echo_server() -> asyncio.AbstractServer:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0)


async def test_forwards_freezes_thaws_and_cuts() -> None:
    server = await _echo_server()
    port = server.sockets[0].getsockname()[1]
    async with TcpProxy("127.0.0.1", port) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.read(4), 2) == b"ping"

        proxy.freeze()
        writer.write(b"held")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(4), 0.3)
        assert not reader.at_eof()  # frozen, not closed
        proxy.thaw()
        assert await asyncio.wait_for(reader.read(4), 2) == b"held"

        proxy.cut()  # a reset, as when the server's process dies
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(4), 2)

        proxy.refuse()
        r2, _ = await asyncio.open_connection("127.0.0.1", proxy.port)
        try:  # closed at once: an end of stream or a reset, never data
            assert await asyncio.wait_for(r2.read(4), 2) == b""
        except ConnectionResetError:
            pass
        assert proxy.open_connections == 0
        proxy.refuse(False)
        r3, w3 = await asyncio.open_connection("127.0.0.1", proxy.port)
        w3.write(b"back")
        assert await asyncio.wait_for(r3.read(4), 2) == b"back"
        w3.close()
    server.close()
