"""The fakes a doctor test checks against, and the config that points the bridge at them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from sandbox.facebook import FakeFacebook
from sandbox.runner import free_port, serving
from sandbox.telegram import FakeTelegram
from sandbox.telegram.state import FakeUser
from sandbox.viber import FakeViber
from sandbox.vk import FakeVK

TOKEN = "4242:doctor-test-token"
VK_TOKEN = "vk1.a.doctor-test-token"
VK_GROUP = 77
VIBER_TOKEN = "viber-doctor-token"
FB_PAGE_TOKEN = "fb-doctor-page-token"
BOT_ID = 4242
WEBHOOK_PATH = "/webhooks/telegram"


@dataclass
class Fakes:
    """The fakes, set up as a working installation; a test breaks one thing."""

    telegram: FakeTelegram
    base_url: str
    operator: FakeUser
    support: int
    vip: int
    #: Where the bridge would listen: a closed local port, so the fake's deliveries fail fast.
    public_url: str
    vk: FakeVK
    viber: FakeViber
    facebook: FakeFacebook
    updates: str = "webhook"
    token: str = TOKEN
    vk_token: str = VK_TOKEN
    vk_updates: str = "longpoll"
    viber_token: str = VIBER_TOKEN
    fb_page_token: str = FB_PAGE_TOKEN

    @property
    def webhook_url(self) -> str:
        return self.public_url + WEBHOOK_PATH

    async def bot_api(self, method: str, **params: object) -> object:
        url = f"{self.base_url}/telegram/bot{TOKEN}/{method}"
        async with aiohttp.ClientSession() as session, session.post(url, json=params) as resp:
            body = await resp.json()
        assert body["ok"], body
        return body["result"]

    def write_config(self, path: Path) -> Path:
        path.write_text(
            f"""
language: en
database: sqlite:///{path.parent / "b.db"}
http: {{host: 127.0.0.1, port: 8080, public_url: "{self.public_url}"}}
telegram:
  token: "{self.token}"
  api_url: {self.base_url}/telegram
  updates: {self.updates}
  webhook_secret: doctor_secret
groups:
  support: {{chat_id: {self.support}, mode: topics, operators: [{self.operator.id}]}}
  vip: {{chat_id: {self.vip}, mode: private}}
channels:
  telegram: {{group: support}}
  vk:
    group: support
    token: "{self.vk_token}"
    group_id: {VK_GROUP}
    api_url: {self.base_url}/vk
    updates: {self.vk_updates}
    secret: doctor-vk-secret
    confirmation: {self.vk.state.confirmation_code}
  viber:
    group: support
    token: "{self.viber_token}"
    name: Shop
    api_url: {self.base_url}/viber/pa
  facebook:
    group: support
    page_token: "{self.fb_page_token}"
    app_secret: fb-doctor-app-secret
    verify_token: fb-doctor-verify
    graph_url: {self.base_url}/facebook/v21.0
""",
            encoding="utf-8",
        )
        return path


@asynccontextmanager
async def running_fakes(
    breaking: Callable[[Fakes], object] | None = None,
) -> AsyncIterator[Fakes]:
    """Every fake on one server, set up so every doctor check holds, except what `breaking`
    changes (before the webhook is set: the updates its changes make are dropped)."""
    telegram = FakeTelegram()
    telegram.add_bot(TOKEN, username="doctor_bot", topics_enabled=True)
    telegram.set_privacy(TOKEN, False)
    operator = telegram.add_user("Olga")
    support = telegram.create_forum("Support", members=[operator])
    vip = telegram.create_group("VIP")
    vk = FakeVK(group_id=VK_GROUP, token=VK_TOKEN)
    root = web.Application()
    root.add_subapp("/telegram", telegram.app)
    root.add_subapp("/vk", vk.app)
    viber = FakeViber(token=VIBER_TOKEN)
    root.add_subapp("/viber", viber.app)
    facebook = FakeFacebook(page_token=FB_PAGE_TOKEN, app_secret="fb-doctor-app-secret")
    root.add_subapp("/facebook", facebook.app)
    async with serving(root) as running:
        public_url = f"http://127.0.0.1:{free_port()}"
        fakes = Fakes(
            telegram, running.base_url, operator, support, vip, public_url, vk, viber, facebook
        )
        viber.webhook_url = public_url + "/webhooks/viber"  # as set-webhooks leaves it
        # Set as `set-webhooks` does; the updates of the setup are dropped, so the fake does
        # not try to deliver them to the closed port.
        if breaking is not None:
            breaking(fakes)
        await fakes.bot_api("setWebhook", url=fakes.webhook_url, drop_pending_updates=True)
        yield fakes


async def run_doctor(config: Path) -> tuple[int, list[str], str]:
    """`python -m app doctor -c config`: (exit code, stdout lines, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "app", "doctor", "-c", str(config)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode().splitlines(), stderr.decode()


async def doctor_of(fakes: Fakes, tmp_path: Path) -> tuple[int, list[str]]:
    """The doctor on `fakes`' config: (exit code 0 or 1, the lines); a bad config fails."""
    code, lines, stderr = await run_doctor(fakes.write_config(tmp_path / "config.yaml"))
    assert code in (0, 1), stderr
    return code, lines


def failures(lines: list[str]) -> list[str]:
    """The lines that are not OK."""
    return [line for line in lines if not line.startswith("OK    ")]
