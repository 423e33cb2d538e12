"""aiogram routers of the desk: button presses, operators' messages and commands, customers.

Every handler records the update as processed in the same transaction as its effects, so a
repeated update (a redelivered webhook, a restart before the offset was saved) changes nothing.
A button is answered right after its one-UPDATE transaction commits, before any slow work; a
repeated press update is answered too (from what the first one did), since the first answer may
be the very call that failed.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update

from adapters.telegram.convert import attachments_of as operator_attachments
from adapters.telegram.convert import external_id, to_inbound
from botapi import calls
from bridge.core import commands
from bridge.core.claims import accept
from bridge.core.operator_edits import handle_operator_edit
from bridge.core.reachability import set_reachability
from bridge.core.replies import OperatorMessage, handle_operator_message
from bridge.core.texts import text
from desk.callbacks import AcceptCallback, TransferCallback, packed
from storage.conversations import get_conversation, open_conversations
from storage.links import conversation_for_group_message
from storage.models import ConversationState, Operator
from storage.operators import add_operator_groups, set_private_chat_started, upsert_operator
from storage.state import mark_event_processed

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from desk.runtime import DeskRuntime
    from storage.models import Conversation

log = logging.getLogger(__name__)

PLACE_COMMANDS = frozenset({"close", "release", "transfer", "history", "block", "unblock"})
ANYWHERE_COMMANDS = frozenset({"my", "help"})
ALERT_LIMIT = 200


def command_of(message: Message, bot_username: str | None) -> str | None:
    """ "/close@bot args" → "close"; None for anything else (or a command for another bot)."""
    body = message.text or ""
    if not body.startswith("/"):
        return None
    word = body.split(maxsplit=1)[0][1:]
    name, _, target = word.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return name.lower() or None


async def _fresh(session: AsyncSession, event_update: Update) -> bool:
    return await mark_event_processed(session, "telegram", event_update.update_id)


def alert_text(html_text: str) -> str:
    """An HTML text as an answerCallbackQuery alert: plain (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))[:ALERT_LIMIT]


#: An answer to a button press: (alert text or None, show_alert).
PressAnswer = tuple[str | None, bool]


async def _answer_again(query: CallbackQuery, answer: PressAnswer) -> None:
    """Answer a repeated press update; refused when the first answer went through after all."""
    try:
        await query.answer(answer[0], show_alert=answer[1])
    except TelegramBadRequest as exc:
        log.debug("repeated callback %s not answered again: %s", query.id, exc)


async def _repeated_accept(
    session: AsyncSession, conversation_id: int, user_id: int, language: str
) -> PressAnswer:
    """What the first delivery of this accept did, to tell the presser again."""
    conversation = await get_conversation(session, conversation_id)
    if conversation is None or conversation.state == ConversationState.CLOSED:
        return text(language, "alert.closed"), True
    if conversation.operator_id == user_id:
        return text(language, "alert.accepted"), False
    if conversation.state == ConversationState.ACCEPTED:
        answer = text(language, "alert.already_accepted", operator=conversation.operator_name)
        return answer[:ALERT_LIMIT], True
    return None, False


def _repeated_transfer(
    conversation: Conversation | None, target: Operator | None, language: str
) -> PressAnswer:
    """A repeated transfer press: "transferred" when it went to that operator, else silence."""
    if conversation is not None and target is not None and conversation.operator_id == target.id:
        return text(language, "alert.transfer_done", operator=target.name)[:ALERT_LIMIT], False
    return None, False


async def _remember_operator(
    session: AsyncSession, user: object, groups: set[str] | None = None
) -> Operator:
    """Record the operator, and `groups` (config names) they were seen to belong to: a
    private ping about a group's new inquiry goes only to that group's operators."""
    operator = await upsert_operator(
        session,
        user.id,  # type: ignore[attr-defined]
        user.full_name,  # type: ignore[attr-defined]
        username=user.username,  # type: ignore[attr-defined]
        language=user.language_code,  # type: ignore[attr-defined]
    )
    if groups:
        await add_operator_groups(session, operator.id, groups)
    return operator


def _group_of(runtime: DeskRuntime, chat_id: int) -> set[str]:
    group = runtime.config.group_for_chat(chat_id)
    return {group.name} if group is not None else set()


async def in_private_chat(event: Message | ChatMemberUpdated) -> bool:
    """Filter: a private chat with the bot (a customer, or an operator's own chat)."""
    return event.chat.type == ChatType.PRIVATE


