"""The outbox's site sender: push an operator's reply to the visitor's open WebSockets.

The reply is already stored (the outbox row names its message), so delivery never waits for
the visitor: whoever is offline reads it from history when the panel opens or the socket
reconnects. Files that travel with their bytes are stored for the visitor and linked; files
known only by another platform's handle are shown by name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.common.outbound import outbound_from_payload
from adapters.site.history import attachment_view
from adapters.site.uploads import UploadRefused
from bridge.errors import PermanentError
from bridge.events import Attachment

if TYPE_CHECKING:
    from adapters.site.adapter import SiteAdapter

log = logging.getLogger(__name__)


class SiteSender:
    """Delivers outbox rows of platform "site" (see bridge.outbox.senders.Sender)."""

    def __init__(self, adapters: Mapping[str, SiteAdapter] | Callable[[], Mapping]) -> None:
        self._adapters = adapters

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
        view = await adapter.stored_view(visitor, getattr(item, "message_id", None))
        if view is None:
            view = {
                "id": None,
                "from": "operator",
                "author": None,
                "text": outbound.text,
                "attachments": [],
                "at": datetime.now(UTC).isoformat(),
            }
        view["attachments"] = [self._attachment(adapter, visitor, a) for a in outbound.attachments]
        sockets = await adapter.hub.push(visitor, {"type": "message", "message": view})
        return {"message_id": str(view["id"] or ""), "sockets": sockets}

    @staticmethod
    def _attachment(adapter: SiteAdapter, visitor: str, attachment: Attachment) -> dict:
        raw: dict[str, Any] = {
            "kind": attachment.kind,
            "file_name": attachment.file_name,
            "mime_type": attachment.mime_type,
            "size": attachment.size,
        }
        if attachment.data is not None:
            try:
                stored = adapter.files.save(
                    adapter.widget_id,
                    visitor,
                    attachment.data,
                    attachment.file_name,
                    attachment.mime_type or "",
                )
            except UploadRefused as exc:
                log.debug("site: an operator's file is shown by name only: %s", exc)
            else:
                raw["file_ref"] = f"site-file:{visitor}/{stored.id}"
                raw["file_name"] = stored.name
                raw["mime_type"] = stored.mime
        return attachment_view(raw, visitor, adapter.file_link)
