"""What the fake Telegram remembers: users, chats, members and rights, topics, messages, files.

Plain mutable dataclasses; the Bot API handlers and the control API change them, `shapes.py`
renders them as the spec's objects. Private chats are per bot (chat id = the user's id, as in
Telegram); groups are shared by every bot that is a member.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)
TOPIC_ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
GENERAL_TOPIC = 1


@dataclass(slots=True)
class FakeUser:
    """A Telegram account (a person or a bot)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(slots=True)
class Bot:
    """A bot known to the fake, with what it configured."""

    token: str
    user: FakeUser
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: BotFather's "threaded mode": forum topics in the bot's private chats (Bot API 9.3).
    topics_enabled: bool = False
    #: BotFather's "group privacy": on (the default) hides most group messages from the bot.
    privacy: bool = True

    @property
    def id(self) -> int:
        return self.user.id


@dataclass(slots=True)
class Member:
    user_id: int
    status: str  # creator | administrator | member | left | kicked
    rights: dict[str, bool] = field(default_factory=dict)
    joined: int = field(default_factory=lambda: int(time.time()))


@dataclass(slots=True)
class Topic:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False
    creator_id: int | None = None


@dataclass(slots=True)
class Message:
    message_id: int
    chat_id: int
    from_id: int | None
    date: int
    thread_id: int | None = None
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    content: dict[str, Any] = field(default_factory=dict)  # photo/document/... as the spec shows
    reply_markup: dict[str, Any] | None = None
    reply_to_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    media_group_id: str | None = None
    forward_origin: dict[str, Any] | None = None
    reactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.text is not None:
            return "text"
        return next(iter(self.content), "service")


@dataclass(slots=True)
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    is_forum: bool = False
    bot_id: int | None = None  # private chats: the bot on the other side
    user_id: int | None = None  # private chats: the person
    blocked: bool = False  # private chats: the person blocked the bot
    members: dict[int, Member] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    @property
    def has_topics(self) -> bool:
        """A forum supergroup, or a private chat of a bot with topics (whose topics exist)."""
        return self.is_forum or (self.type == "private" and bool(self.topics))

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def member(self, user_id: int) -> Member | None:
        member = self.members.get(user_id)
        if member is None or member.status in ("left", "kicked"):
            return None
        return member


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | voice | audio | video | sticker | animation | video_note
    data: bytes
    file_path: str
    filename: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(slots=True)
class CallbackQuery:
    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    deadline: float
    answer: dict[str, Any] | None = None


@dataclass(slots=True)
class World:
    """Everything the fake knows."""

    users: dict[int, FakeUser] = field(default_factory=dict)
    bots: dict[str, Bot] = field(default_factory=dict)
    groups: dict[int, Chat] = field(default_factory=dict)
    private: dict[tuple[int, int], Chat] = field(default_factory=dict)  # (bot id, user id)
    files: dict[str, StoredFile] = field(default_factory=dict)
    callbacks: dict[str, CallbackQuery] = field(default_factory=dict)
    _user_ids: itertools.count = field(default_factory=lambda: itertools.count(100001))
    _group_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _file_seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_user_id(self) -> int:
        user_id = next(self._user_ids)
        while user_id in self.users:
            user_id = next(self._user_ids)
        return user_id

    def new_group_id(self, supergroup: bool) -> int:
        seq = next(self._group_ids)
        return -(1000000000000 + seq) if supergroup else -(4000 + seq)

    def next_file_seq(self) -> int:
        return next(self._file_seq)

    def bot_by_id(self, bot_id: int) -> Bot:
        for bot in self.bots.values():
            if bot.id == bot_id:
                return bot
        raise KeyError(bot_id)

    def find_chat(self, bot_id: int, chat_id: int) -> Chat | None:
        if chat_id < 0:
            return self.groups.get(chat_id)
        return self.private.get((bot_id, chat_id))

    def private_chat(self, bot_id: int, user: FakeUser) -> Chat:
        """The private chat between `user` and the bot, created on first use."""
        key = (bot_id, user.id)
        chat = self.private.get(key)
        if chat is None:
            chat = Chat(id=user.id, type="private", bot_id=bot_id, user_id=user.id)
            self.private[key] = chat
        return chat
