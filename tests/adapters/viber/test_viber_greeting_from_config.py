"""`channels.viber.greeting` from an admin's YAML file reaches the customer who opens the chat."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from adapters.viber.adapter import ViberAdapter
from app.config import load_config
from sandbox.runner import serving
from sandbox.viber.fake import FakeViber
from tests.adapters.recording_sink import RecordingSink
from tests.adapters.viber.conftest import TOKEN

CONFIG = """\
telegram:
  token: 123456:real-token
http:
  public_url: https://support.example.com
groups:
  support: {{chat_id: -1001000000001}}
channels:
  viber:
    group: support
    token: {token}
    name: Shop
    api_url: {api_url}
    greeting: |-
      Вітаємо! Оператор відповість незабаром.
      Hello! An operator will answer soon.
"""


async def test_the_greeting_from_the_config_file_answers_conversation_started(
    tmp_path: Path, fake_viber: FakeViber, sink: RecordingSink
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(token=TOKEN, api_url=fake_viber.public_url), encoding="utf-8")
    section = load_config(path, env={}).channels.viber
    assert section is not None
    adapter = ViberAdapter(section, sink)
    await adapter.start()
    app = web.Application()
    app.add_routes(adapter.routes())
    try:
        async with serving(app) as running:
            await adapter.set_webhook(f"{running.base_url}/webhooks/viber")
            user = fake_viber.add_user(name="New")
            delivery = await fake_viber.conversation_started(user)
    finally:
        await adapter.stop()
    assert delivery.succeeded
    assert json.loads(delivery.attempts[-1].answer) == {
        "sender": {"name": "Shop"},
        "type": "text",
        "text": "Вітаємо! Оператор відповість незабаром.\nHello! An operator will answer soon.",
    }
    assert sink.stored == 0  # opening the chat stores nothing
