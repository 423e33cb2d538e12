"""python-telegram-bot (PTB) as a second, independent client of the fake Bot API.

The service speaks to Telegram through aiogram only; PTB is a dev dependency that parses every
answer of the fake into its own objects and maps every error to its own exception classes. A
shape the fake gets wrong (a missing required field, a misspelt one, a wrong error body) shows
here as a parse failure, a field in `api_kwargs` (PTB's bin for fields it does not know) or the
wrong exception, independently of aiogram's reading of the spec.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    MessageId,
    MessageOriginUser,
    TelegramObject,
    Update,
    User,
    WebhookInfo,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from sandbox.runner import serving
from sandbox.telegram import FakeTelegram, FakeUser, ManualClock, TelegramLimits, tiny_png
from tests.sandbox.telegram.conftest import TOKEN, Served, mounted
from tests.test_layering import imported_modules, product_modules

pytestmark = pytest.mark.filterwarnings("error::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def limits() -> TelegramLimits:
    return TelegramLimits(time_scale=1000, per_chat_burst=1000)  # limits out of the way


def ptb_bot(base_url: str, token: str = TOKEN) -> Bot:
    """PTB's Bot pointed at the fake, as a local Bot API server would be configured."""
    return Bot(token, base_url=f"{base_url}/bot", base_file_url=f"{base_url}/file/bot")


