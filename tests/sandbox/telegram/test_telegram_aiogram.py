"""Real aiogram, over real HTTP, against the fake mounted under /telegram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    ReactionTypeEmoji,
    ReplyParameters,
)

from sandbox.telegram import TelegramLimits, tiny_png
from tests.sandbox.telegram.conftest import TOKEN, Served


@pytest.fixture
def limits() -> TelegramLimits:
    return TelegramLimits(time_scale=1000, per_chat_burst=1000)  # limits out of the way


@pytest.fixture
async def bot(served: Served) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(served.base_url))
    bot = Bot(TOKEN, session=session)
    yield bot
    await bot.session.close()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]]
    )


async def test_get_me_and_send_edit_a_message(served: Served, bot: Bot) -> None:
    user = served.fake.add_user("Ann")
    served.fake.user_says(user, "/start")

    me = await bot.get_me()
    sent = await bot.send_message(
        user.id, "<b>Hello</b>", parse_mode="HTML", reply_markup=keyboard("accept")
    )
    edited = await bot.edit_message_text("Bye", chat_id=user.id, message_id=sent.message_id)

    assert me.username == "support_bot" and me.is_bot
    assert sent.text == "Hello" and sent.entities[0].type == "bold"
    assert edited.text == "Bye" and edited.edit_date is not None
    view = served.fake.chat_view(user.id)[-1]
    assert (view.text, view.edited, view.buttons) == ("Bye", True, [])
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Bye", chat_id=user.id, message_id=sent.message_id)


async def test_photo_upload_then_reuse_by_file_id_and_download(served: Served, bot: Bot) -> None:
    user = served.fake.add_user("Ann")
    served.fake.user_says(user, "hi")
    png = tiny_png()

    first = await bot.send_photo(user.id, BufferedInputFile(png, "a.png"), caption="one")
    file_id = first.photo[-1].file_id
    again = await bot.send_photo(user.id, file_id, caption="two")
    file = await bot.get_file(file_id)
    downloaded = await bot.download_file(file.file_path)

    assert again.photo[-1].file_id == file_id
    assert (first.photo[-1].width, first.photo[-1].height) == (8, 8)
    assert downloaded.read() == png
    assert [v.caption for v in served.fake.chat_view(user.id)][-2:] == ["one", "two"]


async def test_album_and_document_voice_location_contact(served: Served, bot: Bot) -> None:
    user = served.fake.add_user("Ann")
    served.fake.user_says(user, "hi")

    album = await bot.send_media_group(
        user.id,
        [
            InputMediaPhoto(media=BufferedInputFile(tiny_png(), "1.png"), caption="c1"),
            InputMediaPhoto(media=BufferedInputFile(tiny_png((0, 0, 0)), "2.png")),
        ],
    )
    doc = await bot.send_document(user.id, BufferedInputFile(b"%PDF", "report.pdf"))
    voice = await bot.send_voice(user.id, BufferedInputFile(b"OggS", "v.ogg"), duration=3)
    await bot.send_location(user.id, 55.75, 37.62)
    await bot.send_contact(user.id, "+100", "Support")
    copy = await bot.copy_message(user.id, user.id, doc.message_id)

    assert len({m.media_group_id for m in album}) == 1 and album[0].caption == "c1"
    assert doc.document.file_name == "report.pdf"
    assert voice.voice.duration == 3
    kinds = [v.kind for v in served.fake.chat_view(user.id)]
    assert kinds[-7:] == ["photo", "photo", "document", "voice", "location", "contact", "document"]
    assert served.fake.chat_view(user.id)[-1].message_id == copy.message_id


async def test_forum_topics_lifecycle(served: Served, bot: Bot) -> None:
    operator = served.fake.add_user("Olga")
    forum = served.fake.create_forum(members=[operator])

    topic = await bot.create_forum_topic(forum, "Ann (VK)")
    posted = await bot.send_message(forum, "first", message_thread_id=topic.message_thread_id)
    await bot.edit_forum_topic(forum, topic.message_thread_id, name="Ann (VK) #2")
    await bot.pin_chat_message(forum, posted.message_id)
    await bot.close_forum_topic(forum, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(forum, "late", message_thread_id=topic.message_thread_id)
    await bot.reopen_forum_topic(forum, topic.message_thread_id)
    await bot.send_message(forum, "again", message_thread_id=topic.message_thread_id)
    await bot.delete_forum_topic(forum, topic.message_thread_id)

    assert posted.is_topic_message and posted.message_thread_id == topic.message_thread_id
    assert posted.reply_to_message.forum_topic_created.name == "Ann (VK)"
    (view,) = served.fake.topics(forum)
    assert (view.name, view.closed, view.deleted) == ("Ann (VK) #2", False, True)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(forum, "gone", message_thread_id=topic.message_thread_id)


async def test_callback_answer_is_recorded_and_too_late_is_refused(
    served: Served, bot: Bot
) -> None:
    user = served.fake.add_user("Ann")
    served.fake.user_says(user, "hi")
    card = await bot.send_message(user.id, "card", reply_markup=keyboard("accept:1"))
    first = served.fake.press(user, user.id, card.message_id, "accept:1")
    second = served.fake.press(user, user.id, card.message_id, "accept:1")

    await bot.answer_callback_query(first, text="Taken", show_alert=True)
    served.clock.advance(16)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(second, text="late")

    assert served.fake.callback_answer(first)["text"] == "Taken"
    assert served.fake.callback_answer(first)["show_alert"] is True
    assert served.fake.callback_answer(second) is None


async def test_long_poll_is_woken_by_a_user_message(served: Served, bot: Bot) -> None:
    user = served.fake.add_user("Ann")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    served.fake.user_says(user, "is anyone there?")

    updates = await asyncio.wait_for(poll, 2)
    confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)

    assert updates[-1].message.text == "is anyone there?"
    assert updates[-1].message.from_user.id == user.id
    assert confirmed == []


async def test_reply_into_topic_members_commands_reactions(served: Served, bot: Bot) -> None:
    operator = served.fake.add_user("Olga")
    forum = served.fake.create_forum(members=[operator])
    topic = await bot.create_forum_topic(forum, "T")
    note = served.fake.user_says(operator, "note", chat_id=forum, topic=topic.message_thread_id)

    reply = await bot.send_message(
        forum, "ack", reply_parameters=ReplyParameters(message_id=note["message_id"])
    )
    member = await bot.get_chat_member(forum, operator.id)
    me_member = await bot.get_chat_member(forum, (await bot.get_me()).id)
    chat = await bot.get_chat(forum)
    admins = await bot.get_chat_administrators(forum)
    await bot.set_my_commands([BotCommand(command="close", description="Close")])
    commands = await bot.get_my_commands()
    await bot.set_message_reaction(forum, note["message_id"], [ReactionTypeEmoji(emoji="👍")])
    await bot.send_chat_action(forum, "typing", message_thread_id=topic.message_thread_id)
    await bot.delete_message(forum, note["message_id"])

    assert reply.message_thread_id == topic.message_thread_id
    assert reply.reply_to_message.message_id == note["message_id"]
    assert member.status == "member"
    assert me_member.status == "administrator" and me_member.can_manage_topics
    assert chat.is_forum and len(admins) == 2
    assert [c.command for c in commands] == ["close"]
    assert note["message_id"] not in [v.message_id for v in served.fake.chat_view(forum)]


async def test_aiogram_sees_429_as_retry_after(served: Served, bot: Bot) -> None:
    user = served.fake.add_user("Ann")
    served.fake.user_says(user, "hi")
    served.fake.throttle_next(1, retry_after=7, method="sendMessage")

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user.id, "x")

    assert caught.value.retry_after == 7
    assert served.fake.too_many_requests.forced == 1
