"""Coalescing: fewer calls when the pace holds items back, without losing or reordering any.

Three kinds of collapse, chosen by an item's `kind` and `coalesce_key`:

- `text` items (a Bot API `sendMessage` whose payload also carries a `part`) that wait in one
  lane with the same `coalesce_key` are merged at send time into one message, in order, each
  part headed by its author and time, within the platform's text limit. Every merged row is
  marked done with the resulting message id, so its completion handler records the link.
- `edit` items (edits of one message) and `dashboard` items: a newer item with the same
  lane + kind + coalesce_key supersedes the still-pending older ones when it is enqueued; only
  the newest state is ever sent.
- every other kind is sent as it is.

A `part` is `{"author": "Ivan Petrov", "at": "14:02", "html": "<already escaped text>"}`: the
caller escapes the text (it may carry markup), this module escapes the author. A part with
`"raw": true` goes as its html alone (the header over a conversation's history).
"""

from __future__ import annotations

import copy
import html
from collections.abc import Callable, Sequence
from typing import Any, Protocol

KIND_TEXT = "text"
KIND_EDIT = "edit"
KIND_DASHBOARD = "dashboard"
REPLACING_KINDS = frozenset({KIND_EDIT, KIND_DASHBOARD})
PART_SEPARATOR = "\n\n"


class Mergeable(Protocol):
    """What merging needs of an outbox row."""

    @property
    def kind(self) -> str: ...

    @property
    def coalesce_key(self) -> str | None: ...

    @property
    def payload(self) -> dict[str, Any]: ...


def format_part(part: dict[str, Any]) -> str:
    """One merged part: the author in bold, a dot, the time, then the text on the next line;
    a `raw` part (a heading over the parts after it) is its html as it is."""
    if part.get("raw"):
        return str(part.get("html", ""))
    author = html.escape(str(part.get("author") or ""), quote=False)
    at = html.escape(str(part.get("at") or ""), quote=False)
    header = f"<b>{author}</b> · {at}" if at else f"<b>{author}</b>"
    return f"{header}\n{part.get('html', '')}"


def can_merge(item: Mergeable) -> bool:
    """True for a text item that carries a part and a coalesce key."""
    part = item.payload.get("part")
    return (
        item.kind == KIND_TEXT
        and item.coalesce_key is not None
        and isinstance(part, dict)
        and isinstance(part.get("html"), str)
    )


def mergeable_prefix(
    items: Sequence[Mergeable], limit: int, length_of: Callable[[str], int] = len
) -> int:
    """How many items from the start of `items` (the lane, in id order) go into one message.

    Always at least 1 (the head goes alone when nothing else fits). Stops at the first item
    that is not a mergeable text with the head's coalesce key, or that would pass `limit`, as
    the platform counts it (`length_of`: Telegram counts UTF-16 units, an emoji is two).
    """
    if not items:
        return 0
    head = items[0]
    if not can_merge(head):
        return 1
    length = length_of(format_part(head.payload["part"]))
    count = 1
    for item in items[1:]:
        if not can_merge(item) or item.coalesce_key != head.coalesce_key:
            break
        length += length_of(PART_SEPARATOR) + length_of(format_part(item.payload["part"]))
        if length > limit:
            break
        count += 1
    return count


def merged_payload(items: Sequence[Mergeable]) -> dict[str, Any]:
    """The payload to send for `items`: the head's own when alone, else one merged message."""
    if len(items) == 1:
        return items[0].payload
    payload = copy.deepcopy(items[0].payload)
    params = payload.setdefault("params", {})
    params["text"] = PART_SEPARATOR.join(format_part(i.payload["part"]) for i in items)
    params["parse_mode"] = "HTML"
    payload.pop("part", None)
    return payload
