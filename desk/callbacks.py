"""Typed payloads of the desk's inline buttons (aiogram CallbackData, at most 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

#: Telegram's limit on callback_data, in bytes.
CALLBACK_DATA_LIMIT = 64


class AcceptCallback(CallbackData, prefix="acc"):
    """The Accept button of a card: claims conversation `c`."""

    c: int


class TransferCallback(CallbackData, prefix="trf"):
    """A /transfer choice: hand conversation `c` to operator `o` (a Telegram user id)."""

    c: int
    o: int


def packed(data: CallbackData) -> str:
    """The packed callback data; ValueError if it would pass Telegram's 64-byte limit."""
    value = data.pack()
    size = len(value.encode("utf-8"))
    if size > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data is {size} bytes, Telegram allows {CALLBACK_DATA_LIMIT}")
    return value
