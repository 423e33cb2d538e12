"""`talker-bridge set-webhooks -c FILE` against the fakes and a running bridge."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web

from app.config import load_config
from app.wiring import build_service
from sandbox.facebook import FakeFacebook
from sandbox.runner import free_port, serving
from sandbox.telegram import FakeTelegram
from sandbox.viber import FakeViber

TOKEN = "777:set-webhooks-test"
ENV = {
    "SW_TELEGRAM_TOKEN": TOKEN,
    "SW_WEBHOOK_SECRET": "tg_secret-123",
    "SW_VIBER_TOKEN": "viber-token-sw",
    "SW_FB_PAGE_TOKEN": "fb-page-sw",
    "SW_FB_APP_SECRET": "fb-secret-sw",
    "SW_FB_VERIFY_TOKEN": "verify-me-sw",
}


def write_config(path: Path, *, fakes: str, port: int, chat_id: int, database: str) -> None:
    path.write_text(
        f"""
language: en
database: {database}
http: {{host: 127.0.0.1, port: {port}, public_url: "http://127.0.0.1:{port}"}}
telegram:
  token: ${{SW_TELEGRAM_TOKEN}}
  api_url: {fakes}/telegram
  updates: webhook
  webhook_secret: ${{SW_WEBHOOK_SECRET}}
groups:
  support: {{chat_id: {chat_id}}}
channels:
  telegram: {{group: support}}
  viber: {{group: support, token: "${{SW_VIBER_TOKEN}}", name: Shop, api_url: {fakes}/viber/pa}}
  facebook:
    group: support
    page_token: ${{SW_FB_PAGE_TOKEN}}
    app_secret: ${{SW_FB_APP_SECRET}}
    verify_token: ${{SW_FB_VERIFY_TOKEN}}
    graph_url: {fakes}/facebook/v21.0
""",
        encoding="utf-8",
    )


async def test_set_webhooks_registers_telegram_and_viber_and_prints_facebook_steps(
    tmp_path: Path, monkeypatch
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    telegram = FakeTelegram()
    telegram.add_bot(TOKEN, username="sw_bot")
    chat_id = telegram.create_forum("Operators")
    viber = FakeViber(token=ENV["SW_VIBER_TOKEN"])
    facebook = FakeFacebook(page_token=ENV["SW_FB_PAGE_TOKEN"], app_secret=ENV["SW_FB_APP_SECRET"])
    root = web.Application()
    root.add_subapp("/telegram", telegram.app)
    root.add_subapp("/viber", viber.app)
    root.add_subapp("/facebook", facebook.app)
    async with serving(root) as fakes:
        viber.public_url = fakes.base_url + "/viber/pa"
        port = free_port()
        path = tmp_path / "config.yaml"
        database = f"sqlite:///{tmp_path / 'b.db'}"
        write_config(path, fakes=fakes.base_url, port=port, chat_id=chat_id, database=database)
        config = load_config(path)
        service = build_service(config, port=port)
        await service.start()  # Viber checks the URL answers before it accepts it
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "app", "set-webhooks", "-c", str(path)),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        finally:
            await service.stop()
    output = stdout.decode()
    assert process.returncode == 0, output + stderr.decode()
    base = f"http://127.0.0.1:{port}"
    assert f"OK    Telegram: webhook {base}/webhooks/telegram" in output
    assert f"Callback URL: {base}/webhooks/facebook" in output
    assert "Verify token: verify-me-sw" in output
    assert viber.webhook_url == f"{base}/webhooks/viber"
    webhook = telegram.feed(int(TOKEN.split(":")[0])).webhook
    assert webhook is not None and webhook.url == f"{base}/webhooks/telegram"


def test_set_webhooks_without_public_url_explains_what_is_missing(tmp_path: Path) -> None:
    import subprocess

    path = tmp_path / "config.yaml"
    path.write_text(
        "telegram: {token: '1:abcdef'}\ngroups: {support: {chat_id: -100}}\n"
        "channels: {telegram: {group: support}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "app", "set-webhooks", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "http.public_url is not set" in result.stderr
