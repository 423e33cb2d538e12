"""Telegram counts a message's length in UTF-16 units (an emoji is two): texts merged by the
outbox and an operator's long replies still arrive whole, each message within 4,096 units,
against a fake Telegram that counts the way the real one does."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from botapi.sender import TelegramCalls, make_bot, split_long_text
from bridge.core.cards import tg_length
from bridge.errors import PermanentError
from bridge.outbox import OutboxWorker, enqueue
from storage import outbox as store
from tests.bridge.outbox.fake_telegram import SPEED, TOKEN, sent_texts, served_telegram
from tests.bridge.outbox.helpers import open_db, telegram_policy, wait_for

EMOJI = "😀"


@pytest.fixture
async def factory(sqlite_url: str):
    engine, sf = await open_db(sqlite_url)
    yield sf
    await engine.dispose()


def emoji_text(lane: int, n: int) -> str:
    """A customer message of 600 emoji (1,200 UTF-16 units) with its tag in the middle."""
    return EMOJI * 300 + f" lane {lane} message {n} " + EMOJI * 300


async def test_an_emoji_heavy_merge_is_sent_in_pieces_telegram_accepts(factory) -> None:
    async with served_telegram() as tg:
        async with factory() as s:
            for n in range(12):
                for lane in range(2):
                    body = emoji_text(lane, n)
                    payload: dict[str, Any] = {
                        "method": "sendMessage",
                        "params": {"chat_id": tg.group, "text": body},
                        "part": {"author": f"Customer {lane}", "at": "14:02", "html": body},
                    }
                    await enqueue(
                        s,
                        platform="telegram",
                        destination=str(tg.group),
                        lane=f"{tg.group}:topic:{lane}",
                        kind="text",
                        coalesce_key=f"topic:{lane}",
                        payload=payload,
                    )
            await s.commit()
        sender = TelegramCalls(make_bot(TOKEN, tg.api_url))
        worker = OutboxWorker(
            factory,
            {"telegram": sender},
            telegram_policy(time_scale=SPEED),
            owner_id="w1",
            poll_interval=0.05,
            backoff_base=0.05,
        )
        await worker.start()
        try:
            await wait_for(lambda: worker.stats.sent + worker.stats.failed == 24, within=30)
        finally:
            await worker.stop()
            await sender.close()
        assert worker.stats.failed == 0
        assert tg.fake.calls("sendMessage", status=400) == []
        texts = sent_texts(tg.fake)
        assert max(tg_length(t) for t in texts) <= 4096
        assert any(tg_length(t) > 2 * 1200 for t in texts)  # parts were merged
        for lane in range(2):
            joined = "\n".join(t for t in texts if f"lane {lane} " in t)
            positions = [joined.index(f" lane {lane} message {n} ") for n in range(12)]
            assert positions == sorted(positions)
        async with factory() as s:
            assert await store.count_by_state(s) == {"done": 24}


async def test_a_text_that_cannot_be_cut_cleanly_is_left_whole() -> None:
    payload = {"method": "sendMessage", "params": {"chat_id": 1, "text": EMOJI * 2100}}
    assert split_long_text(payload) == [payload]


async def test_a_long_text_is_cut_between_parts_and_keeps_its_buttons_on_the_last() -> None:
    parts = [f"<b>Ann</b> · 14:0{n}\n" + EMOJI * 1500 for n in range(3)]
    markup = {"inline_keyboard": [[{"text": "ok", "callback_data": "x"}]]}
    payload = {
        "method": "sendMessage",
        "params": {"chat_id": 1, "text": "\n\n".join(parts), "reply_markup": markup},
    }
    pieces = split_long_text(payload)
    assert [p["params"]["text"] for p in pieces] == parts
    assert [("reply_markup" in p["params"]) for p in pieces] == [False, False, True]


async def test_the_fake_refuses_a_text_over_4096_utf16_units(factory) -> None:
    async with served_telegram() as tg:
        sender = TelegramCalls(make_bot(TOKEN, tg.api_url))
        try:
            item = SimpleNamespace(
                id=1,
                payload={"method": "sendMessage", "params": {"chat_id": tg.group, "text": "x"}},
            )
            item.payload["params"]["text"] = EMOJI * 2049  # 2,049 characters, 4,098 units
            with pytest.raises(PermanentError, match="too long"):
                await sender.deliver(item)
        finally:
            await sender.close()