@pytest.fixture
async def bot(served: Served, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    # Durations as datetime.timedelta (PTB's next major default) instead of deprecated ints.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    bot = ptb_bot(served.base_url)
    async with bot:  # initialize() calls getMe
        yield bot


# Fields the fake sends that are newer than PTB 22.8 (Bot API 10.0) and than the shipped spec
# (10.1): the live server sends them and aiogram 3.31 (Bot API 10.3) requires them (shapes.py).
NEWER_THAN_PTB = frozenset({"can_send_welcome_messages"})


def unknown_fields(obj: Any, path: str = "") -> list[str]:
    """Every field PTB did not recognise (kept in `api_kwargs`), anywhere inside `obj`, but
    those in NEWER_THAN_PTB."""
    found: list[str] = []
    if isinstance(obj, TelegramObject):
        found += [
            f"{path}.{name}".lstrip(".") for name in obj.api_kwargs if name not in NEWER_THAN_PTB
        ]
        for name, value in obj._get_attrs(recursive=False).items():  # PTB's own attribute walk
            found += unknown_fields(value, f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            found += unknown_fields(item, f"{path}[{i}]")
    return found


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


def started(served: Served, name: str = "Ann") -> FakeUser:
    """A user who wrote /start to the bot, so it may write to them."""
    user = served.fake.add_user(name, username=name.lower())
    served.fake.user_says(user, "/start")
    return user


def test_the_service_never_imports_ptb() -> None:
    # PTB is a dev dependency for this file only; the service speaks aiogram (app included).
    importers = [
        module
        for path, module in product_modules()
        if any(name.split(".")[0] == "telegram" for name in imported_modules(path))
    ]
    assert importers == []


# the bot itself and updates


async def test_get_me_is_a_ptb_user(served: Served, bot: Bot) -> None:
    me = await bot.get_me()

    assert isinstance(me, User)
    assert (me.id, me.is_bot, me.username) == (123456, True, "support_bot")
    assert me.can_join_groups is True and me.can_read_all_group_messages is False
    assert me.has_topics_enabled is None
    assert bot.username == "support_bot"  # initialize() read getMe too
    assert unknown_fields(me) == []


async def test_get_me_tells_ptb_that_topics_are_enabled(served: Served, bot: Bot) -> None:
    served.fake.set_topics_enabled(TOKEN, True)

    me = await bot.get_me()

    assert me.has_topics_enabled is True


async def test_long_poll_wakes_and_offsets_confirm(served: Served, bot: Bot) -> None:
    user = served.fake.add_user("Ann", username="ann")
    served.fake.user_says(user, "first")
    served.fake.user_says(user, "second")

    limited = await bot.get_updates(limit=1, timeout=0)
    both = await bot.get_updates(offset=limited[0].update_id, timeout=0)
    rest = await bot.get_updates(offset=both[-1].update_id + 1, timeout=0)
    poll = asyncio.create_task(bot.get_updates(offset=both[-1].update_id + 1, timeout=10))
    await asyncio.sleep(0.05)
    served.fake.user_says(user, "third")
    woken = await asyncio.wait_for(poll, 5)

    assert [u.message.text if u.message else None for u in limited] == ["first"]
    assert [u.message.text if u.message else None for u in both] == ["first", "second"]
    assert rest == ()
    (update,) = woken
    assert isinstance(update, Update) and update.update_id == both[-1].update_id + 1
    message = update.message
    assert message is not None and message.text == "third"
    assert message.from_user is not None and message.from_user.username == "ann"
    assert message.chat.type == ChatType.PRIVATE and message.chat.id == user.id
    assert isinstance(message.date, dtm.datetime) and message.date.tzinfo is not None
    assert unknown_fields(woken) == []


async def test_webhook_set_info_delivery_conflict_and_delete(served: Served, bot: Bot) -> None:
    delivered: list[tuple[str | None, dict[str, Any]]] = []
    arrived = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        delivered.append((secret, await request.json()))
        arrived.set()
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    user = served.fake.add_user("Ann")
    async with serving(receiver) as hook:
        url = f"{hook.base_url}/hook"
        assert await bot.set_webhook(
            url,
            secret_token="s3cret",
            max_connections=5,
            allowed_updates=["message", "callback_query"],
        )
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict) as conflict:
            await bot.get_updates(timeout=0)
        served.fake.user_says(user, "via webhook")
        await asyncio.wait_for(arrived.wait(), 5)
        assert await bot.delete_webhook(drop_pending_updates=True)
    after = await bot.get_webhook_info()

    assert isinstance(info, WebhookInfo)
    assert (info.url, info.max_connections, info.has_custom_certificate) == (url, 5, False)
    assert set(info.allowed_updates or ()) == {"message", "callback_query"}
    assert info.pending_update_count == 0 and info.last_error_date is None
    assert "can't use getUpdates method while webhook is active" in conflict.value.message
    (secret, body), *_ = delivered
    update = Update.de_json(body, bot)
    assert secret == "s3cret"
    assert update.message is not None and update.message.text == "via webhook"
    assert unknown_fields(update) == []
    assert (after.url, after.pending_update_count) == ("", 0)
    assert await bot.get_updates(timeout=0) == ()


# sending


async def test_send_message_html_with_inline_keyboard(served: Served, bot: Bot) -> None:
    user = started(served)

    sent = await bot.send_message(
        user.id,
        '👋 <b>New</b> chat from <a href="https://example.org/c/1">Ann &amp; Bob</a>',
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("accept:1", "spam:1"),
    )

    assert isinstance(sent, Message)
    assert sent.text == "👋 New chat from Ann & Bob"
    bold, link = sent.entities
    # Offsets in UTF-16 code units (the emoji is two), which PTB decodes by.
    assert (bold.type, bold.offset, bold.length) == (MessageEntity.BOLD, 3, 3)
    assert (link.type, link.url) == (MessageEntity.TEXT_LINK, "https://example.org/c/1")
    assert sent.parse_entities() == {bold: "New", link: "Ann & Bob"}
    assert sent.from_user is not None and sent.from_user.id == bot.id
    assert sent.reply_markup is not None
    assert [b.callback_data for b in sent.reply_markup.inline_keyboard[0]] == [
        "accept:1",
        "spam:1",
    ]
    assert unknown_fields(sent) == []
    assert served.fake.chat_view(user.id)[-1].callback_data == ["accept:1", "spam:1"]


async def test_message_in_a_forum_topic(served: Served, bot: Bot) -> None:
    operator = served.fake.add_user("Olga")
    forum = served.fake.create_forum("Support", members=[operator])
    topic = await bot.create_forum_topic(forum, "Ann (VK)")

    sent = await bot.send_message(forum, "hello", message_thread_id=topic.message_thread_id)
    said = served.fake.user_says(operator, "hi", chat_id=forum, topic=topic.message_thread_id)
    (update,) = [u for u in await bot.get_updates(timeout=0) if u.message and u.message.text]

    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    assert sent.chat.type == ChatType.SUPERGROUP and sent.chat.is_forum is True
    assert sent.chat.title == "Support"
    started_topic = sent.reply_to_message
    assert started_topic is not None and started_topic.forum_topic_created is not None
    assert started_topic.forum_topic_created.name == "Ann (VK)"
    assert started_topic.forum_topic_created.icon_color == topic.icon_color
    assert update.message is not None and update.message.message_id == said["message_id"]
    assert update.message.message_thread_id == topic.message_thread_id
    assert update.message.is_topic_message is True
    assert unknown_fields([sent, update]) == []


async def test_uploads_and_file_id_reuse(served: Served, bot: Bot) -> None:
    user = started(served)
    png = tiny_png(size=12)

    photo = await bot.send_photo(user.id, png, caption="<i>avatar</i>", parse_mode="HTML")
    photo_id = photo.photo[-1].file_id
    again = await bot.send_photo(user.id, photo_id)
    doc = await bot.send_document(user.id, InputFile(b"%PDF-1.4", filename="report.pdf"))
    doc_again = await bot.send_document(user.id, doc.document.file_id if doc.document else "")
    voice = await bot.send_voice(user.id, InputFile(b"OggS\x00", filename="v.ogg"), duration=3)
    voice_id = voice.voice.file_id if voice.voice else ""
    voice_again = await bot.send_voice(user.id, voice_id)
    with pytest.raises(BadRequest) as wrong_kind:
        await bot.send_photo(user.id, voice_id)

    size = photo.photo[-1]
    assert (size.width, size.height, size.file_size) == (12, 12, len(png))
    assert photo.caption == "avatar" and photo.caption_entities[0].type == MessageEntity.ITALIC
    assert again.photo[-1].file_id == photo_id
    assert again.photo[-1].file_unique_id == size.file_unique_id
    assert doc.document is not None and doc.document.file_name == "report.pdf"
    assert doc.document.mime_type == "application/pdf"
    assert doc_again.document is not None
    assert doc_again.document.file_id == doc.document.file_id
    assert voice.voice is not None and voice.voice.duration == dtm.timedelta(seconds=3)
    assert voice.voice.mime_type == "audio/ogg"
    assert voice_again.voice is not None and voice_again.voice.file_id == voice_id
    assert wrong_kind.value.message == "Can't use file of type voice as photo"
    assert unknown_fields([photo, again, doc, doc_again, voice, voice_again]) == []
    kinds = [v.kind for v in served.fake.chat_view(user.id)[-6:]]
    assert kinds == ["photo", "photo", "document", "document", "voice", "voice"]


async def test_get_file_and_download_what_a_user_sent(served: Served, bot: Bot) -> None:
    user = started(served)
    served.fake.user_sends_document(user, b"invoice body", "invoice.txt")
    photo = served.fake.user_sends_photo(user, tiny_png(size=20))
    updates = await bot.get_updates(timeout=0)
    document = updates[-2].message.document if updates[-2].message else None
    assert document is not None

    file = await bot.get_file(document.file_id)
    data = await file.download_as_bytearray()
    photo_file = await bot.get_file(photo["photo"][-1]["file_id"])

    assert document.file_name == "invoice.txt" and document.mime_type == "text/plain"
    assert file.file_id == document.file_id and file.file_size == len(b"invoice body")
    assert file.file_path is not None and file.file_path.startswith(
        f"{served.base_url}/file/bot{TOKEN}/documents/"
    )
    assert bytes(data) == b"invoice body"
    assert bytes(await photo_file.download_as_bytearray()) == tiny_png(size=20)
    assert unknown_fields([updates, file, photo_file]) == []
    with pytest.raises(BadRequest) as bad:
        await bot.get_file("no-such-file")
    assert bad.value.message == "Invalid file_id"


async def test_copy_and_forward(served: Served, bot: Bot) -> None:
    user = started(served)
    operator = served.fake.add_user("Olga")
    forum = served.fake.create_forum(members=[operator])
    said = served.fake.user_says(user, "please help")

    copied = await bot.copy_message(forum, user.id, said["message_id"])
    forwarded = await bot.forward_message(forum, user.id, said["message_id"])

    assert isinstance(copied, MessageId) and copied.message_id > 0
    views = served.fake.chat_view(forum)
    assert [(v.message_id, v.text) for v in views[-2:]] == [
        (copied.message_id, "please help"),
        (forwarded.message_id, "please help"),
    ]
    assert forwarded.text == "please help" and forwarded.chat.id == forum
    origin = forwarded.forward_origin
    assert isinstance(origin, MessageOriginUser)
    assert origin.sender_user.id == user.id and origin.sender_user.first_name == "Ann"
    assert isinstance(origin.date, dtm.datetime)
    assert unknown_fields([copied, forwarded]) == []


async def test_edit_text_caption_and_keyboard(served: Served, bot: Bot) -> None:
    user = started(served)
    card = await bot.send_message(user.id, "card", reply_markup=keyboard("accept:1"))
    photo = await bot.send_photo(user.id, tiny_png(), caption="old")

    text = await bot.edit_message_text(
        "<b>Taken</b> by Olga",
        chat_id=user.id,
        message_id=card.message_id,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("close:1"),
    )
    caption = await bot.edit_message_caption(
        chat_id=user.id, message_id=photo.message_id, caption="new"
    )
    markup = await bot.edit_message_reply_markup(
        chat_id=user.id, message_id=card.message_id, reply_markup=keyboard("reopen:1")
    )
    bare = await bot.edit_message_reply_markup(chat_id=user.id, message_id=card.message_id)
    with pytest.raises(BadRequest) as unchanged:
        await bot.edit_message_reply_markup(chat_id=user.id, message_id=card.message_id)

    assert isinstance(text, Message) and text.text == "Taken by Olga"
    assert text.entities[0].type == MessageEntity.BOLD
    assert isinstance(text.edit_date, dtm.datetime)
    assert text.reply_markup is not None
    assert text.reply_markup.inline_keyboard[0][0].callback_data == "close:1"
    assert isinstance(caption, Message) and caption.caption == "new" and caption.photo
    assert isinstance(markup, Message) and markup.reply_markup is not None
    assert markup.reply_markup.inline_keyboard[0][0].callback_data == "reopen:1"
    assert isinstance(bare, Message) and bare.reply_markup is None
    assert unchanged.value.message.startswith("Message is not modified")
    assert unknown_fields([text, caption, markup, bare]) == []


async def test_delete_pin_and_unpin(served: Served, bot: Bot) -> None:
    forum = served.fake.create_forum("Support")
    dashboard = await bot.send_message(forum, "dashboard")
    note = await bot.send_message(forum, "note")

    assert await bot.pin_chat_message(forum, dashboard.message_id, disable_notification=True)
    chat = await bot.get_chat(forum)
    assert await bot.unpin_chat_message(forum, dashboard.message_id)
    assert await bot.delete_message(forum, note.message_id)
    with pytest.raises(BadRequest) as gone:
        await bot.delete_message(forum, note.message_id)
    with pytest.raises(BadRequest) as unpinned:
        await bot.unpin_chat_message(forum, dashboard.message_id)

    assert chat.pinned_message is not None
    assert chat.pinned_message.message_id == dashboard.message_id
    assert chat.pinned_message.text == "dashboard"
    assert served.fake.pinned(forum) == []
    assert note.message_id not in [v.message_id for v in served.fake.chat_view(forum)]
    assert gone.value.message == "Message to delete not found"
    assert unpinned.value.message == "Message to unpin not found"


async def test_forum_topic_lifecycle(served: Served, bot: Bot) -> None:
    forum = served.fake.create_forum("Support")

    topic = await bot.create_forum_topic(forum, "Ann (VK)", icon_color=0xFFD67E)
    thread = topic.message_thread_id
    assert await bot.edit_forum_topic(forum, thread, name="Ann (VK) ✅")
    assert await bot.close_forum_topic(forum, thread)
    with pytest.raises(BadRequest) as closed:
        await bot.send_message(forum, "late", message_thread_id=thread)
    assert await bot.reopen_forum_topic(forum, thread)
    reopened = await bot.send_message(forum, "again", message_thread_id=thread)
    assert await bot.delete_forum_topic(forum, thread)
    with pytest.raises(BadRequest) as deleted:
        await bot.send_message(forum, "gone", message_thread_id=thread)

    assert isinstance(topic, ForumTopic)
    assert (topic.name, topic.icon_color, topic.icon_custom_emoji_id) == (
        "Ann (VK)",
        0xFFD67E,
        None,
    )
    assert unknown_fields(topic) == []
    assert closed.value.message == "Topic_closed"  # PTB capitalises Telegram's TOPIC_CLOSED
    assert reopened.message_thread_id == thread
    assert deleted.value.message == "Message thread not found"
    (view,) = served.fake.topics(forum)
    assert (view.name, view.closed, view.deleted) == ("Ann (VK) ✅", False, True)


async def test_get_chat_and_chat_members(served: Served, bot: Bot) -> None:
    owner = served.fake.add_user("Boss")
    operator = served.fake.add_user("Olga", "Petrova", username="olga")
    gone = served.fake.add_user("Gone")
    forum = served.fake.create_forum("Support", admins=[owner], members=[operator, gone])
    served.fake.leave(gone, forum)
    user = started(served)

    chat = await bot.get_chat(forum)
    private = await bot.get_chat(user.id)
    member = await bot.get_chat_member(forum, operator.id)
    me = await bot.get_chat_member(forum, bot.id)
    boss = await bot.get_chat_member(forum, owner.id)
    left = await bot.get_chat_member(forum, gone.id)

    assert isinstance(chat, ChatFullInfo)
    assert (chat.id, chat.type, chat.title, chat.is_forum) == (
        forum,
        ChatType.SUPERGROUP,
        "Support",
        True,
    )
    assert chat.accent_color_id == 0 and chat.max_reaction_count == 11
    assert (private.type, private.first_name, private.username) == (
        ChatType.PRIVATE,
        "Ann",
        "ann",
    )
    assert isinstance(member, ChatMemberMember)
    assert member.user.full_name == "Olga Petrova" and member.user.username == "olga"
    assert isinstance(me, ChatMemberAdministrator)
    assert me.api_kwargs == {"can_send_welcome_messages": False}
    assert me.can_manage_topics and me.can_pin_messages and me.can_delete_messages
    assert isinstance(boss, ChatMemberOwner) and boss.user.id == owner.id
    assert isinstance(left, ChatMemberLeft)
    assert unknown_fields([chat, private, member, me, boss, left]) == []


async def test_callback_query_arrives_and_is_answered(served: Served, bot: Bot) -> None:
    operator = served.fake.add_user("Olga")
    forum = served.fake.create_forum(members=[operator])
    card = await bot.send_message(forum, "card", reply_markup=keyboard("accept:7"))
    query_id = served.fake.press(operator, forum, card.message_id, "accept:7")

    updates = await bot.get_updates(timeout=0)
    (update,) = [u for u in updates if u.callback_query is not None]
    query = update.callback_query
    assert query is not None
    answered = await query.answer("Taken: yours", show_alert=True)
    with pytest.raises(BadRequest) as twice:
        await bot.answer_callback_query(query.id, text="again")

    assert query.id == query_id and query.data == "accept:7"
    assert query.from_user.id == operator.id
    assert query.message is not None and query.message.message_id == card.message_id
    assert isinstance(query.message, Message) and query.message.chat.id == forum
    assert answered is True
    assert served.fake.callback_answer(query_id) == {
        "text": "Taken: yours",
        "show_alert": True,
        "url": None,
        "cache_time": 0,
    }
    assert twice.value.message.startswith("Query is too old")
    assert unknown_fields(updates) == []


async def test_topics_in_a_private_chat(served: Served, bot: Bot) -> None:
    served.fake.set_topics_enabled(TOKEN, True)
    user = started(served)

    topic = await bot.create_forum_topic(user.id, "#1 Ivan")
    sent = await bot.send_message(user.id, "from Ivan", message_thread_id=topic.message_thread_id)
    served.fake.user_says(user, "to Ivan", topic=topic.message_thread_id)
    answer = (await bot.get_updates(timeout=0))[-1].message
    assert await bot.edit_forum_topic(user.id, topic.message_thread_id, name="#1 Ivan ✅")
    with pytest.raises(BadRequest) as close:
        await bot.close_forum_topic(user.id, topic.message_thread_id)
    assert await bot.delete_forum_topic(user.id, topic.message_thread_id)

    assert isinstance(topic, ForumTopic) and topic.name == "#1 Ivan"
    assert sent.chat.type == ChatType.PRIVATE
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    assert answer is not None and answer.text == "to Ivan"
    assert answer.message_thread_id == topic.message_thread_id and answer.is_topic_message
    assert close.value.message == "The chat is not a forum"
    assert unknown_fields([topic, sent, answer]) == []
    assert [(t.name, t.deleted) for t in served.fake.topics(user.id)] == [("#1 Ivan ✅", True)]


# errors


async def test_400_is_bad_request_with_the_description(served: Served, bot: Bot) -> None:
    user = started(served)

    with pytest.raises(BadRequest) as no_chat:
        await bot.send_message(-100999, "x")
    with pytest.raises(BadRequest) as bad_html:
        await bot.send_message(user.id, "<b>open", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest) as long_data:
        await bot.send_message(user.id, "x", reply_markup=keyboard("x" * 65))

    assert no_chat.value.message == "Chat not found"
    assert bad_html.value.message.startswith("Can't parse entities")
    assert long_data.value.message == "Button_data_invalid"


async def test_401_is_invalid_token(served: Served) -> None:
    stranger = ptb_bot(served.base_url, "999:not-a-registered-token")

    with pytest.raises(InvalidToken) as refused:
        await stranger.get_me()
    with pytest.raises(InvalidToken) as not_started:
        await stranger.initialize()  # PTB's own wording on top of the same 401
    await stranger.shutdown()

    assert refused.value.message == "Unauthorized"
    assert "was rejected by the server" in not_started.value.message
    assert [c.status for c in served.fake.calls("getMe")] == [401, 401]


async def test_malformed_token_is_404_as_on_telegram(served: Served) -> None:
    # Telegram answers 404 Not Found for a token that is not shaped like one (PTB maps it to
    # InvalidToken too); the fake used to answer 401 Unauthorized.
    malformed = ptb_bot(served.base_url, "not-a-token")

    with pytest.raises(InvalidToken) as refused:
        await malformed.get_me()
    await malformed.shutdown()

    assert refused.value.message == "Not Found"
    assert [c.status for c in served.fake.calls("getMe")] == [404]


async def test_403_blocked_by_the_user_is_forbidden(served: Served, bot: Bot) -> None:
    user = started(served)
    served.fake.block(user)
    stranger = served.fake.add_user("Never wrote")

    with pytest.raises(Forbidden) as blocked:
        await bot.send_message(user.id, "hello?")
    with pytest.raises(Forbidden) as never_started:
        await bot.send_message(stranger.id, "hello?")

    assert blocked.value.message == "Forbidden: bot was blocked by the user"
    assert never_started.value.message == "Forbidden: bot can't initiate conversation with a user"


async def test_404_unknown_method_is_endpoint_not_found(served: Served, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound) as missing:
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})

    assert "sendTelepathy" in missing.value.message
    assert isinstance(missing.value.__cause__, InvalidToken)  # PTB's view of Telegram's 404
    assert served.fake.calls("sendTelepathy", status=404)


