"""A poison update becomes a dead letter; /healthz, /metrics and `talker-bridge dead-letters`
show it; polling goes on; a replay after the fix delivers it.

The bridge runs whole against the fake Telegram (tests/desk/desk_harness.py). The poison is a
direct handler that raises for one customer's updates, as a handler's bug would; the command
runs as the admin runs it, on the same config and database, in a process of its own making
(its own service, without the bug), while the service keeps running and sends what it queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiogram.types import Update
from sqlmodel import select

from app.cli import main
from botapi.updates import UpdatesIntake
from storage.dead_letters import add_dead_letter
from storage.models import DeadLetter
from tests.desk.desk_harness import SECRET, TOKEN, Desk, eventually, running_desk

pytestmark = pytest.mark.timeout(120)


def config_file(desk: Desk, folder: Path) -> str:
    """The service's config as the admin's YAML file."""
    data = {
        "language": "en",
        "database": desk.db,
        "http": {"host": "127.0.0.1", "port": 8080, "public_url": "https://bridge.test"},
        "telegram": {
            "token": TOKEN,
            "api_url": desk.config.telegram.api_url,
            "updates": "polling",
            "webhook_secret": SECRET,
        },
        "groups": {"support": {"chat_id": desk.group_id, "mode": "topics"}},
        "channels": {"telegram": {"group": "support"}},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return str(path)


async def cli(*argv: str) -> tuple[int, str, str]:
    """Run `talker-bridge argv...` in a thread (it runs its own event loop)."""
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()


async def letters(desk: Desk) -> list[DeadLetter]:
    async with desk.service.runtime.sessions() as session:
        return list((await session.exec(select(DeadLetter).order_by(DeadLetter.id))).all())


async def until_letters(desk: Desk, count: int, wait: float = 10.0) -> list[DeadLetter]:
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        rows = await letters(desk)
        if len(rows) >= count or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.05)


def captions(desk: Desk) -> str:
    return "\n".join(m.caption or m.text or "" for m in desk.fake.chat_view(desk.group_id))


async def get(desk: Desk, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(desk.base_url + path) as response:
        return response.status, await response.text()


async def test_a_poison_update_is_kept_shown_and_delivered_by_a_replay(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_desk(sqlite_url) as desk:
        intake = next(c for c in desk.service.components if isinstance(c, UpdatesIntake))
        poisoner = desk.fake.add_user("Pat", "Poison")

        async def buggy(update: Update) -> bool:
            user = update.message.from_user if update.message else None
            if user is not None and user.id == poisoner.id:
                raise ValueError("this update breaks a handler")
            return False

        intake.add_direct(buggy, first=True)
        desk.fake.user_says(poisoner, "the poison pill message")
        desk.fake.user_says(desk.customer, "a normal question after it")
        # Polling goes on past the poison update...
        await eventually(lambda: "a normal question after it" in captions(desk), wait=15)
        # ... which is kept with its raw JSON and the error.
        [letter] = await until_letters(desk, 1)
        assert (letter.source, letter.replayed_at) == ("telegram", None)
        assert "the poison pill message" in letter.payload
        assert letter.error.startswith("ValueError: this update breaks a handler")
        assert "the poison pill message" not in captions(desk)

        status, body = await get(desk, "/healthz")
        health: dict[str, Any] = yaml.safe_load(body)
        assert status == 200 and health["status"] == "ok"
        assert health["dead_letters"] == {"telegram": 1}
        assert "dead-letters" in health["warnings"][0]
        status, metrics = await get(desk, "/metrics")
        assert 'talker_bridge_dead_letters{source="telegram"} 1.0' in metrics

        config = config_file(desk, tmp_path)
        code, out, _ = await cli("dead-letters", "-c", config)
        assert code == 0
        [row] = [
            line for line in out.splitlines() if line.split()[:2] == [str(letter.id), "telegram"]
        ]
        assert "telegram" in row and letter.key in row
        assert "ValueError: this update breaks a handler" in row

        # The fix is deployed (the command's own service has no such bug): replay it.
        code, out, err = await cli("dead-letters", "replay", "-c", config, str(letter.id))
        assert code == 0, err
        assert f"dead letter {letter.id} (telegram {letter.key}): replayed" in out
        await eventually(
            lambda: "the poison pill message" in captions(desk),
            wait=15,
            what="the replayed message's card, sent by the running service",
        )
        [replayed] = await letters(desk)
        assert replayed.replayed_at is not None
        status, body = await get(desk, "/healthz")
        assert yaml.safe_load(body)["dead_letters"] == {}
        code, out, _ = await cli("dead-letters", "-c", config)
        assert (code, out.strip()) == (0, "no dead letters")


async def test_a_replay_that_cannot_run_keeps_the_letter_and_says_why(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_desk(sqlite_url) as desk:
        async with desk.service.runtime.transaction() as session:
            row = await add_dead_letter(
                session, "vk", "ev-1", '{"type": "message_new"}', "KeyError: 'object'"
            )
        config = config_file(desk, tmp_path)
        code, _, err = await cli("dead-letters", "replay", "-c", config, "--all")
        assert code == 1
        assert f"dead letter {row.id}: nothing replays 'vk'" in err
        code, _, err = await cli("dead-letters", "replay", "-c", config, "999")
        assert code == 1 and "dead letter 999: not found or replayed already" in err
        [kept] = await letters(desk)
        assert kept.replayed_at is None
        code, _, err = await cli("dead-letters", "replay", "-c", config)
        assert code == 2 and "give ids or --all" in err
