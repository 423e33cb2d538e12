"""`TelegramFiles` served over real HTTP against the fake Telegram, with a clock the test moves.

`served_files()` yields a `FilesHarness`: the fake Telegram (one bot) on one port, the bridge's
`/files/telegram/...` route on another, and `store(kind, data, filename)` to put an operator's
file in Telegram. Used by tests/botapi/test_files*.py and bench/telegram_files.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from botapi.files import TelegramFiles
from botapi.sender import make_bot
from sandbox.runner import serving
from sandbox.telegram import FakeTelegram
from sandbox.telegram.files import store_file

TOKEN = "123456:FILES-token_abc"
KEY = b"files-harness-key"


@dataclass
class Clock:
    now: float = 1_800_000_000.0  # 2027-01-15 08:00 UTC: past the legacy links' window

    def __call__(self) -> float:
        return self.now


@dataclass
class FilesHarness:
    fake: FakeTelegram
    files: TelegramFiles
    clock: Clock
    base_url: str
    extra: dict[str, Any] = field(default_factory=dict)

    def store(self, kind: str, data: bytes, filename: str | None = None) -> str:
        """An operator's file in Telegram; returns its file_id."""
        return store_file(self.fake.world, kind, data, filename).file_id

    def get_file_calls(self) -> int:
        return len(self.fake.calls("getFile"))


@asynccontextmanager
async def served_files(clock: Clock | None = None, **options: Any) -> AsyncIterator[FilesHarness]:
    """The fake Telegram and a running `TelegramFiles` (options go to its constructor)."""
    clock = clock or Clock()
    fake = FakeTelegram()
    fake.add_bot(TOKEN, username="files_bot")
    async with serving(fake.app) as telegram:
        bot = make_bot(TOKEN, telegram.base_url)
        files = TelegramFiles(bot, KEY, None, clock=clock, **options)
        app = web.Application()
        app.add_routes(files.routes())
        try:
            async with serving(app) as bridge:
                files.base_url = bridge.base_url
                await files.start()
                yield FilesHarness(fake, files, clock, bridge.base_url)
                await files.stop()
        finally:
            await bot.session.close()
