"""Operators' commands: in a conversation's place (/close, /transfer, ...), anywhere (/my, /help),
in a private chat with the bot, and the /transfer choice buttons.

The `desk_command` filter hands the command's name to the handler (`command`). A command that
is not one of the desk's (or for another bot) is an ordinary message: desk/routers/topics.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message, Update

from botapi import calls
from botapi.messages import external_id
from bridge.core import commands, quick_replies, stats
from bridge.core.replies import OperatorMessage
from bridge.core.texts import CustomerTexts, text
from bridge.hours import WorkingHours
from desk.callbacks import TransferCallback, packed
from desk.private_places import accept_refusal
from desk.routers.feed import PressAnswer, answer_again
from desk.routers.shared import (
    ALERT_LIMIT,
    ANYWHERE_COMMANDS,
    PLACE_COMMANDS,
    alert_text,
    answer,
    bot_username,
    command_of,
    conversation_of_place,
    customer_channel,
    fresh,
    group_of,
    is_private,
    remember_operator,
)
from storage.conversations import get_conversation
from storage.models import Operator
from storage.operators import set_private_chat_started

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from config import GroupConfig
    from desk.runtime import DeskRuntime
    from storage.models import Conversation

log = logging.getLogger(__name__)

#: Quick replies: `/t NAME` in a place (the claimer's), `/t` anywhere in the group (the list).
QUICK_REPLY = "t"
#: Commands about the whole group, given anywhere in it (its operators only).
GROUP_COMMANDS = frozenset({"stats"})
DESK_COMMANDS = PLACE_COMMANDS | ANYWHERE_COMMANDS | GROUP_COMMANDS | {QUICK_REPLY}
#: What a group's administrator may do in any conversation, claimed by them or not.
ADMIN_COMMANDS = frozenset({"release", "block", "unblock"})


async def desk_command(message: Message, runtime: DeskRuntime, bot: Bot) -> dict[str, str] | bool:
    """Filter: one of the desk's commands in an operators' group; hands over `command`."""
    if runtime.config.group_for_chat(message.chat.id) is None:
        return False
    me = await bot.me()
    command = command_of(message, me.username)
    return {"command": command} if command in DESK_COMMANDS else False


async def on_group_command(
    message: Message, command: str, event_update: Update, runtime: DeskRuntime
) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    if command in ANYWHERE_COMMANDS:
        await _anywhere_command(runtime, message, command, event_update)
        return
    if command in GROUP_COMMANDS or (command == QUICK_REPLY and not _argument(message)):
        await _group_command(runtime, message, command, event_update)
        return
    language = runtime.config.language
    is_operator = await runtime.is_operator(message.chat.id, user.id, proven_member=True)
    # Administrators may take conversations back and block, even when not in `operators`.
    admin = command in ADMIN_COMMANDS and await runtime.is_admin(message.chat.id, user.id)
    async with runtime.transaction() as session:
        if not await fresh(session, event_update):
            return
        conversation = await conversation_of_place(session, runtime, message)
        if conversation is None:
            await answer(session, message, text(language, "place.not_a_conversation"))
            return
        await remember_operator(
            session, user, group_of(runtime, message.chat.id) if is_operator else None
        )
        if not is_operator and not admin:
            await answer(session, message, text(language, "command.refused"))
            return
        if command == "history" and (wait := runtime.history_limit.take(user.id)) is not None:
            if wait.tell:
                await answer(
                    session, message, text(language, "place.history_wait", seconds=wait.seconds)
                )
            return
        await _place_command(session, runtime, message, conversation, command, admin=admin)


async def on_transfer(
    query: CallbackQuery,
    callback_data: TransferCallback,
    event_update: Update,
    runtime: DeskRuntime,
) -> None:
    language = runtime.config.language
    chat_id = query.message.chat.id if query.message else 0
    user = query.from_user
    group = runtime.config.group_for_chat(chat_id)
    if group is None and chat_id == user.id:  # pressed in a private topic (mode: private)
        group = await _private_mode_group(runtime, callback_data.conversation)
        chat_id = group.chat_id if group is not None else chat_id
    if group is None or not await runtime.is_operator(chat_id, user.id, proven_member=False):
        await query.answer(text(language, "alert.not_operator"), show_alert=True)
        return
    if not await runtime.is_operator(chat_id, callback_data.operator, proven_member=False):
        await query.answer(text(language, "alert.unknown_operator"), show_alert=True)
        return
    if group.mode == "private" and (
        refusal := await accept_refusal(runtime, callback_data.operator, own=False)
    ):
        await query.answer(refusal[:ALERT_LIMIT], show_alert=True)
        return
    again: PressAnswer | None = None
    async with runtime.transaction() as session:
        is_fresh = await fresh(session, event_update)
        conversation = await get_conversation(session, callback_data.conversation)
        target = await session.get(Operator, callback_data.operator)
        if conversation is not None and conversation.group != group.name:
            # Forged callback data: another group's conversation (and the target is checked
            # against this group's members above, so it can only go to one of them).
            log.warning(
                "transfer of conversation %s (another group's) refused for user %s in chat %s",
                conversation.id,
                user.id,
                chat_id,
            )
            reply = commands.CommandReply(text(language, "alert.not_operator"), ok=False)
        elif not is_fresh:
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
        await answer_again(query, again)
    else:
        await query.answer(alert_text(reply.html), show_alert=not reply.ok)


async def _private_mode_group(runtime: DeskRuntime, conversation_id: int) -> GroupConfig | None:
    """The private-mode group of a conversation whose /transfer buttons are in a private chat."""
    async with runtime.transaction() as session:
        conversation = await get_conversation(session, conversation_id)
    if conversation is None or conversation.group not in runtime.config.groups:
        return None
    group = runtime.config.groups[conversation.group]
    return group if group.mode == "private" else None


def _repeated_transfer(
    conversation: Conversation | None, target: Operator | None, language: str
) -> PressAnswer:
    """A repeated transfer press: "transferred" when it went to that operator, else silence."""
    if conversation is not None and target is not None and conversation.operator_id == target.id:
        return text(language, "alert.transfer_done", operator=target.name)[:ALERT_LIMIT], False
    return None, False


async def private_command(runtime: DeskRuntime, update: Update) -> bool:
    """A direct handler (botapi/updates.py): an operator's command in a private chat.

    True when the desk took the update (a command, or a message from a bot); anything else
    (a customer writing, /start by a customer) is left to the Telegram customers' handler.
    """
    message = update.message
    if message is None or not is_private(message):
        return False
    user = message.from_user
    if user is None or user.is_bot:
        return True
    command = command_of(message, await bot_username(runtime))
    if command not in ANYWHERE_COMMANDS and command != "start":
        return False
    groups = await runtime.operator_groups_of(user.id)
    if groups:
        async with runtime.transaction() as session:
            await remember_operator(session, user, groups)
            await set_private_chat_started(session, user.id)
        if command != "start":
            await _anywhere_command(runtime, message, command, update)
        return True
    if command in ANYWHERE_COMMANDS:
        async with runtime.transaction() as session:
            if await fresh(session, update):
                await answer(session, message, text(runtime.config.language, "command.refused"))
        return True
    return False


async def _place_command(
    session: AsyncSession,
    runtime: DeskRuntime,
    message: Message,
    conversation: Conversation,
    command: str,
    *,
    admin: bool = False,
) -> None:
    """Run a command given in the conversation's place; `admin`: the caller may override
    the claim (/release takes it back from the claimer, /block and /unblock)."""
    language = runtime.config.language
    user = message.from_user
    assert user is not None
    caller = commands.Caller(user.id, user.full_name)
    desk = runtime.desk
    if command == "close":
        channel = await customer_channel(session, conversation)
        outlet = runtime.outlets.for_channel(channel)
        reply = await commands.close(
            session,
            conversation,
            caller,
            desk=desk,
            outlet=outlet,
            language=language,
            goodbye=runtime.config.close.goodbye,
            texts=CustomerTexts(runtime.config.texts.override),
            rating=runtime.config.close.rating,
        )
    elif command == "release":
        reply = await commands.release(
            session, conversation, caller, desk=desk, language=language, admin=admin
        )
    elif command == "transfer":
        group = runtime.desk.group(conversation)
        candidates = await _operators_of(session, runtime, group.chat_id)
        reply = commands.transfer_choices(conversation, caller, candidates, language)
        if reply.choices:
            rows = [
                [
                    (
                        name,
                        packed(
                            TransferCallback(conversation=conversation.id or 0, operator=op_id)
                        ),
                    )
                ]
                for op_id, name in reply.choices
            ]
            await answer(session, message, reply.html, reply_markup=calls.inline_keyboard(rows))
            return
    elif command == "history":
        reply = await commands.history(session, conversation, language=language)
    elif command == QUICK_REPLY:
        channel = await customer_channel(session, conversation)
        reply = await quick_replies.send_template(
            session,
            conversation,
            OperatorMessage(
                external_id=external_id(message.chat.id, message.message_id),
                operator_id=user.id,
                operator_name=user.full_name,
            ),
            _argument(message),
            templates=runtime.config.templates,
            desk=desk,
            outlet=runtime.outlets.for_channel(channel),
            language=language,
        )
    else:
        reply = await commands.set_blocked(
            session,
            conversation,
            command == "block",
            language=language,
            caller=None if admin else caller,
        )
    if reply.html:
        await answer(session, message, reply.html)


def _argument(message: Message) -> str:
    """The first word after the command ("/t delivery" → "delivery"), or ""."""
    words = (message.text or "").split(maxsplit=2)
    return words[1] if len(words) > 1 else ""


async def _group_command(
    runtime: DeskRuntime, message: Message, command: str, event_update: Update
) -> None:
    """/stats, or /t alone (the list), anywhere in an operators' group: its operators only."""
    language = runtime.config.language
    user = message.from_user
    group = runtime.config.group_for_chat(message.chat.id)
    assert user is not None and group is not None  # the filter and the caller checked
    is_operator = await runtime.is_operator(message.chat.id, user.id, proven_member=True)
    async with runtime.transaction() as session:
        if not await fresh(session, event_update):
            return
        if not is_operator:
            await answer(session, message, text(language, "command.refused"))
            return
        await remember_operator(session, user, {group.name})
        if command == QUICK_REPLY:
            reply = quick_replies.list_templates(runtime.config.templates, language)
        else:
            reply = await stats.group_stats(
                session,
                group.name,
                hours=WorkingHours(group.hours),
                now=datetime.now(UTC),
                language=language,
            )
        await answer(session, message, reply.html)


