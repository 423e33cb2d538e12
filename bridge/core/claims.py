"""Accept: one conditional UPDATE decides the winner; only the winner changes the card.

The caller has already checked that the presser is an operator of the conversation's group
(the desk knows the group's members). Runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from storage.conversations import claim_conversation, get_conversation
from storage.models import ConversationState, Customer

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Desk

AcceptStatus = Literal["won", "taken", "closed", "missing", "foreign"]


@dataclass(frozen=True, slots=True)
class AcceptOutcome:
    """The result of one press: won, or taken by `operator_name`, or closed/missing."""

    status: AcceptStatus
    operator_name: str | None = None
    conversation_id: int | None = None


async def accept(
    session: AsyncSession,
    conversation_id: int,
    operator_id: int,
    operator_name: str,
    *,
    desk: Desk,
    group: str | None = None,
) -> AcceptOutcome:
    """Claim the conversation for the operator; on a win, update the card and open its place.

    `group`: the operators' group the press came from. A conversation of another group is
    "foreign" and stays as it is (callback data can be forged: an operator of one group must
    not claim another group's conversations)."""
    won = await claim_conversation(
        session, conversation_id, operator_id, operator_name, group=group
    )
    conversation = await get_conversation(session, conversation_id)
    if conversation is None:
        return AcceptOutcome("missing")
    if group is not None and conversation.group != group:
        return AcceptOutcome("foreign", conversation_id=conversation_id)
    if not won:
        if conversation.state == ConversationState.CLOSED:
            return AcceptOutcome("closed", conversation_id=conversation_id)
        return AcceptOutcome("taken", conversation.operator_name, conversation_id)
    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    await desk.update_card(session, conversation, customer)
    await desk.open_place(session, conversation, customer)
    return AcceptOutcome("won", operator_name, conversation_id)