def in_chats(chat_ids: set[int]) -> Callable[[Message], Awaitable[bool]]:
    """Filter: a message in one of these chats (the operators' groups)."""

    async def in_one_of_them(message: Message) -> bool:
        return message.chat.id in chat_ids

    return in_one_of_them


def build_router(runtime: DeskRuntime) -> Router:
    """The desk's router; `runtime` gives it the database, the desk and the bot.

    Its filters are coroutines: aiogram runs a plain callable (a magic filter `F....`) in a
    thread of its own (`asyncio.to_thread`) for every update it looks at.
    """
    router = Router(name="desk")
    config = runtime.config
    language = config.language
    group_chats = {group.chat_id for group in config.groups.values()}

    # --- buttons ------------------------------------------------------------------------

    @router.callback_query(AcceptCallback.filter())
    async def on_accept(
        query: CallbackQuery, callback_data: AcceptCallback, event_update: Update
    ) -> None:
        chat_id = query.message.chat.id if query.message else 0
        user = query.from_user
        if not await runtime.is_operator(chat_id, user.id, proven_member=False):
            await query.answer(text(language, "alert.not_operator"), show_alert=True)
            return
        again: PressAnswer | None = None
        async with runtime.transaction() as session:
            if await _fresh(session, event_update):
                await _remember_operator(session, user, _group_of(runtime, chat_id))
                outcome = await accept(
                    session, callback_data.c, user.id, user.full_name, desk=runtime.desk
                )
            else:
                again = await _repeated_accept(session, callback_data.c, user.id, language)
        if again is not None:
            await _answer_again(query, again)
        elif outcome.status == "won":
            await query.answer(text(language, "alert.accepted"))
        elif outcome.status == "taken":
            answer = text(language, "alert.already_accepted", operator=outcome.operator_name)
            await query.answer(answer[:ALERT_LIMIT], show_alert=True)
        else:
            await query.answer(text(language, "alert.closed"), show_alert=True)

    @router.callback_query(TransferCallback.filter())
    async def on_transfer(
        query: CallbackQuery, callback_data: TransferCallback, event_update: Update
    ) -> None:
        chat_id = query.message.chat.id if query.message else 0
        user = query.from_user
        if not await runtime.is_operator(chat_id, user.id, proven_member=False):
            await query.answer(text(language, "alert.not_operator"), show_alert=True)
            return
        if not await runtime.is_operator(chat_id, callback_data.o, proven_member=False):
            await query.answer(text(language, "alert.unknown_operator"), show_alert=True)
            return
        again: PressAnswer | None = None
        async with runtime.transaction() as session:
            fresh = await _fresh(session, event_update)
            conversation = await get_conversation(session, callback_data.c)
            target = await session.get(Operator, callback_data.o)
            if not fresh:
                again = _repeated_transfer(conversation, target, language)
            elif conversation is None or target is None:
                reply = commands.CommandReply(text(language, "alert.closed"), ok=False)
            else:
                reply = await commands.transfer(
                    session,
                    conversation,
                    commands.Caller(user.id, user.full_name),
                    commands.Caller(target.id, target.name),
                    desk=runtime.desk,
                    language=language,
                    link=runtime.desk.place_link(conversation),
                )
        if again is not None:
            await _answer_again(query, again)
        else:
            await query.answer(alert_text(reply.html), show_alert=not reply.ok)

    # --- the operators' group ----------------------------------------------------------

    @router.message(in_chats(group_chats))
    async def on_group_message(message: Message, event_update: Update) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        command = command_of(message, await _bot_username(runtime))
        if command in ANYWHERE_COMMANDS:
            await _anywhere_command(runtime, message, command, event_update)
            return
        is_operator = await runtime.is_operator(message.chat.id, user.id, proven_member=True)
        async with runtime.transaction() as session:
            if not await _fresh(session, event_update):
                return
            conversation = await _conversation_of_place(session, runtime, message)
            if conversation is None:
                if command in PLACE_COMMANDS:
                    await _answer(
                        session, runtime, message, text(language, "place.not_a_conversation")
                    )
                return
            await _remember_operator(
                session, user, _group_of(runtime, message.chat.id) if is_operator else None
            )
            if command in PLACE_COMMANDS and not is_operator:
                await _answer(session, runtime, message, text(language, "command.refused"))
                return
            if command in PLACE_COMMANDS:
                await _place_command(session, runtime, message, conversation, command)
                return
            if conversation.state == ConversationState.CLOSED:
                return
            customer_outlet = runtime.outlets.for_channel(
                await _customer_channel(session, conversation)
            )
            await handle_operator_message(
                session,
                conversation,
                OperatorMessage(
                    external_id=external_id(message.chat.id, message.message_id),
                    operator_id=user.id,
                    operator_name=user.full_name,
                    text=message.text or message.caption or "",
                    html=(message.html_text if (message.text or message.caption) else None),
                    attachments=operator_attachments(message),
                ),
                desk=runtime.desk,
                outlet=customer_outlet,
                language=language,
            )

    # --- private chats: operators' commands, customers' messages -----------------------

    # New private messages do not come through the router: see `private_message`.

    @router.edited_message(in_private_chat)
    async def on_private_edit(message: Message, event_update: Update) -> None:
        await _customer_message(runtime, message, event_update, edited=True)

    @router.edited_message(in_chats(group_chats))
    async def on_group_edit(message: Message, event_update: Update) -> None:
        """An operator edited a message in the group: follow a relayed reply's edit."""
        user = message.from_user
        if user is None or user.is_bot:
            return
        if command_of(message, await _bot_username(runtime)) is not None:
            log.debug("edited command %s ignored", message.message_id)
            return
        async with runtime.transaction() as session:
            if not await _fresh(session, event_update):
                return
            status = await handle_operator_edit(
                session,
                OperatorMessage(
                    external_id=external_id(message.chat.id, message.message_id),
                    operator_id=user.id,
                    operator_name=user.full_name,
                    text=message.text or message.caption or "",
                    html=(message.html_text if (message.text or message.caption) else None),
                ),
                outlets=runtime.outlets,
                language=language,
            )
        log.debug("operator edit of %s: %s", message.message_id, status)

    @router.my_chat_member(in_private_chat)
    async def on_private_member(update: ChatMemberUpdated, event_update: Update) -> None:
        """A customer blocked the bot (kicked) or unblocked it (member again)."""
        status = str(update.new_chat_member.status).rsplit(".", 1)[-1].lower()
        if status not in ("kicked", "member"):
            log.debug("private my_chat_member with status %s ignored", status)
            return
        reachable = status == "member"
        async with runtime.transaction() as session:
            if not await _fresh(session, event_update):
                return
            await set_reachability(
                session,
                "telegram",
                str(update.from_user.id),
                reachable,
                reason=None if reachable else "the customer blocked the bot",
                desk=runtime.desk,
                language=language,
                notice=("place.customer_blocked_bot", "place.customer_unblocked_bot"),
            )

    return router


