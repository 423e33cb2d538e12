"""The demo's bridge config as a dict, validated like any admin's file (by `app.demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.server import (
    SANDBOX_FB_APP_SECRET,
    SANDBOX_FB_PAGE_TOKEN,
    SANDBOX_TELEGRAM_TOKEN,
    SANDBOX_VIBER_TOKEN,
    SANDBOX_VK_GROUP_ID,
    SANDBOX_VK_TOKEN,
)

if TYPE_CHECKING:
    from pathlib import Path


WIDGET_ID = "demo"
GROUP = "support"
FB_VERIFY_TOKEN = "demo-verify-token"


def demo_config_data(
    *,
    fakes_url: str,
    bridge_url: str,
    group_chat_id: int,
    folder: Path,
    language: str = "en",
) -> dict[str, Any]:
    """The config of a bridge that talks to the fakes at `fakes_url` and listens at `bridge_url`.

    Every channel is on and handled by one forum group; the site widget may be embedded by the
    bridge's own origin (the demo page).
    """
    return {
        "language": language,
        "database": f"sqlite:///{folder / 'demo.db'}",
        "http": {"public_url": bridge_url, "widget_secret": "demo-widget-signing-key"},
        "telegram": {"token": SANDBOX_TELEGRAM_TOKEN, "api_url": f"{fakes_url}/telegram"},
        "groups": {GROUP: {"chat_id": group_chat_id, "mode": "topics"}},
        "channels": {
            "telegram": {"group": GROUP},
            "vk": {
                "group": GROUP,
                "token": SANDBOX_VK_TOKEN,
                "group_id": SANDBOX_VK_GROUP_ID,
                "api_url": f"{fakes_url}/vk",
            },
            "viber": {
                "group": GROUP,
                "token": SANDBOX_VIBER_TOKEN,
                "name": "Demo shop",
                "api_url": f"{fakes_url}/viber/pa",
            },
            "facebook": {
                "group": GROUP,
                "page_token": SANDBOX_FB_PAGE_TOKEN,
                "app_secret": SANDBOX_FB_APP_SECRET,
                "verify_token": FB_VERIFY_TOKEN,
                "graph_url": f"{fakes_url}/facebook/v21.0",
            },
            "site": {
                "widgets": {
                    WIDGET_ID: {"group": GROUP, "title": "Demo shop", "origins": [bridge_url]}
                }
            },
        },
    }
