"""Typed payloads of the desk's inline buttons (aiogram CallbackData, at most 64 bytes).

A packed payload is the prefix and the values in field order ("acc:12", "trf:12:345"), not
the field names: buttons already posted in groups keep working when a field is renamed, but
never reorder, remove or retype a field or change a prefix.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

#: Telegram's limit on callback_data, in bytes.
CALLBACK_DATA_LIMIT = 64


class AcceptCallback(CallbackData, prefix="acc"):
    """The Accept button of a card: claims the conversation."""

    conversation: int  # the conversation's id (its number on the card)


class TransferCallback(CallbackData, prefix="trf"):
    """A /transfer choice: hand the conversation to another operator."""

    conversation: int  # the conversation's id
    operator: int  # the operator's Telegram user id


def packed(data: CallbackData) -> str:
    """The packed callback data; ValueError if it would pass Telegram's 64-byte limit."""
    value = data.pack()
    size = len(value.encode("utf-8"))
    if size > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data is {size} bytes, Telegram allows {CALLBACK_DATA_LIMIT}")
    return value
