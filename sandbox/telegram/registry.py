"""The table of Bot API methods the fake implements, and the context each handler gets.

A handler is `async def handler(call: Call) -> result` registered with `@api("methodName")`;
`call.params` are already checked against the spec. `Call` holds the checks every handler
shares (which chat, may the bot post there, the rate limits) so handlers stay short.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.telegram.errors import ApiError, bad_request, forbidden, too_many_requests
from sandbox.telegram.shapes import message_json
from sandbox.telegram.spec import UploadedFile
from sandbox.telegram.state import GENERAL_TOPIC, Bot, Chat, Message, Topic, World

if TYPE_CHECKING:
    from sandbox.telegram.server import FakeTelegram

Handler = Callable[["Call"], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def api(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more Bot API method names (spec spelling)."""

    def register(handler: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = handler
        return handler

    return register


@dataclass
class Call:
    fake: FakeTelegram
    bot: Bot
    method: str
    params: dict[str, Any]
    attachments: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def world(self) -> World:
        return self.fake.world

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    # chats and rights

    def chat(self, name: str = "chat_id") -> Chat:
        """The chat named by a chat_id parameter (id or @username), as this bot sees it."""
        return self.chat_from_value(self.params[name])

    def chat_from_value(self, value: int | str) -> Chat:
        chat: Chat | None = None
        if isinstance(value, str):
            chat = self._chat_by_username(value)
        else:
            chat = self.world.find_chat(self.bot.id, value)
            if chat is None and value > 0 and value in self.world.users:
                raise forbidden("bot can't initiate conversation with a user")
        if chat is None:
            raise bad_request("chat not found")
        if chat.is_group and chat.id not in self._known_groups():
            raise bad_request("chat not found")
        return chat

    def _chat_by_username(self, value: str) -> Chat | None:
        if not value.startswith("@"):
            raise bad_request("chat not found")
        for user in self.world.users.values():
            if user.username and f"@{user.username}".lower() == value.lower():
                return self.world.find_chat(self.bot.id, user.id)
        return None

    def _known_groups(self) -> set[int]:
        return {chat.id for chat in self.world.groups.values() if self.bot.id in chat.members}

    def right(self, chat: Chat, name: str) -> bool:
        member = chat.member(self.bot.id)
        if member is None:
            return False
        if member.status == "creator":
            return True
        return member.status == "administrator" and bool(member.rights.get(name))

    def require_postable(self, chat: Chat) -> None:
        """403 when the bot cannot write into the chat at all."""
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            return
        member = chat.members.get(self.bot.id)
        kind = "supergroup" if chat.type == "supergroup" else "group"
        if member is None or member.status == "left":
            raise forbidden(f"bot is not a member of the {kind} chat")
        if member.status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")

    def topic(self, chat: Chat, thread_id: int | None, *, for_posting: bool) -> int | None:
        """Check a message_thread_id; returns the thread to store (None = General/no topic)."""
        if thread_id is None or (chat.is_forum and thread_id == GENERAL_TOPIC):
            return None
        if chat.type == "private" and not self.bot.topics_enabled:
            raise bad_request("message thread not found")  # threaded mode is off
        found: Topic | None = chat.topics.get(thread_id) if chat.has_topics else None
        if found is None or found.deleted:
            raise bad_request("message thread not found")
        if for_posting and found.closed:
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def spend(self, chat: Chat, count: int = 1) -> None:
        """Count `count` posts against the rate limits, or answer 429."""
        for _ in range(count):
            retry_after = self.fake.limiter.check(self.bot.id, chat.id, is_group=chat.is_group)
            if retry_after is not None:
                raise too_many_requests(retry_after)

    # messages

    def message(self, chat: Chat, message_id: int, missing: str) -> Message:
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(missing)
        return message

    def new_message(self, chat: Chat, thread_id: int | None, **fields: Any) -> Message:
        message = Message(
            message_id=chat.allocate_message_id(),
            chat_id=chat.id,
            from_id=self.bot.id,
            date=int(time.time()),
            thread_id=thread_id,
            **fields,
        )
        chat.messages[message.message_id] = message
        return message

    def render(self, chat: Chat, message: Message) -> dict[str, Any]:
        return message_json(message, chat, self.world)


def unsupported(method: str) -> ApiError:
    return bad_request(f"method {method} is not supported by the fake")
