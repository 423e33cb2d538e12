"""A fake Telegram Bot API server for tests, benchmarks and the demo (see server.py)."""

from sandbox.telegram.actions import tiny_png
from sandbox.telegram.clock import ManualClock
from sandbox.telegram.limits import RateCounters, TelegramLimits
from sandbox.telegram.server import CallRecord, FakeTelegram
from sandbox.telegram.state import FakeUser
from sandbox.telegram.updates import WebhookSettings
from sandbox.telegram.views import MessageView, TopicView

__all__ = [
    "CallRecord",
    "FakeTelegram",
    "FakeUser",
    "ManualClock",
    "MessageView",
    "RateCounters",
    "TelegramLimits",
    "TopicView",
    "WebhookSettings",
    "tiny_png",
]