async def _operators_of(
    session: AsyncSession, runtime: DeskRuntime, chat_id: int
) -> list[tuple[int, str]]:
    """The group's operators we know by name: the configured list, else everyone seen acting
    in this group (never another group's operators)."""
    from sqlmodel import col, select

    from storage.models import OperatorGroup

    group = runtime.config.group_for_chat(chat_id)
    if group is None:
        return []
    rows = (await session.exec(select(Operator))).all()
    known = {row.id: row.name for row in rows}
    if group.operators:
        return [(op_id, known.get(op_id, str(op_id))) for op_id in group.operators]
    members = set(
        (
            await session.exec(
                select(col(OperatorGroup.operator_id)).where(OperatorGroup.group == group.name)
            )
        ).all()
    )
    return sorted((op_id, name) for op_id, name in known.items() if op_id in members)


async def _anywhere_command(
    runtime: DeskRuntime, message: Message, command: str | None, event_update: Update
) -> None:
    language = runtime.config.language
    user = message.from_user
    assert user is not None
    groups = await _groups_of_caller(runtime, message, user.id)
    async with runtime.transaction() as session:
        if not await fresh(session, event_update):
            return
        if not groups:
            await answer(session, message, text(language, "command.refused"))
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
        await answer(session, message, reply.html)


async def _groups_of_caller(runtime: DeskRuntime, message: Message, user_id: int) -> list[str]:
    """The groups whose counters a command shows; empty when the caller is no operator there.

    In a group: that group. In a private chat: every group the caller is an operator of.
    """
    if is_private(message):
        return sorted(await runtime.operator_groups_of(user_id))
    group = runtime.config.group_for_chat(message.chat.id)
    if group is None or not await runtime.is_operator(group.chat_id, user_id, proven_member=True):
        return []
    return [group.name]


def commands_router() -> Router:
    """The commands' router (a new one per dispatcher); included before the topics' router,
    whose filter takes every message in an operators' group."""
    router = Router(name="desk-commands")
    router.callback_query.register(on_transfer, TransferCallback.filter())
    router.message.register(on_group_command, desk_command)
    return router
