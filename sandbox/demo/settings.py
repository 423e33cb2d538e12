"""The demo's bridge config as a dict, validated like any admin's file (by `app.demo`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
#: The company's one name to its customers and operators: the Telegram bot's, the VK
#: community's, the Viber account's, the Facebook page's and the site widget's title.
BOT_NAME = "Demo shop"
GROUP = "support"
FB_VERIFY_TOKEN = "demo-verify-token"
#: The demo's group is closed for this long after it starts, so the first messages get the
#: offline answer; then it works around the clock.
CLOSED_AT_START = timedelta(minutes=1)
#: Short SLA times, so a reminder shows within a minute of a card waiting.
DEMO_SLA = {"accept_within": "20s", "answer_within": "40s"}
DEMO_TEMPLATES = {
    "hello": {
        "ru": "Здравствуйте, {name}! Чем можем помочь?",
        "en": "Hello, {name}! How can we help?",
    },
    "delivery": {
        "ru": "{name}, заказ отправим в течение 2 дней.",
        "en": "{name}, your order ships within 2 days.",
    },
}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def demo_hours(started: datetime) -> dict[str, Any]:
    """Working hours (UTC) closed from `started` for `CLOSED_AT_START`, open at every other
    time: the day of the start has the ranges around the closed spell, every other day is
    open all day (a spell across midnight closes the first minutes of the next day too)."""
    start = started.astimezone(UTC).replace(second=0, microsecond=0)
    end = start + CLOSED_AT_START + timedelta(minutes=1)  # whole minutes, at least the spell
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    week: dict[str, Any] = {day: "00:00-24:00" for day in days}
    day = start.date()
    while day <= end.date():
        first = start if day == start.date() else datetime.combine(day, datetime.min.time(), UTC)
        last = (
            end
            if day == end.date()
            else datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        )
        closed_from = (first - datetime.combine(day, datetime.min.time(), UTC)).seconds // 60
        closed_to = min(
            1440,
            int((last - datetime.combine(day, datetime.min.time(), UTC)).total_seconds() // 60),
        )
        ranges = []
        if closed_from > 0:
            ranges.append(f"00:00-{_hhmm(closed_from)}")
        if closed_to < 1440:
            ranges.append(f"{_hhmm(closed_to)}-24:00")
        week[days[day.weekday()]] = ranges or "00:00-00:01"
        day += timedelta(days=1)
    return {"timezone": "UTC", "week": week}


def demo_config_data(
    *,
    fakes_url: str,
    bridge_url: str,
    group_chat_id: int,
    folder: Path,
    language: str = "en",
    started: datetime | None = None,
    mode: str = "topics",
) -> dict[str, Any]:
    """The config of a bridge that talks to the fakes at `fakes_url` and listens at `bridge_url`.

    Every channel is on and handled by one forum group; the site widget may be embedded by the
    bridge's own origin (the demo page). The helpdesk is on with demo-sized times: the group
    is closed for a minute or two after `started` (the offline answer), cards are
    reminded 20 s after it opens, and a closed conversation asks for a rating; `/t hello` and
    `/t delivery` are quick replies. `mode` is the group's: `topics` (one forum topic per
    customer) or `private` (a conversation goes on in a topic of the claimer's private chat
    with the bot; the runner switches the fake bot's threaded mode on for it).
    """
    started = started or datetime.now(UTC)
    return {
        "language": language,
        "database": f"sqlite:///{folder / 'demo.db'}",
        "http": {"public_url": bridge_url, "widget_secret": "demo-widget-signing-key"},
        "telegram": {"token": SANDBOX_TELEGRAM_TOKEN, "api_url": f"{fakes_url}/telegram"},
        "groups": {
            GROUP: {
                "chat_id": group_chat_id,
                "mode": mode,
                "hours": demo_hours(started),
                "sla": dict(DEMO_SLA),
                "auto_close_after": "30m",
            }
        },
        "close": {"goodbye": True, "rating": True},
        "templates": DEMO_TEMPLATES,
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
                "name": BOT_NAME,
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
                    WIDGET_ID: {"group": GROUP, "title": BOT_NAME, "origins": [bridge_url]}
                }
            },
        },
    }
