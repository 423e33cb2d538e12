"""The people's side of the fake, as Python methods: create users and groups, write, press, join.

Mixed into FakeTelegram. Each action changes the state and queues the update(s) the bots in
that chat would get, exactly as Telegram would deliver them. Misuse (a user writing into a
group they are not in, pressing a button that is not there) raises ValueError with the reason.
"""

from __future__ import annotations

import io
import secrets
import time
from typing import TYPE_CHECKING, Any

from PIL import Image

from sandbox.telegram.files import store_file
from sandbox.telegram.shapes import chat_json, member_json, message_json, user_json
from sandbox.telegram.state import (
    ADMIN_RIGHTS,
    GENERAL_TOPIC,
    Bot,
    CallbackQuery,
    Chat,
    FakeUser,
    Member,
    Message,
    World,
)
from sandbox.telegram.views import MessageView, TopicView, chat_messages, topic_view

if TYPE_CHECKING:
    from sandbox.telegram.clock import Clock
    from sandbox.telegram.updates import UpdateFeed

BotRef = Bot | FakeUser | str | int | None


def tiny_png(color: tuple[int, int, int] = (200, 80, 80), size: int = 8) -> bytes:
    """A small valid PNG, for photos in tests."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


class UserActions:
    world: World
    clock: Clock
    callback_query_timeout: float

    def feed(self, bot: Bot | int) -> UpdateFeed:  # pragma: no cover - provided by the server
        raise NotImplementedError

    # people and chats

    def add_user(
        self,
        first_name: str = "User",
        last_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> FakeUser:
        """A person with a Telegram account."""
        user_id = user_id or self.world.new_user_id()
        if user_id in self.world.users:
            raise ValueError(f"user id {user_id} is taken")
        user = FakeUser(user_id, first_name, last_name, username, False, language_code)
        self.world.users[user_id] = user
        return user

    def create_group(
        self,
        title: str,
        *,
        members: tuple[FakeUser, ...] | list[FakeUser] = (),
        admins: tuple[FakeUser, ...] | list[FakeUser] = (),
        bots: list[BotRef] | None = None,
        forum: bool = False,
        supergroup: bool = True,
        bot_rights: dict[str, bool] | None = None,
    ) -> int:
        """A group with the bots (default: every bot) as administrators. Returns the chat id.

        The first admin (or a new user "Owner") is the creator. `bot_rights` overrides the
        bots' administrator rights (default: all, including can_manage_topics).
        """
        if forum and not supergroup:
            raise ValueError("only a supergroup can be a forum")
        chat = Chat(
            id=self.world.new_group_id(supergroup),
            type="supergroup" if supergroup else "group",
            title=title,
            is_forum=forum,
            next_message_id=2,  # message 1 is the group's creation
        )
        self.world.groups[chat.id] = chat
        owner = admins[0] if admins else self.add_user("Owner")
        chat.members[owner.id] = Member(owner.id, "creator")
        for admin in admins[1:]:
            chat.members[admin.id] = Member(admin.id, "administrator", _all_rights())
        for user in members:
            chat.members.setdefault(user.id, Member(user.id, "member"))
        rights = {**_all_rights(), **(bot_rights or {})}
        bot_list = [self._bot(b) for b in bots] if bots is not None else self.world.bots.values()
        for bot in list(bot_list):
            old = Member(bot.id, "left")
            chat.members[bot.id] = Member(bot.id, "administrator", dict(rights))
            self._member_update(chat, owner, old, chat.members[bot.id], own=True)
        return chat.id

    def create_forum(self, title: str = "Operators", **kwargs: Any) -> int:
        """The operators' forum supergroup, bots as admins that may manage topics."""
        return self.create_group(title, forum=True, supergroup=True, **kwargs)

    def join(self, user: FakeUser, chat_id: int) -> dict[str, Any]:
        """`user` joins a group: a new_chat_members message and chat_member updates."""
        chat = self._group(chat_id)
        old = chat.members.get(user.id) or Member(user.id, "left")
        if chat.member(user.id) is not None:
            raise ValueError(f"user {user.id} is already in chat {chat_id}")
        new = Member(user.id, "member")
        chat.members[user.id] = new
        self._member_update(chat, user, old, new, own=user.is_bot)
        return self._post(user, chat, content={"new_chat_members": [user_json(user)]})

    def promote(self, user: FakeUser, chat_id: int) -> None:
        """A member becomes an administrator of the group (with a chat_member update)."""
        chat = self._group(chat_id)
        old = chat.member(user.id)
        if old is None:
            raise ValueError(f"user {user.id} is not in chat {chat_id}")
        new = Member(user.id, "administrator", _all_rights())
        chat.members[user.id] = new
        self._member_update(chat, user, old, new, own=user.is_bot)

    def demote(self, user: FakeUser, chat_id: int) -> None:
        """An administrator becomes a plain member (with a chat_member update)."""
        chat = self._group(chat_id)
        old = chat.member(user.id)
        if old is None:
            raise ValueError(f"user {user.id} is not in chat {chat_id}")
        new = Member(user.id, "member")
        chat.members[user.id] = new
        self._member_update(chat, user, old, new, own=user.is_bot)

    def set_admin_rights(self, user: FakeUser, chat_id: int, **rights: bool) -> None:
        """Change some of an administrator's rights (`can_pin_messages=False`, ...)."""
        chat = self._group(chat_id)
        old = chat.member(user.id)
        if old is None or old.status != "administrator":
            raise ValueError(f"user {user.id} is not an administrator of chat {chat_id}")
        unknown = set(rights) - set(ADMIN_RIGHTS)
        if unknown:
            raise ValueError(f"unknown rights {sorted(unknown)}")
        new = Member(user.id, "administrator", {**old.rights, **rights})
        chat.members[user.id] = new
        self._member_update(chat, user, old, new, own=user.is_bot)

    def set_forum(self, chat_id: int, on: bool) -> None:
        """Turn a supergroup's topics on or off, as its owner does in the group's settings."""
        chat = self._group(chat_id)
        if on and chat.type != "supergroup":
            raise ValueError("only a supergroup can be a forum")
        chat.is_forum = on

    def leave(self, user: FakeUser, chat_id: int) -> dict[str, Any]:
        """`user` leaves a group: a left_chat_member message and chat_member updates."""
        chat = self._group(chat_id)
        old = chat.member(user.id)
        if old is None:
            raise ValueError(f"user {user.id} is not in chat {chat_id}")
        new = Member(user.id, "left")
        message = self._post(user, chat, content={"left_chat_member": user_json(user)})
        chat.members[user.id] = new
        self._member_update(chat, user, old, new, own=user.is_bot)
        return message

    def block(self, user: FakeUser, bot: BotRef = None) -> None:
        """`user` blocks the bot: sends to them answer 403, the bot gets my_chat_member."""
        self._set_blocked(user, bot, True)

    def unblock(self, user: FakeUser, bot: BotRef = None) -> None:
        self._set_blocked(user, bot, False)

    def _set_blocked(self, user: FakeUser, bot_ref: BotRef, blocked: bool) -> None:
        bot = self._bot(bot_ref)
        chat = self.world.private_chat(bot.id, user)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        before, after = ("member", "kicked") if blocked else ("kicked", "member")
        payload = {
            "chat": chat_json(chat, self.world),
            "from": user_json(user),
            "date": int(time.time()),
            "old_chat_member": member_json(Member(bot.id, before), self.world),
            "new_chat_member": member_json(Member(bot.id, after), self.world),
        }
        self.feed(bot).push("my_chat_member", payload)

    # writing

    def user_says(
        self,
        user: FakeUser,
        text: str,
        *,
        chat_id: int | None = None,
        topic: int | None = None,
        reply_to: int | None = None,
        bot: BotRef = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """`user` writes `text` (private chat with the bot unless chat_id is a group).
        Returns the Message the bots receive."""
        if not text:
            raise ValueError("a text message needs text")
        chat = self._chat_for(user, chat_id, bot)
        return self._post(
            user, chat, topic=topic, reply_to=reply_to, text=text, entities=entities or []
        )

    def user_sends_photo(
        self,
        user: FakeUser,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        **where: Any,
    ) -> dict[str, Any]:
        stored = store_file(self.world, "photo", data or tiny_png())
        return self._media(user, stored, caption, {}, **where)

    def user_sends_document(
        self,
        user: FakeUser,
        data: bytes = b"hello",
        filename: str = "file.txt",
        *,
        caption: str | None = None,
        **where: Any,
    ) -> dict[str, Any]:
        stored = store_file(self.world, "document", data, filename)
        return self._media(user, stored, caption, {}, **where)

    def user_sends_voice(
        self, user: FakeUser, data: bytes = b"OggS", duration: int = 1, **where: Any
    ) -> dict[str, Any]:
        stored = store_file(self.world, "voice", data, None, "audio/ogg")
        return self._media(user, stored, None, {"duration": duration}, **where)

    def user_sends_video(
        self,
        user: FakeUser,
        data: bytes = b"\x00\x00\x00\x18ftypmp42",
        filename: str = "video.mp4",
        *,
        caption: str | None = None,
        duration: int = 1,
        width: int = 320,
        height: int = 240,
        **where: Any,
    ) -> dict[str, Any]:
        """`user` sends a video (a Video object: file_id, width, height, duration, ...)."""
        stored = store_file(self.world, "video", data, filename, "video/mp4")
        extra = {"duration": duration, "width": width, "height": height}
        return self._media(user, stored, caption, extra, **where)

    def user_sends_sticker(
        self, user: FakeUser, emoji: str = "👍", data: bytes | None = None, **where: Any
    ) -> dict[str, Any]:
        stored = store_file(self.world, "sticker", data or tiny_png(size=16), "sticker.webp")
        return self._media(user, stored, None, {"emoji": emoji}, **where)

    def user_sends_location(
        self, user: FakeUser, latitude: float, longitude: float, **where: Any
    ) -> dict[str, Any]:
        chat = self._chat_for(user, where.pop("chat_id", None), where.pop("bot", None))
        location = {"latitude": latitude, "longitude": longitude}
        return self._post(user, chat, content={"location": location}, **where)

    def user_sends_contact(
        self, user: FakeUser, phone_number: str, first_name: str, **where: Any
    ) -> dict[str, Any]:
        chat = self._chat_for(user, where.pop("chat_id", None), where.pop("bot", None))
        contact = {"phone_number": phone_number, "first_name": first_name}
        return self._post(user, chat, content={"contact": contact}, **where)

    def user_edits(
        self,
        user: FakeUser,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        bot: BotRef = None,
    ) -> dict[str, Any]:
        """`user` edits their own message: bots get an edited_message update."""
        chat = self._chat_for(user, chat_id, bot)
        message = chat.messages.get(message_id)
        if message is None or message.deleted or message.from_id != user.id:
            raise ValueError(f"user {user.id} has no message {message_id} in chat {chat_id}")
        if message.text is not None:
            message.text = text
        else:
            message.caption = text
        message.edit_date = int(time.time())
        payload = message_json(message, chat, self.world)
        self._deliver(chat, "edited_message", payload)
        return payload

    def press(
        self,
        user: FakeUser,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        bot: BotRef = None,
        forged: bool = False,
    ) -> str:
        """`user` presses the inline button with callback_data `data`. Returns the query id.

        `forged`: a modified client sends `data` for a bot's message whatever its buttons say
        (the Bot API cannot stop it: `CallbackQuery.data` is whatever the client sent)."""
        chat = self._chat_for(user, chat_id, bot)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        if not forged and data not in [b.get("callback_data") for row in rows for b in row]:
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        owner = self.world.bot_by_id(message.from_id) if message.from_id else None
        if owner is None or not owner.user.is_bot:
            raise ValueError("only a bot's message has inline buttons")
        query = CallbackQuery(
            id=str(secrets.randbelow(10**18) + 10**18),
            bot_id=owner.id,
            user_id=user.id,
            chat_id=chat.id,
            message_id=message_id,
            data=data,
            deadline=self.clock() + self.callback_query_timeout,
        )
        self.world.callbacks[query.id] = query
        payload = {
            "id": query.id,
            "from": user_json(user),
            "message": message_json(message, chat, self.world),
            "chat_instance": str(abs(hash((owner.id, chat.id)))),
            "data": data,
        }
        self.feed(owner).push("callback_query", payload)
        return query.id

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """What the bot answered to a pressed button (text, show_alert, url), or None yet."""
        query = self.world.callbacks.get(query_id)
        if query is None:
            raise ValueError(f"unknown callback query {query_id}")
        return query.answer

    # reading

    def chat_view(
        self,
        chat_id: int,
        topic: int | None = None,
        *,
        bot: BotRef = None,
        include_deleted: bool = False,
    ) -> list[MessageView]:
        """What the chat (or one of its topics) shows now, oldest first."""
        chat = self._any_chat(chat_id, bot)
        return chat_messages(chat, topic, include_deleted=include_deleted)

    def topics(self, chat_id: int, *, bot: BotRef = None) -> list[TopicView]:
        """The forum's topics, or those of the bot's private chat with user `chat_id` (deleted
        ones too, flagged)."""
        chat = self._any_chat(chat_id, bot) if chat_id > 0 else self._group(chat_id)
        return [topic_view(t) for t in sorted(chat.topics.values(), key=lambda t: t.thread_id)]

    def topic_by_name(self, chat_id: int, name: str) -> TopicView:
        for topic in self.topics(chat_id):
            if topic.name == name and not topic.deleted:
                return topic
        raise ValueError(f"no topic named {name!r} in chat {chat_id}")

    def pinned(self, chat_id: int, *, bot: BotRef = None) -> list[int]:
        return list(self._any_chat(chat_id, bot).pinned)

    # internals

    def _bot(self, ref: BotRef) -> Bot:
        if isinstance(ref, Bot):
            return ref
        if ref is None:
            if not self.world.bots:
                raise ValueError("no bot registered: call add_bot(token) first")
            return next(iter(self.world.bots.values()))
        if isinstance(ref, FakeUser):
            ref = ref.id
        if isinstance(ref, str):
            if ref not in self.world.bots:
                raise ValueError(f"unknown bot token {ref!r}")
            return self.world.bots[ref]
        try:
            return self.world.bot_by_id(ref)
        except KeyError:
            raise ValueError(f"unknown bot id {ref}") from None

    def _group(self, chat_id: int) -> Chat:
        chat = self.world.groups.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown group {chat_id}")
        return chat

    def _any_chat(self, chat_id: int, bot: BotRef) -> Chat:
        if chat_id < 0:
            return self._group(chat_id)
        chat = self.world.private.get((self._bot(bot).id, chat_id))
        if chat is None:
            raise ValueError(f"no private chat with user {chat_id}")
        return chat

    def _chat_for(self, user: FakeUser, chat_id: int | None, bot: BotRef) -> Chat:
        if chat_id is None or chat_id == user.id:
            return self.world.private_chat(self._bot(bot).id, user)
        chat = self._any_chat(chat_id, bot)
        if chat.is_group and chat.member(user.id) is None:
            raise ValueError(f"user {user.id} is not a member of chat {chat_id}")
        return chat

    def _media(
        self,
        user: FakeUser,
        stored: Any,
        caption: str | None,
        extra: dict[str, Any],
        **where: Any,
    ) -> dict[str, Any]:
        from sandbox.telegram.shapes import media_json

        chat = self._chat_for(user, where.pop("chat_id", None), where.pop("bot", None))
        return self._post(user, chat, content=media_json(stored, extra), caption=caption, **where)

    def _post(
        self,
        user: FakeUser,
        chat: Chat,
        *,
        topic: int | None = None,
        reply_to: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        thread_id = None if topic == GENERAL_TOPIC else topic
        if reply_to is not None:
            replied = chat.messages.get(reply_to)
            if replied is None or replied.deleted:
                raise ValueError(f"no message {reply_to} to reply to in chat {chat.id}")
            thread_id = thread_id or replied.thread_id
        if thread_id is not None:
            found = chat.topics.get(thread_id)
            if found is None or found.deleted:
                raise ValueError(f"no topic {thread_id} in chat {chat.id}")
            member = chat.members.get(user.id)
            if found.closed and (
                member is None or member.status not in ("creator", "administrator")
            ):
                raise ValueError(f"topic {thread_id} is closed")
        message = Message(
            message_id=chat.allocate_message_id(),
            chat_id=chat.id,
            from_id=user.id,
            date=int(time.time()),
            thread_id=thread_id,
            reply_to_id=reply_to,
            **fields,
        )
        chat.messages[message.message_id] = message
        payload = message_json(message, chat, self.world)
        self._deliver(chat, "message", payload)
        return payload

    def _deliver(self, chat: Chat, kind: str, payload: dict[str, Any]) -> None:
        if chat.type == "private":
            if not chat.blocked and chat.bot_id is not None:
                self.feed(chat.bot_id).push(kind, payload)
            return
        for bot in self.world.bots.values():
            if chat.member(bot.id) is not None and payload.get("from", {}).get("id") != bot.id:
                self.feed(bot).push(kind, payload)

    def _member_update(
        self, chat: Chat, actor: FakeUser, old: Member, new: Member, *, own: bool
    ) -> None:
        payload = {
            "chat": chat_json(chat, self.world),
            "from": user_json(actor),
            "date": int(time.time()),
            "old_chat_member": member_json(old, self.world),
            "new_chat_member": member_json(new, self.world),
        }
        for bot in self.world.bots.values():
            if bot.id == new.user_id:
                self.feed(bot).push("my_chat_member", payload)
            elif chat.member(bot.id) is not None and not own:
                self.feed(bot).push("chat_member", payload)


def _all_rights() -> dict[str, bool]:
    return dict.fromkeys(ADMIN_RIGHTS, True)
