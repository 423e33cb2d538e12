"""Operator commands: /close /release /transfer /history /block /unblock /my /help.

Each runs inside the caller's transaction and returns a `CommandReply` the desk posts where
the command was given (HTML, plus optional transfer choices). The desk has already checked
that the caller is an operator of the group and found the conversation of the place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge.core.cards import (
    escape,
    escaped_shortened,
    format_time,
    link_html,
    message_summary,
    tg_length,
)
from bridge.core.counters import Counts, has_new_messages, shown
from bridge.core.inbound import lock_conversation
from bridge.core.ratings import ask_rating
from bridge.core.texts import CustomerTexts, text
from storage.conversations import (
    close_conversation,
    open_conversations,
    release_conversation,
    transfer_conversation,
)
from storage.counters import count_new, count_unanswered
from storage.customers import set_customer_blocked
from storage.messages import conversation_messages
from storage.models import ConversationState, Customer, Direction

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import CustomerOutlet, Desk
    from bridge.core.platform_names import PlatformNames
    from storage.models import Conversation

#: Longest /history answer (Telegram's message limit minus room for the header).
HISTORY_LIMIT = 3800


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What to answer: HTML text and, for /transfer, (operator id, name) choices."""

    html: str
    choices: Sequence[tuple[int, str]] = field(default_factory=tuple)
    ok: bool = True


@dataclass(frozen=True, slots=True)
class Caller:
    """The operator giving the command."""

    id: int
    name: str


def _not_claimer(conversation: Conversation, caller: Caller, language: str) -> CommandReply | None:
    if conversation.state == ConversationState.CLOSED:
        return CommandReply(text(language, "alert.closed"), ok=False)
    if conversation.state == ConversationState.ACCEPTED and conversation.operator_id != caller.id:
        operator = escape(conversation.operator_name or "?")
        return CommandReply(text(language, "place.not_claimer", operator=operator), ok=False)
    return None


async def _customer(session: AsyncSession, conversation: Conversation) -> Customer:
    customer = await session.get(Customer, conversation.customer_id, populate_existing=True)
    assert customer is not None
    return customer


async def close(
    session: AsyncSession,
    conversation: Conversation,
    caller: Caller,
    *,
    desk: Desk,
    outlet: CustomerOutlet | None,
    language: str,
    goodbye: bool = True,
    reason: str = "operator",
    texts: CustomerTexts | None = None,
    rating: bool = False,
) -> CommandReply:
    """End the conversation: notice, card "closed", topic closed, closing words to the customer.

    `reason` "inactivity": the auto-close job (bridge/helpdesk) closes it for the claimer
    (`caller`), the notice and the goodbye say so. `texts`: the customer texts with the
    admin's overrides (the built-in ones when None). `rating` (`close.rating`): then ask the
    customer to rate the help 1-5 with their platform's controls (bridge/core/ratings.py)."""
    conversation_id = conversation.id
    assert conversation_id is not None, "commands act on stored conversations"
    customer_text = texts or CustomerTexts()
    conversation = await lock_conversation(session, conversation_id)
    if refused := _not_claimer(conversation, caller, language):
        return refused
    if not await close_conversation(session, conversation_id, reason=reason):
        return CommandReply(text(language, "alert.closed"), ok=False)
    conversation = await lock_conversation(session, conversation_id)
    customer = await _customer(session, conversation)
    inactive = reason == "inactivity"
    if inactive:
        notice = text(language, "place.closed_inactive", number=conversation.id)
    else:
        notice = text(
            language, "place.closed", number=conversation.id, operator=escape(caller.name)
        )
    await desk.notice(session, conversation, notice)
    await desk.update_card(session, conversation, customer)
    await desk.close_place(session, conversation)
    if goodbye and outlet is not None:
        await outlet.enqueue_text(
            session,
            conversation,
            customer,
            customer_text(
                customer.language or language, "closed_inactive" if inactive else "closed"
            ),
        )
    if rating and outlet is not None and not customer.blocked:
        await ask_rating(
            session,
            conversation,
            customer,
            outlet,
            texts=customer_text,
            language=customer.language or language,
        )
    return CommandReply("")