def is_private_message(update: Update) -> bool:
    """A new message in a private chat with the bot: `private_message` handles it."""
    return update.message is not None and update.message.chat.type == ChatType.PRIVATE


async def private_message(runtime: DeskRuntime, message: Message, event_update: Update) -> None:
    """A new private message: an operator's command, or a customer writing.

    UpdatesIntake calls it directly rather than through aiogram's Dispatcher: these are most
    of the bot's updates (every customer message), and the generic dispatch (middlewares,
    observers, a filter per handler) cost about a third of a webhook's time under load
    (docs/performance.md). Everything else goes through the router.
    """
    user = message.from_user
    if user is None or user.is_bot:
        return
    language = runtime.config.language
    command = command_of(message, await _bot_username(runtime))
    if command in ANYWHERE_COMMANDS or command == "start":
        groups = await runtime.operator_groups_of(user.id)
        if groups:
            async with runtime.transaction() as session:
                await _remember_operator(session, user, groups)
                await set_private_chat_started(session, user.id)
            if command != "start":
                await _anywhere_command(runtime, message, command, event_update)
            return
        if command in ANYWHERE_COMMANDS:
            async with runtime.transaction() as session:
                if await _fresh(session, event_update):
                    await _answer(session, runtime, message, text(language, "command.refused"))
            return
    await _customer_message(runtime, message, event_update, edited=False)


async def _bot_username(runtime: DeskRuntime) -> str | None:
    assert runtime.bot is not None
    me = await runtime.bot.me()
    return me.username


async def _customer_channel(session: AsyncSession, conversation: Conversation) -> str:
    from storage.models import Customer

    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    return customer.channel


async def _customer_message(
    runtime: DeskRuntime, message: Message, event_update: Update, *, edited: bool
) -> None:
    if runtime.config.channels.telegram is None:
        log.debug("telegram customers are off; ignoring a private message")
        return
    intake = runtime.customer_intake
    assert intake is not None, "UpdatesIntake starts it before any update"
    await intake.submit(event_update.update_id, to_inbound(message, edited=edited))


