"""What a visitor may read: their own messages and the replies, as the widget shows them.

Reads go through `storage.site` (only that visitor's conversations, never internal notes); a
message becomes a small JSON object the widget renders as text. Files sent through the widget
carry a `file_ref` of `site-file:<visitor>/<file id>` and get a signed link of that visitor; an
operator's files get the link of the copy kept for the visitor (adapters/site/replies.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage.db import reading
from storage.models import Direction, Message
from storage.site import visitor_messages

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from adapters.site.uploads import StoredFile

FILE_REF_PREFIX = "site-file:"

FileLink = Callable[[str, str], str]
"""(visitor id, file id) → the signed path of that file."""

ReplyFile = Callable[[str, int, int], "StoredFile | None"]
"""(visitor id, message id, index) → the copy kept of that file of an operator's reply."""


def attachment_view(
    raw: dict[str, Any], visitor: str, file_link: FileLink, copy: StoredFile | None = None
) -> dict[str, Any]:
    """One attachment as the widget shows it: kind, name, and a link when it has one.

    `copy` is the visitor's copy of an operator's file: its link, and "photo" only when the
    copy really is an image (the widget renders photos as <img>).
    """
    if copy is not None:
        kind = raw.get("kind", "document")
        if kind == "photo" and not copy.mime.startswith("image/"):
            kind = "document"
        return {
            "kind": kind,
            "name": raw.get("file_name") or copy.name,
            "mime": copy.mime,
            "size": copy.size,
            "url": file_link(visitor, copy.id),
        }
    view: dict[str, Any] = {
        "kind": raw.get("kind", "document"),
        "name": raw.get("file_name") or "",
        "mime": raw.get("mime_type") or "",
        "size": raw.get("size"),
    }
    ref = raw.get("file_ref") or ""
    if isinstance(ref, str) and ref.startswith(FILE_REF_PREFIX):
        owner, _, file_id = ref.removeprefix(FILE_REF_PREFIX).partition("/")
        if owner == visitor and file_id:
            view["url"] = file_link(owner, file_id)
    return view


@dataclass(frozen=True, slots=True)
class JustStored:
    """A visitor's message the core has just stored, as `message_view` reads it (the fields of
    its `Message` row, without making one)."""

    id: int
    text: str | None
    attachments: list[dict[str, Any]] | None
    created_at: datetime
    external_id: str
    direction: Direction = Direction.IN
    author: str | None = None


def message_view(
    message: Message | JustStored,
    visitor: str,
    file_link: FileLink,
    reply_file: ReplyFile | None = None,
) -> dict[str, Any]:
    """A stored message as the widget shows it."""
    outgoing = message.direction == Direction.OUT
    attachments = []
    for index, raw in enumerate(message.attachments or []):
        copy = None
        if outgoing and reply_file is not None and message.id is not None:
            copy = reply_file(visitor, message.id, index)
        attachments.append(attachment_view(raw, visitor, file_link, copy))
    return {
        "id": message.id,
        "from": "operator" if outgoing else "visitor",
        "author": message.author if outgoing else None,
        "text": message.text or "",
        "attachments": attachments,
        "at": message.created_at.isoformat(),
        # The widget's own id of a visitor's message, so a tab matches its pending bubble.
        "client": None if outgoing else (message.external_id or "").rpartition(":")[2] or None,
    }


class History:
    """Reads a visitor's history of one widget's channel."""

    def __init__(
        self,
        sessions: Callable[[], AsyncSession],
        channel: str,
        file_link: FileLink,
        reply_file: ReplyFile | None = None,
    ) -> None:
        self._sessions = sessions
        self.channel = channel
        self._file_link = file_link
        self._reply_file = reply_file

    async def since(self, visitor: str, after_id: int = 0, limit: int = 200) -> list[dict]:
        """The visitor's messages newer than `after_id`, oldest first."""
        async with reading(self._sessions) as session:
            messages = await visitor_messages(
                session, self.channel, visitor, after_id=after_id, limit=limit
            )
        return [message_view(m, visitor, self._file_link, self._reply_file) for m in messages]
