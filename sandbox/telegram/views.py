"""Read-only views of what a chat shows now, for tests and the control API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.telegram.state import Chat, Message, Topic


@dataclass(frozen=True, slots=True)
class MessageView:
    """One message as a person in the chat would see it now."""

    message_id: int
    from_id: int | None
    kind: str  # text | photo | document | voice | ... | forum_topic_created | ...
    text: str | None
    caption: str | None
    file_id: str | None
    topic: int | None
    reply_to: int | None
    edited: bool
    pinned: bool
    deleted: bool
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    media_group_id: str | None = None
    reactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def callback_data(self) -> list[str]:
        """Every callback_data on the message's inline keyboard, row by row."""
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TopicView:
    thread_id: int
    name: str
    icon_color: int
    closed: bool
    deleted: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _file_id(message: Message) -> str | None:
    for value in message.content.values():
        if isinstance(value, list) and value and isinstance(value[-1], dict):
            return value[-1].get("file_id")
        if isinstance(value, dict) and "file_id" in value:
            return value["file_id"]
    return None


def message_view(chat: Chat, message: Message) -> MessageView:
    return MessageView(
        message_id=message.message_id,
        from_id=message.from_id,
        kind=message.kind,
        text=message.text,
        caption=message.caption,
        file_id=_file_id(message),
        topic=message.thread_id,
        reply_to=message.reply_to_id,
        edited=message.edit_date is not None,
        pinned=message.message_id in chat.pinned,
        deleted=message.deleted,
        buttons=(message.reply_markup or {}).get("inline_keyboard", []),
        media_group_id=message.media_group_id,
        reactions=list(message.reactions),
    )


def chat_messages(
    chat: Chat, topic: int | None = None, *, include_deleted: bool = False
) -> list[MessageView]:
    """Messages of a chat (or of one topic), oldest first."""
    return [
        message_view(chat, m)
        for m in sorted(chat.messages.values(), key=lambda m: m.message_id)
        if (include_deleted or not m.deleted) and (topic is None or m.thread_id == topic)
    ]


def topic_view(topic: Topic) -> TopicView:
    return TopicView(
        thread_id=topic.thread_id,
        name=topic.name,
        icon_color=topic.icon_color,
        closed=topic.closed,
        deleted=topic.deleted,
    )