async def test_429_is_retry_after_with_its_seconds(served: Served, bot: Bot) -> None:
    user = started(served)
    served.fake.throttle_next(1, retry_after=7, method="sendMessage")

    with pytest.raises(RetryAfter) as throttled:
        await bot.send_message(user.id, "x")
    sent = await bot.send_message(user.id, "y")

    assert throttled.value.retry_after == dtm.timedelta(seconds=7)
    assert sent.text == "y"


async def test_429_from_the_group_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    clock = ManualClock()
    fake = FakeTelegram(limits=TelegramLimits(), clock=clock)
    fake.add_bot(TOKEN, username="support_bot")
    forum = fake.create_forum()
    async with serving(mounted(fake)) as running:
        async with ptb_bot(running.base_url + "/telegram") as bot:
            for i in range(20):
                await bot.send_message(forum, f"{i}")
                clock.advance(1.0)  # the per-chat bucket refills; the 20-a-minute cap bites
            with pytest.raises(RetryAfter) as throttled:
                await bot.send_message(forum, "21st")

    assert throttled.value.retry_after == dtm.timedelta(seconds=40)
    assert fake.too_many_requests.group == 1


async def test_every_update_the_people_cause_parses_cleanly(served: Served, bot: Bot) -> None:
    everything = [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
        "chat_member",
        "message_reaction",
    ]
    await bot.get_updates(timeout=0, allowed_updates=everything)
    ann = started(served)
    operator = served.fake.add_user("Olga")
    forum = served.fake.create_forum(members=[operator])
    topic = await bot.create_forum_topic(forum, "T")
    thread = topic.message_thread_id
    await bot.edit_forum_topic(forum, thread, name="T2")
    await bot.close_forum_topic(forum, thread)
    await bot.reopen_forum_topic(forum, thread)
    bold = [{"type": "bold", "offset": 0, "length": 2}]
    said = served.fake.user_says(ann, "hi", entities=bold)
    served.fake.user_edits(ann, ann.id, said["message_id"], "hi again")
    served.fake.user_sends_photo(ann, caption="look")
    served.fake.user_sends_document(ann, b"%PDF", "a.pdf", caption="doc")
    served.fake.user_sends_voice(ann, duration=4)
    served.fake.user_sends_video(ann, caption="clip")
    served.fake.user_sends_sticker(ann)
    served.fake.user_sends_location(ann, 55.75, 37.62)
    served.fake.user_sends_contact(ann, "+100", "Ann")
    served.fake.user_says(operator, "in topic", chat_id=forum, topic=thread)
    newcomer = served.fake.add_user("New")
    served.fake.join(newcomer, forum)
    served.fake.promote(newcomer, forum)
    served.fake.leave(newcomer, forum)
    card = await bot.send_message(forum, "card", reply_markup=keyboard("accept:1"))
    served.fake.press(operator, forum, card.message_id, "accept:1")
    served.fake.block(ann)

    updates = await bot.get_updates(timeout=0)

    kinds = [
        next(k for k in (*everything, "message") if getattr(u, k, None) is not None)
        for u in updates
    ]
    assert set(kinds) == set(everything) - {"message_reaction"}
    messages = [u.message for u in updates if u.message is not None]
    contents = {m.effective_attachment.__class__.__name__ for m in messages}
    assert {"tuple", "Document", "Voice", "Video", "Sticker", "Location", "Contact"} <= contents
    assert any(m.new_chat_members for m in messages)
    assert any(m.left_chat_member for m in messages)
    edited = next(u.edited_message for u in updates if u.edited_message is not None)
    assert edited.text == "hi again" and isinstance(edited.edit_date, dtm.datetime)
    blocked = updates[-1].my_chat_member
    assert blocked is not None and blocked.new_chat_member.status == "kicked"
    assert unknown_fields(updates) == []


async def test_5xx_is_network_error(served: Served, bot: Bot) -> None:
    user = started(served)
    served.fake.fail_next(1, status=502, method="sendMessage")

    with pytest.raises(NetworkError) as failed:
        await bot.send_message(user.id, "x")
    sent = await bot.send_message(user.id, "y")

    assert type(failed.value) is NetworkError and "Bad Gateway" in failed.value.message
    assert sent.text == "y"
