"""The outbox's site sender: push an operator's reply to the visitor's open WebSockets.

The reply is already stored (the outbox row names its message), so delivery never waits for
the visitor: whoever is offline reads it from history when the panel opens or the socket
reconnects. With several processes on PostgreSQL the visitor's socket may be open on another
one, so the reply is also announced to the others (adapters/site/push.py).
Every file of the reply is first kept for the visitor (`replies.ReplyFiles`: its
bytes, or the operator's Telegram file fetched through the bridge's link) and linked, in the
live push and in history alike; a file that cannot be had is shown by name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.common.outbound import outbound_from_payload
from adapters.site.history import attachment_view
from adapters.site.replies import reply_key
from bridge.errors import PermanentError

if TYPE_CHECKING:
    from adapters.site.adapter import SiteAdapter
    from adapters.site.push import SitePush
    from adapters.site.uploads import StoredFile
    from bridge.events import Attachment

log = logging.getLogger(__name__)


class SiteSender:
    """Delivers outbox rows of platform "site" (see bridge.outbox.senders.Sender).

    Idempotent: a retried row keeps no second copy of a file and pushes the same message id,
    which the widget shows once.
    """

    def __init__(
        self,
        adapters: Mapping[str, SiteAdapter] | Callable[[], Mapping],
        push: SitePush | None = None,
    ) -> None:
        """`push`: announce each reply to the other processes (PostgreSQL; None on SQLite)."""
        self._adapters = adapters
        self._push = push

    def _adapter(self, channel: str) -> SiteAdapter:
        adapters = self._adapters() if callable(self._adapters) else self._adapters
        adapter = adapters.get(channel)
        if adapter is None:
            raise PermanentError(f"no site widget serves channel {channel!r}")
        return adapter

    async def deliver(self, item: Any) -> dict[str, Any]:
        outbound = outbound_from_payload(item.payload)
        adapter = self._adapter(outbound.channel)
        visitor = outbound.chat
        message_id = getattr(item, "message_id", None)
        reply = reply_key(message_id, getattr(item, "id", None))
        copies = [
            await adapter.replies.keep(visitor, reply, index, attachment)
            for index, attachment in enumerate(outbound.attachments)
        ]
        view = await adapter.stored_view(visitor, message_id)
        if view is None:
            view = {
                "id": None,
                "from": "operator",
                "author": None,
                "text": outbound.text,
                "attachments": [],
                "at": datetime.now(UTC).isoformat(),
            }
        view["attachments"] = [
            _attachment(adapter, visitor, a, c)
            for a, c in zip(outbound.attachments, copies, strict=True)
        ]
        if outbound.choices:  # buttons (a rating's stars); a press posts to /actions
            view["choices"] = [
                {"label": c.label, "action": c.action, "hint": c.hint} for c in outbound.choices
            ]
        sockets = await adapter.hub.push(visitor, {"type": "message", "message": view})
        if self._push is not None:
            await self._push.announce(
                adapter, visitor, message_id, view if message_id is None else None
            )
        return {"message_id": str(view["id"] or ""), "sockets": sockets}


def _attachment(
    adapter: SiteAdapter, visitor: str, attachment: Attachment, copy: StoredFile | None
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": attachment.kind,
        "file_name": attachment.file_name,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
    }
    return attachment_view(raw, visitor, adapter.file_link, copy)
