"""The stand-alone worker process is wired like the service: same handlers, one runtime."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.config import load_config
from app.run_worker import build_parser, build_worker_runtime
from app.wiring import build_service
from desk.completions import DeskHandler


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.yaml"
    data = {
        "language": "en",
        "database": f"sqlite:///{tmp_path / 'b.db'}",
        "telegram": {"token": "123:abcdef", "api_url": "http://127.0.0.1:9/telegram"},
        "groups": {"support": {"chat_id": -1001}},
        "channels": {"telegram": {"group": "support"}},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def test_with_a_config_the_worker_registers_the_services_handlers(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    args = build_parser().parse_args(["--config", str(path)])
    runtime, close_bot = build_worker_runtime(args)
    service = build_service(load_config(path))
    try:
        assert DeskHandler.CARD_POSTED in runtime.handlers.done
        assert set(runtime.handlers.done) == set(service.runtime.handlers.done)
        assert set(runtime.handlers.failed) == set(service.runtime.handlers.failed)
        assert set(runtime.senders) == {"telegram"}
    finally:
        await close_bot()
        for component in service.components:
            await component.stop()


async def test_without_a_config_it_sends_one_platform_and_knows_no_handler(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "--database",
            f"sqlite:///{tmp_path / 'b.db'}",
            "--telegram-api",
            "http://x",
            "--token",
            "1:a",
        ]
    )
    runtime, close_bot = build_worker_runtime(args)
    await close_bot()
    assert set(runtime.senders) == {"telegram"}
    assert not runtime.handlers.knows(DeskHandler.CARD_POSTED)
