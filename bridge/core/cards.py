"""The HTML of cards, captions and relayed copies: everything a customer wrote is escaped here.

Telegram limits a caption to 1024 characters and a message to 4096 "after entity parsing",
counted in UTF-16 code units. We measure the raw HTML in UTF-16 units, which is never
shorter than what Telegram counts, so what we build always fits.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from bridge.core.texts import text

CAPTION_LIMIT: Final = 1024
MESSAGE_LIMIT: Final = 4096
TOPIC_NAME_LIMIT: Final = 128
ELLIPSIS: Final = "…"

CardState = Literal["new", "accepted", "closed"]


def escape(value: str) -> str:
    """HTML-escape text for Telegram's HTML parse mode: `<b>x</b>` and `</a>` show literally."""
    return html.escape(value, quote=False)


def tg_length(value: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(value.encode("utf-16-le")) // 2


def shorten(value: str, limit: int) -> str:
    """`value` cut to at most `limit` UTF-16 units, ending with "…" when it was cut."""
    if limit <= 0:
        return ""
    if tg_length(value) <= limit:
        return value
    cut = value
    while cut and tg_length(cut) + 1 > limit:
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def escaped_shortened(value: str, limit: int) -> str:
    """Escape `value` and shorten it so that the escaped form fits `limit` (never mid-entity)."""
    escaped = escape(value)
    if tg_length(escaped) <= limit:
        return escaped
    raw = value
    while raw:
        excess = tg_length(escape(raw)) + 1 - limit
        if excess <= 0:
            break
        raw = raw[: max(0, len(raw) - max(1, excess // 6))]
    return escape(raw.rstrip()) + ELLIPSIS


def message_summary(
    message_text: str, attachment_kinds: Sequence[str], language: str | None
) -> str:
    """A one-glance plain summary of a message: "[photo] caption" or the text."""
    labels = [text(language, f"attachment.{kind}") for kind in attachment_kinds]
    parts = [*labels, message_text.strip()] if message_text.strip() else labels
    return " ".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class CardView:
    """What a card shows. Names and messages are raw (unescaped) customer text."""

    number: int
    name: str
    #: How the customer's channel is named to operators ("VK", "Site (shop)"; PlatformNames).
    source: str
    opened_at: datetime
    messages: Sequence[str] = field(default_factory=tuple)
    state: CardState = "new"
    operator_name: str | None = None
    previous_number: int | None = None
    #: The first message came while the group was closed (working hours, issue 15).
    outside_hours: bool = False


def format_time(moment: datetime) -> str:
    """The card's time: "2026-11-25 14:02 UTC"."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render_card(view: CardView, language: str | None, limit: int = CAPTION_LIMIT) -> str:
    """The card caption (HTML, fits `limit`): header, then the customer's messages so far.

    The first message is always shown (shortened if needed); later ones are added while they
    fit, and the rest is summarised as "…and N more". Nothing is lost: every message also
    reaches the conversation's place once it is accepted.
    """
    values = {
        "name": escaped_shortened(view.name, 64),
        "source": escape(view.source),
        "when": format_time(view.opened_at),
        "number": view.number,
        "operator": escaped_shortened(view.operator_name or "", 64),
    }
    header = text(language, f"card.{view.state}", **values)
    if view.previous_number is not None:
        header += "\n" + text(language, "place.previous", number=view.previous_number)
    if view.outside_hours:
        header += "\n" + text(language, "hours.card_offline")
    messages = [m for m in view.messages if m.strip()]
    if not messages:
        return header
    budget = limit - tg_length(header) - 2
    first = escaped_shortened(messages[0], max(16, budget - 40 if len(messages) > 1 else budget))
    lines = [first]
    used = tg_length(first)
    shown = 1
    for index, message in enumerate(messages[1:], start=1):
        more = text(language, "card.more", count=len(messages) - index)
        piece = escape(message)
        needed = used + 1 + tg_length(piece)
        rest = len(messages) - index - 1
        reserve = tg_length(more) + 1 if rest else 0
        if needed + reserve > budget:
            break
        lines.append(piece)
        used = needed
        shown += 1
    if shown < len(messages):
        lines.append(text(language, "card.more", count=len(messages) - shown))
    return header + "\n\n" + "\n".join(lines)


def topic_name(name: str, source: str, language: str | None) -> str:
    """A forum topic's title (plain text, 1–128 characters): "Ivan Petrov · VK".

    `source` is how the customer's channel is named to operators (`PlatformNames.source`).
    """
    room = TOPIC_NAME_LIMIT - tg_length(text(language, "topic.name", name="", source=source))
    title = text(language, "topic.name", name=shorten(name.strip() or "?", room), source=source)
    return shorten(title, TOPIC_NAME_LIMIT)


def group_link(chat_id: int, message_id: int | None = None, thread_id: int | None = None) -> str:
    """A t.me link into a supergroup: its topic, or one message (works for members)."""
    internal = str(chat_id)
    internal = internal[4:] if internal.startswith("-100") else internal.lstrip("-")
    if thread_id is not None and message_id is not None:
        return f"https://t.me/c/{internal}/{thread_id}/{message_id}"
    if thread_id is not None:
        return f"https://t.me/c/{internal}/{thread_id}"
    if message_id is not None:
        return f"https://t.me/c/{internal}/{message_id}"
    return f"https://t.me/c/{internal}"


def link_html(url: str, label: str) -> str:
    """An HTML link with an escaped label; `url` is built by us, never by a customer."""
    return f'<a href="{html.escape(url, quote=True)}">{escape(label)}</a>'


def customer_copy(
    message_text: str,
    *,
    author: str | None = None,
    limit: int = MESSAGE_LIMIT,
    language: str | None = None,
) -> str:
    """A customer's text as posted in the group (HTML). `author` prefixes it (replies mode)."""
    prefix = ""
    if author is not None:
        prefix = text(language, "place.customer_wrote", name=escaped_shortened(author, 64)) + "\n"
    return prefix + escaped_shortened(message_text, limit - tg_length(prefix))


def pieces(value: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a raw text into pieces that each fit `limit` once escaped (long messages)."""
    out: list[str] = []
    rest = value
    while rest:
        size = min(len(rest), limit)
        while size > 1 and tg_length(escape(rest[:size])) > limit:
            size = max(1, size - max(1, (tg_length(escape(rest[:size])) - limit) // 4 or 1))
        out.append(rest[:size])
        rest = rest[size:]
    return out