async def release(
    session: AsyncSession,
    conversation: Conversation,
    caller: Caller,
    *,
    desk: Desk,
    language: str,
    admin: bool = False,
) -> CommandReply:
    """Give the conversation back to the feed with a fresh card.

    `admin`: the caller is an administrator of the group (or listed in `groups.NAME.admins`)
    and may take a conversation back from whoever claimed it (a claimer who left, or a forged
    claim); the notice in the place says who did it and from whom."""
    conversation_id = conversation.id
    assert conversation_id is not None, "commands act on stored conversations"
    conversation = await lock_conversation(session, conversation_id)
    forced = (
        admin
        and conversation.state == ConversationState.ACCEPTED
        and conversation.operator_id != caller.id
    )
    if not forced and (refused := _not_claimer(conversation, caller, language)):
        return refused
    former = conversation.operator_name or "?"
    claimer = None if forced else caller.id
    if not await release_conversation(session, conversation_id, claimer):
        return CommandReply(text(language, "alert.closed"), ok=False)
    conversation = await lock_conversation(session, conversation_id)
    customer = await _customer(session, conversation)
    if forced:
        notice = text(
            language,
            "place.force_released",
            number=conversation.id,
            admin=escape(caller.name),
            operator=escape(former),
        )
    else:
        notice = text(
            language, "place.released", number=conversation.id, operator=escape(caller.name)
        )
    await desk.notice(session, conversation, notice)
    await desk.post_card(session, conversation, customer)
    return CommandReply("")


def transfer_choices(
    conversation: Conversation,
    caller: Caller,
    operators: Sequence[tuple[int, str]],
    language: str,
) -> CommandReply:
    """The /transfer answer: one button per other operator of the group."""
    if refused := _not_claimer(conversation, caller, language):
        return refused
    others = [(op_id, name) for op_id, name in operators if op_id != caller.id]
    if not others:
        return CommandReply(text(language, "place.transfer_none"), ok=False)
    return CommandReply(
        text(language, "place.transfer_choose", number=conversation.id), choices=tuple(others)
    )


async def transfer(
    session: AsyncSession,
    conversation: Conversation,
    caller: Caller,
    to: Caller,
    *,
    desk: Desk,
    language: str,
    link: str,
) -> CommandReply:
    """Hand the conversation to `to`; the place is told and the new operator pinged."""
    conversation_id = conversation.id
    assert conversation_id is not None, "commands act on stored conversations"
    conversation = await lock_conversation(session, conversation_id)
    if conversation.state != ConversationState.ACCEPTED:
        return CommandReply(text(language, "alert.closed"), ok=False)
    if refused := _not_claimer(conversation, caller, language):
        return refused
    if not await transfer_conversation(session, conversation_id, to.id, to.name, caller.id):
        return CommandReply(text(language, "alert.closed"), ok=False)
    conversation = await lock_conversation(session, conversation_id)
    customer = await _customer(session, conversation)
    await desk.notice(
        session,
        conversation,
        text(
            language,
            "place.transferred",
            number=conversation.id,
            old=escape(caller.name),
            new=escape(to.name),
        ),
    )
    await desk.update_card(session, conversation, customer)
    name = customer.name or text(language, "guest", number=customer.guest_number or 0)
    await desk.notify_operator(
        session,
        to.id,
        text(
            language,
            "private.transferred",
            old=escape(caller.name),
            number=conversation.id,
            name=escaped_shortened(name, 64),
            link=link_html(link, text(language, "card.open_link")),
        ),
    )
    return CommandReply(text(language, "alert.transfer_done", operator=escape(to.name)))


