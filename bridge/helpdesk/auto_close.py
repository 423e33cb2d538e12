"""The auto-close: a claimed conversation with no message either way for `auto_close_after`.

It is closed as its claimer's /close would (bridge/core/commands.py `close`, reason
"inactivity"): the notice "closed for inactivity" in the place, the card, the topic closed,
the goodbye (and the rating request) to the customer.

Never while an operator's reply is still on its way: `storage.helpdesk.reply_pending` (a
stored reply not sent yet, or an unsent outbox row of one) keeps the conversation open until a
later tick, after the reply went out. Each candidate is decided in its own transaction with
the conversation's row locked and re-read, so a message that just arrived, an operator's
/close or another process's auto-close wins; the close is also recorded as a `Reminder` of
kind `auto_close` (its wait key: the instant the silence began).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bridge.core.commands import Caller, close
from bridge.core.inbound import lock_conversation
from storage.helpdesk import claim_reminder, reply_pending, silent_claims
from storage.models import Conversation, ConversationState, Customer

if TYPE_CHECKING:
    from bridge.helpdesk.jobs import Helpdesk
    from config import GroupConfig

log = logging.getLogger(__name__)

#: `Reminder.kind` of an auto-close.
AUTO_CLOSE = "auto_close"


class _NotClosed(Exception):
    """Roll the auto-close's transaction back (its claim with it)."""


def last_activity(conversation: Conversation) -> datetime:
    """The last message either way, or the accept (or the opening) when later."""
    instants = [
        conversation.opened_at,
        conversation.accepted_at,
        conversation.last_customer_message_at,
        conversation.last_operator_reply_at,
    ]
    return max(instant for instant in instants if instant is not None)


async def auto_close_group(
    jobs: Helpdesk, group: GroupConfig, after: timedelta, now: datetime
) -> int:
    """Close the group's claimed conversations silent for `after`; how many were closed."""
    before = now - after
    async with jobs.sessions() as session:
        candidates = await silent_claims(session, group.name, before)
    closed = 0
    for candidate in candidates:
        assert candidate.id is not None
        try:
            await _auto_close(jobs, candidate.id, before, now)
        except _NotClosed:
            continue
        closed += 1
    return closed


async def _auto_close(
    jobs: Helpdesk, conversation_id: int, before: datetime, now: datetime
) -> None:
    async with jobs.transaction() as session:
        conversation = await lock_conversation(session, conversation_id)
        if conversation.state != ConversationState.ACCEPTED or conversation.operator_id is None:
            raise _NotClosed
        silent_since = last_activity(conversation)
        if silent_since >= before:
            raise _NotClosed  # a message (or an accept) just came
        if await reply_pending(session, conversation_id):
            log.debug("conversation #%s: a reply is still on its way; not closed", conversation_id)
            raise _NotClosed
        if not await claim_reminder(
            session, conversation_id, AUTO_CLOSE, silent_since.isoformat(), now=now
        ):
            raise _NotClosed
        customer = await session.get(Customer, conversation.customer_id)
        assert customer is not None
        try:
            outlet = jobs.outlets.for_channel(customer.channel)
        except LookupError:
            outlet = None  # the channel is not served now: no goodbye
        reply = await close(
            session,
            conversation,
            Caller(conversation.operator_id, conversation.operator_name or ""),
            desk=jobs.desk,
            outlet=outlet,
            language=jobs.config.language,
            goodbye=jobs.config.close.goodbye,
            rating=jobs.config.close.rating,
            reason="inactivity",
            texts=jobs.texts,
        )
        if not reply.ok:
            raise _NotClosed
    log.info(
        "conversation #%s closed for inactivity (silent since %s)", conversation_id, silent_since
    )