async def _conversation_of_place(
    session: AsyncSession, runtime: DeskRuntime, message: Message
) -> Conversation | None:
    """The conversation a group message belongs to: its topic, or the message it replies to."""
    group = runtime.config.group_for_chat(message.chat.id)
    if group is None:
        return None
    if group.mode == "topics":
        thread = message.message_thread_id if message.is_topic_message else None
        if thread is None:
            return None
        for conversation in await open_conversations(session, group=group.name):
            if conversation.topic_id == thread:
                return conversation
        return None
    replied = message.reply_to_message
    if replied is None:
        return None
    return await conversation_for_group_message(session, message.chat.id, replied.message_id)


async def _answer(
    session: AsyncSession, runtime: DeskRuntime, message: Message, html: str, **extra: object
) -> None:
    """Answer a command where it was given (through the outbox, like every post)."""
    from bridge import outbox

    thread = message.message_thread_id if message.is_topic_message else None
    payload = calls.send_text(
        message.chat.id, html, thread_id=thread, reply_to=message.message_id, **extra
    )
    await outbox.enqueue(
        session,
        platform="telegram",
        destination=str(message.chat.id),
        lane=f"tg:{message.chat.id}:answers"
        if thread is None
        else f"tg:{message.chat.id}:t{thread}",
        kind="answer",
        payload=payload,
        priority=outbox.PRIORITY_REPLY,
    )


async def _place_command(
    session: AsyncSession,
    runtime: DeskRuntime,
    message: Message,
    conversation: Conversation,
    command: str,
) -> None:
    language = runtime.config.language
    user = message.from_user
    assert user is not None
    caller = commands.Caller(user.id, user.full_name)
    desk = runtime.desk
    if command == "close":
        channel = await _customer_channel(session, conversation)
        outlet = runtime.outlets.for_channel(channel)
        reply = await commands.close(
            session,
            conversation,
            caller,
            desk=desk,
            outlet=outlet,
            language=language,
            goodbye=runtime.config.close.goodbye,
        )
    elif command == "release":
        reply = await commands.release(session, conversation, caller, desk=desk, language=language)
    elif command == "transfer":
        group = runtime.desk.group(conversation)
        candidates = await _operators_of(session, runtime, group.chat_id)
        reply = commands.transfer_choices(conversation, caller, candidates, language)
        if reply.choices:
            rows = [
                [(name, packed(TransferCallback(c=conversation.id or 0, o=op_id)))]
                for op_id, name in reply.choices
            ]
            await _answer(
                session, runtime, message, reply.html, reply_markup=calls.inline_keyboard(rows)
            )
            return
    elif command == "history":
        reply = await commands.history(session, conversation, language=language)
    else:
        reply = await commands.set_blocked(
            session, conversation, command == "block", language=language
        )
    if reply.html:
        await _answer(session, runtime, message, reply.html)


async def _operators_of(
    session: AsyncSession, runtime: DeskRuntime, chat_id: int
) -> list[tuple[int, str]]:
    """The group's operators we know by name: the configured list, else everyone seen acting."""
    from sqlmodel import select

    group = runtime.config.group_for_chat(chat_id)
    rows = (await session.exec(select(Operator))).all()
    known = {row.id: row.name for row in rows}
    if group is not None and group.operators:
        return [(op_id, known.get(op_id, str(op_id))) for op_id in group.operators]
    return sorted(known.items())


async def _anywhere_command(
    runtime: DeskRuntime, message: Message, command: str | None, event_update: Update
) -> None:
    language = runtime.config.language
    user = message.from_user
    assert user is not None
    groups = await _groups_of_caller(runtime, message, user.id)
    is_operator = bool(groups)
    async with runtime.transaction() as session:
        if not await _fresh(session, event_update):
            return
        if not is_operator:
            await _answer(session, runtime, message, text(language, "command.refused"))
            return
        if command == "help":
            reply = commands.help_text(language)
        else:
            reply = await commands.my(
                session,
                user.id,
                groups,
                link_for=runtime.desk.place_link,
                language=language,
                names=runtime.desk.names,
            )
        await _answer(session, runtime, message, reply.html)


async def _groups_of_caller(runtime: DeskRuntime, message: Message, user_id: int) -> list[str]:
    """The groups whose counters a command shows; empty when the caller is no operator there.

    In a group: that group. In a private chat: every group the caller is an operator of.
    """
    if message.chat.type == ChatType.PRIVATE:
        return sorted(await runtime.operator_groups_of(user_id))
    group = runtime.config.group_for_chat(message.chat.id)
    if group is None or not await runtime.is_operator(group.chat_id, user_id, proven_member=True):
        return []
    return [group.name]