async def history(
    session: AsyncSession, conversation: Conversation, *, language: str
) -> CommandReply:
    """The conversation's messages so far, newest last, within one Telegram message."""
    assert conversation.id is not None
    messages = await conversation_messages(session, conversation.id)
    header = text(language, "place.history_header", number=conversation.id)
    if not messages:
        empty = "place.history_empty" if conversation.is_open else "place.history_deleted"
        return CommandReply(header + "\n" + text(language, empty))
    lines: list[str] = []
    used = 0
    for message in reversed(messages):
        kinds = [a.get("kind", "document") for a in message.attachments or []]
        summary = message_summary(message.text or "", kinds, language)
        marker = {Direction.IN: "←", Direction.OUT: "→"}.get(Direction(message.direction), "🔒")
        line = (
            f"{format_time(message.created_at)[11:16]} {marker} "
            f"<b>{escape(message.author or '?')}</b>: {escaped_shortened(summary, 300)}"
        )
        if used + tg_length(line) > HISTORY_LIMIT:
            break
        lines.append(line)
        used += tg_length(line) + 1
    return CommandReply(header + "\n" + "\n".join(reversed(lines)))


async def set_blocked(
    session: AsyncSession,
    conversation: Conversation,
    blocked: bool,
    *,
    language: str,
    caller: Caller | None = None,
) -> CommandReply:
    """/block and /unblock: a blocked customer's messages are stored but not posted.

    With `caller`, only the claimer of the conversation may (like /close and /transfer); the
    desk passes no caller for an administrator of the group."""
    if caller is not None and (refused := _not_claimer(conversation, caller, language)):
        return refused
    await set_customer_blocked(session, conversation.customer_id, blocked)
    return CommandReply(text(language, "place.blocked" if blocked else "place.unblocked"))


@dataclass(frozen=True, slots=True)
class MyConversation:
    """One line of /my."""

    conversation: Conversation
    customer: Customer
    link: str


async def my(
    session: AsyncSession,
    operator_id: int,
    groups: Sequence[str],
    *,
    link_for: object,
    language: str,
    names: PlatformNames,
) -> CommandReply:
    """The operator's open conversations with links, and their counters.

    The counters are those of `groups` only (the group the command was given in, or in a
    private chat the groups the caller is an operator of); the total is shown like the
    dashboard's ("!" above 9). `link_for(conversation) -> str` gives the t.me link of a
    conversation's place; `names` names each customer's channel.
    """
    # Only the conversations of `groups`: /my typed in one group lists nothing of another's.
    mine = [
        conversation
        for conversation in await open_conversations(session, operator_id=operator_id)
        if conversation.group in groups
    ]
    new = 0
    unanswered = 0
    for group in groups:
        new += await count_new(session, group)
        unanswered += await count_unanswered(session, group, operator_id)
    counts = Counts(new=new, unanswered=unanswered)
    lines = [
        text(
            language,
            "private.my_counters",
            new=counts.new,
            mine=counts.unanswered,
            total=shown(counts.total),
        )
    ]
    if not mine:
        lines.append(text(language, "private.my_none"))
        return CommandReply("\n".join(lines))
    lines.append(text(language, "private.my_header", count=len(mine)))
    for conversation in mine[:50]:
        customer = await _customer(session, conversation)
        name = customer.name or text(language, "guest", number=customer.guest_number or 0)
        flag = (
            text(language, "private.my_unanswered")
            if not customer.blocked
            and has_new_messages(
                conversation.last_customer_message_at, conversation.last_operator_reply_at
            )
            else ""
        )
        link = link_for(conversation)  # type: ignore[operator]
        lines.append(
            text(
                language,
                "private.my_item",
                number=conversation.id,
                name=escaped_shortened(name, 64),
                source=escape(names.source(language, customer.channel)),
                unanswered=flag,
                link=link_html(link, text(language, "card.open_link")),
            )
        )
    return CommandReply("\n".join(lines))


def help_text(language: str) -> CommandReply:
    """/help."""
    return CommandReply(text(language, "command.help"))
