"""The SLA reminders: a card waiting for Accept, a customer waiting for the claimer's answer.

Each job reads the group's waits once, then decides each due reminder in its own transaction:
the conversation's row is locked and re-read (an Accept or a reply that just committed ends
the wait: no reminder), the reminder is claimed (`claim_reminder`, one per conversation, kind
and wait key, across processes), and the desk queues it (`RemindingDesk`). The claim and the
posts commit together: a reminder is queued exactly once, or not at all.

Nothing is reminded while the group is closed (bridge/hours.py); the clocks and the wait keys
are in bridge/helpdesk/sla.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bridge.core.counters import has_new_messages
from bridge.core.desk import RemindingDesk
from bridge.core.inbound import lock_conversation
from bridge.helpdesk.sla import Due, accept_clock, answer_clock, due
from storage.helpdesk import claim_reminder, waiting_for_accept, waiting_for_answer
from storage.models import ConversationState, Customer

if TYPE_CHECKING:
    from bridge.helpdesk.jobs import Helpdesk
    from bridge.hours import WorkingHours
    from config import GroupConfig

log = logging.getLogger(__name__)

#: `Reminder.kind` of each reminder.
ACCEPT = "accept"
ANSWER = "answer"


def _reminding(jobs: Helpdesk) -> RemindingDesk | None:
    if isinstance(jobs.desk, RemindingDesk):
        return jobs.desk
    log.warning("the desk cannot post reminders; SLA reminders are off")
    return None


async def accept_reminders(
    jobs: Helpdesk, group: GroupConfig, hours: WorkingHours, within: timedelta, now: datetime
) -> int:
    """Remind of the group's cards that waited `within` for Accept; how many were queued."""
    desk = _reminding(jobs)
    if desk is None or not hours.is_open(now):
        return 0
    async with jobs.sessions() as session:
        waiting = await waiting_for_accept(session, group.name)
    sent = 0
    for conversation in waiting:
        started = accept_clock(hours, conversation.opened_at, conversation.sla_from)
        reminder = due(started, within, now)
        assert conversation.id is not None
        if reminder is not None and await _remind_accept(
            jobs, desk, conversation.id, started, reminder, now
        ):
            sent += 1
    return sent


async def _remind_accept(
    jobs: Helpdesk,
    desk: RemindingDesk,
    conversation_id: int,
    started: datetime,
    reminder: Due,
    now: datetime,
) -> bool:
    async with jobs.transaction() as session:
        conversation = await lock_conversation(session, conversation_id)
        if conversation.state != ConversationState.NEW:
            return False  # accepted or closed meanwhile
        if (
            accept_clock(
                jobs.hours[conversation.group], conversation.opened_at, conversation.sla_from
            )
            != started
        ):
            return False  # its clock moved meanwhile; the next tick sees the new one
        if not await claim_reminder(session, conversation_id, ACCEPT, reminder.wait_key, now=now):
            return False  # sent already (by this process or another)
        customer = await session.get(Customer, conversation.customer_id)
        assert customer is not None
        await desk.remind_accept(session, conversation, customer, waited=reminder.waited)
    log.info("accept reminder %s of conversation #%s", reminder.wait_key, conversation_id)
    return True


async def answer_reminders(
    jobs: Helpdesk, group: GroupConfig, hours: WorkingHours, within: timedelta, now: datetime
) -> int:
    """Remind the claimers whose customer waited `within` for an answer; how many were queued."""
    desk = _reminding(jobs)
    if desk is None or not hours.is_open(now):
        return 0
    async with jobs.sessions() as session:
        waits = await waiting_for_answer(session, group.name)
    sent = 0
    for wait in waits:
        started = answer_clock(
            hours,
            wait.first_unanswered,
            wait.conversation.accepted_at,
            wait.conversation.last_operator_reply_at,
        )
        reminder = due(started, within, now)
        conversation = wait.conversation
        assert conversation.id is not None
        if reminder is not None and await _remind_answer(
            jobs, desk, conversation.id, conversation.operator_id, reminder, now
        ):
            sent += 1
    return sent


async def _remind_answer(
    jobs: Helpdesk,
    desk: RemindingDesk,
    conversation_id: int,
    operator_id: int | None,
    reminder: Due,
    now: datetime,
) -> bool:
    async with jobs.transaction() as session:
        conversation = await lock_conversation(session, conversation_id)
        if (
            conversation.state != ConversationState.ACCEPTED
            or conversation.operator_id != operator_id
            or not has_new_messages(
                conversation.last_customer_message_at, conversation.last_operator_reply_at
            )
        ):
            return False  # answered, released, transferred or closed meanwhile
        if not await claim_reminder(session, conversation_id, ANSWER, reminder.wait_key, now=now):
            return False
        customer = await session.get(Customer, conversation.customer_id)
        assert customer is not None
        await desk.remind_answer(session, conversation, customer, waited=reminder.waited)
    log.info("answer reminder %s of conversation #%s", reminder.wait_key, conversation_id)
    return True
