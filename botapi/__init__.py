"""The Telegram Bot API plumbing shared by the operators' desk and the Telegram customer adapter.

`models` defers aiogram's model builds (imported first, before any aiogram import), `calls`
builds Bot API calls as outbox payloads, `sender` executes them (the one place where aiogram's
errors become `bridge.errors`), `updates` feeds the bot's updates (polling or webhook) to one
aiogram Dispatcher both sides install their routers on, `messages` reads a Message's id and
media, and `files` serves an operator's Telegram file to other platforms.
"""

from botapi.models import defer_model_builds

defer_model_builds()  # before any aiogram import: builds each Bot API model on first use
