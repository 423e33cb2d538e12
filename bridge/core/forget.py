"""Forgetting a customer on request (issue 17): their data goes, a tombstone stays.

`forget_customer` erases the customer's messages and profile (storage/forget.py), removes
their stored files through the `erase_files` hook the caller hands in (the widget's files on
disk: the core does not know where a platform keeps them), and posts the "data deleted on
request" notice in the place of their latest conversation, through the outbox like every post.
The customer stays unreachable with that reason, so an operator's later reply there is kept
and refused with a notice (bridge/core/replies.py). Runs in the caller's transaction; the
tombstone is enqueued after the erasure, which removes the conversations' unsent outbox rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.core.desk import ClosedPlaceNotices
from bridge.core.texts import normalize_language, text
from storage.customers import find_customer, get_customer
from storage.forget import customer_conversations, erase_customer

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Desk
    from bridge.core.sink import CustomerRefresh, SinkRuntime
    from storage.models import Customer

#: Removes a customer's stored files (by channel and platform id); returns how many.
EraseFiles = Callable[[str, str], int]


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What was deleted for one customer."""

    customer_id: int
    channel: str
    messages: int
    conversations: int
    outbox: int
    files: int
    profile: bool

    def summary(self) -> str:
        """One line for the command line and logs."""
        return (
            f"customer #{self.customer_id} ({self.channel}): {self.messages} message(s), "
            f"{self.files} file(s), profile {'removed' if self.profile else 'was empty'}, "
            f"{self.outbox} queued delivery(ies) dropped; "
            f"{self.conversations} conversation(s) kept for the counters, without content"
        )


async def forget_customer(
    session: AsyncSession,
    customer: Customer,
    *,
    desk: Desk,
    language: str,
    erase_files: EraseFiles | None = None,
    refresh: CustomerRefresh | None = None,
) -> Forgotten:
    """Erase `customer`'s data and post the tombstone in their latest conversation's place;
    `refresh` re-renders their cards and topic titles without the name (the desk's)."""
    assert customer.id is not None
    channel, user = customer.channel, customer.external_id
    conversations = await customer_conversations(session, customer.id)
    reason = text(language, "forget.reason")
    erased = await erase_customer(session, customer, reason)
    files = erase_files(channel, user) if erase_files is not None else 0
    nameless = await get_customer(session, customer.id)
    if refresh is not None and nameless is not None:
        for conversation in await customer_conversations(session, customer.id):
            await refresh.renamed(session, conversation, nameless)
    if conversations:
        latest = conversations[-1]
        notice = text(language, "place.data_deleted")
        if not latest.is_open and isinstance(desk, ClosedPlaceNotices):
            await desk.notice_closed(session, latest, notice)
        else:
            await desk.notice(session, latest, notice)
    return Forgotten(
        customer.id,
        channel,
        erased.messages,
        erased.conversations,
        erased.outbox,
        files,
        erased.profile,
    )


class Forgetter:
    """`forget_customer` in a transaction of the running service (a platform's own deletion
    callback uses it): the tombstone goes out with the service's outbox as soon as it commits.
    """

    def __init__(
        self,
        runtime: SinkRuntime,
        erase_files: EraseFiles | None = None,
        refresh: CustomerRefresh | None = None,
    ) -> None:
        self._runtime = runtime
        self._erase_files = erase_files
        self._refresh = refresh

    async def forget(self, channel: str, user: str) -> Forgotten | None:
        """Forget the customer (channel, platform id); None when nobody is known by it."""
        async with self._runtime.transaction() as session:
            customer = await find_customer(session, channel, user)
            if customer is None:
                return None
            return await forget_customer(
                session,
                customer,
                desk=self._runtime.desk,
                language=normalize_language(self._runtime.config.language),
                erase_files=self._erase_files,
                refresh=self._refresh,
            )
