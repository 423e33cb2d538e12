"""The cross-process push survives a dropped LISTEN connection: sockets catch up from the DB.

Process B serves the visitor's socket and listens through an in-test TCP proxy; process A
(no sockets) sends the reply. While B's listening connection is down, A's announcement is lost
(PostgreSQL keeps no notifications for an absent session); when B listens again it sends its
open sockets what was stored since it last listened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters.site import SiteChannel
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.notify import Listener, notify
from tests.adapters.site.harness import SHOP_ORIGIN, WIDGET, Bridge, StoringSink, site_config
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

GOOD = {"Origin": SHOP_ORIGIN}


def through(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@asynccontextmanager
async def site_process(database: str, sessions_url: str, files: Path) -> AsyncIterator[Bridge]:
    """A site channel as one process runs it: `database` is what its config names."""
    engine = create_engine(sessions_url)
    sessions = session_factory(engine)
    sink = StoringSink()
    sink.sessions = sessions
    config = site_config([SHOP_ORIGIN], database)
    site = SiteChannel(
        config, sink, sessions=sessions, files_dir=files, telegram_link=lambda _: None
    )
    assert site.push is not None
    site.push.listener.backoff_initial = 0.1
    site.push.listener.backoff_max = 0.2
    for adapter in site.adapters:
        await adapter.start()
    await site.push.start()
    try:
        yield Bridge(config, site, sink, sessions, operator_files=None)  # type: ignore[arg-type]
    finally:
        await site.push.stop()
        for adapter in site.adapters:
            await adapter.stop()
        await engine.dispose()


async def test_a_socket_gets_the_reply_announced_while_its_process_was_not_listening(
    pg_url, tmp_path, aiohttp_client
) -> None:
    await upgrade_async(pg_url)
    pg = make_url(pg_url)
    async with TcpProxy(pg.host or "127.0.0.1", pg.port or 5432) as proxy:
        async with (
            site_process(through(pg_url, proxy.port), pg_url, tmp_path / "b") as b,
            site_process(pg_url, pg_url, tmp_path / "a") as a,
        ):
            client = await aiohttp_client(b.app())
            token = (await (await client.post(f"/widget/{WIDGET}/visitors", headers=GOOD)).json())[
                "token"
            ]
            auth = {**GOOD, "Authorization": f"Bearer {token}"}
            body = {"id": "msg000001", "text": "hello"}
            assert (await client.post(f"/widget/{WIDGET}/messages", json=body, headers=auth)).ok
            ws = await client.ws_connect(f"/widget/{WIDGET}/ws", headers=GOOD)
            await ws.send_json({"type": "auth", "token": token})
            assert (await ws.receive_json(timeout=5))["type"] == "auth"
            assert [(await ws.receive_json(timeout=5))["type"] for _ in range(2)] == [
                "message",
                "ready",
            ]
            assert b.site.push is not None
            b_hub = b.site.adapters[0].hub
            visitor = b_hub.visitors()[0]

            # Live: A sends, B's socket gets it at once.
            sent = await a.reply(visitor, "first answer")
            assert sent["sockets"] == 0  # A has no socket of this visitor
            got = await ws.receive_json(timeout=5)
            assert got["message"]["text"] == "first answer"

            # B's LISTEN connection drops and cannot come back for a while.
            proxy.refuse(True)
            proxy.cut()
            await _until(lambda: not b.site.push.listener.listening)
            await a.reply(visitor, "answer during the gap")
            with pytest.raises(TimeoutError):
                await ws.receive_json(timeout=0.5)
            proxy.refuse(False)
            # The same socket, no reconnect: what was stored since B last listened comes again
            # (the widget shows each id once), the missed reply among it.
            texts: list[str] = []
            while "answer during the gap" not in texts:
                texts.append((await ws.receive_json(timeout=10))["message"]["text"])
            assert set(texts) <= {"hello", "first answer", "answer during the gap"}
            assert b.site.push.listener.connects == 2
            await ws.close()


async def test_the_listener_reconnects_and_hears_notifications_again(pg_url) -> None:
    await upgrade_async(pg_url)
    pg = make_url(pg_url)
    heard: list[str] = []
    listening = 0

    async def on_listening() -> None:
        nonlocal listening
        listening += 1

    engine = create_engine(pg_url)
    sessions = session_factory(engine)

    async def say(payload: str) -> None:
        async with sessions() as session:
            await notify(session, "tb_test_channel", payload)
            await session.commit()

    async with TcpProxy(pg.host or "127.0.0.1", pg.port or 5432) as proxy:
        listener = Listener(
            through(pg_url, proxy.port),
            "tb_test_channel",
            heard.append,
            on_listening,
            check_interval=0.2,
            timeout=1.0,
            backoff_initial=0.1,
            backoff_max=0.4,
        )
        listener.start()
        try:
            await asyncio.wait_for(listener.wait_listening(), 5)
            await say("one")
            await _until(lambda: heard == ["one"])
            proxy.freeze()  # a silent cut: found by the health query's timeout
            await _until(lambda: not listener.listening, wait=5)
            proxy.thaw()
            proxy.cut()
            await asyncio.wait_for(listener.wait_listening(), 5)
            await say("two")
            await _until(lambda: heard[-1:] == ["two"])
            assert listening == listener.connects >= 2
            with pytest.raises(ValueError, match="at most"):
                await say("x" * 8000)
        finally:
            await listener.stop()
            await engine.dispose()


async def _until(check, wait: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)
