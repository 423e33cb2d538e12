"""Outside working hours: the offline auto-reply and the mark on a conversation opened then.

A group with `hours` (bridge/hours.py) is closed between its stretches. A customer who writes
while it is closed gets the offline text at once — when the group opens next, in the
customer's language and the group's zone — the first time in each closed spell: when they
never had it, or had it before the spell began (the group's last closing time). A
conversation opened while closed is marked `outside_hours` (its card says so) and its SLA
clocks start at the next opening (`sla_from`).

`OfflineReplies.at(group)` decides once — one clock reading, one `WorkingHours` per group,
its opening and closing times computed once — and the `HoursNow` it returns serves a whole
batch of messages (bridge/core/inbound_batch.py) as well as one message (inbound.py). Both
run inside the caller's transaction and only enqueue, through the customer's outlet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm.attributes import set_committed_value

from bridge.core.texts import CustomerTexts
from bridge.hours import WorkingHours
from storage.helpdesk import mark_outside_hours, take_offline_notices
from storage.models import ConversationState

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Outlets
    from config import BridgeConfig
    from storage.models import Conversation, Customer

#: What the bridge asks for the time (tests set their own).
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HoursNow:
    """A group's working hours at one instant, with what a message needs decided once."""

    hours: WorkingHours
    now: datetime
    open: bool
    #: When the group opens next (None: open now, or never within the horizon).
    next_opening: datetime | None = None
    #: When the current closed spell began (None: open now, or not within the horizon).
    spell_began: datetime | None = None
    replies: OfflineReplies | None = None

    @property
    def closed(self) -> bool:
        return not self.open

    def _owes(self, conversation: Conversation, customer: Customer) -> bool:
        """Whether this customer's message may owe the offline text (the database decides
        finally, `take_offline_notices`): not when an operator is answering them in this
        closed spell already (a claimed conversation with a reply since the closing)."""
        if self.open or customer.blocked or customer.id is None:
            return False
        if (
            conversation.state == ConversationState.ACCEPTED
            and conversation.last_operator_reply_at is not None
            and self.spell_began is not None
            and conversation.last_operator_reply_at >= self.spell_began
        ):
            return False
        return True

    async def opened(self, session: AsyncSession, conversation: Conversation) -> None:
        """A new conversation: while closed, mark it (its card, its SLA clocks)."""
        if self.closed:
            await mark_outside_hours(session, conversation, self.next_opening or self.now)

    async def answer(
        self, session: AsyncSession, written: Sequence[tuple[Conversation, Customer]]
    ) -> int:
        """Queue the offline text to each customer (of these who wrote) owed it; how many."""
        if self.open or self.replies is None:
            return 0
        candidates = {
            customer.id: (conversation, customer)
            for conversation, customer in written
            if self._owes(conversation, customer) and customer.id is not None
        }
        taken = await take_offline_notices(
            session, candidates.keys(), now=self.now, spell_began=self.spell_began
        )
        for customer_id in sorted(taken):
            conversation, customer = candidates[customer_id]
            set_committed_value(customer, "offline_notice_at", self.now)
            await self.replies.send(session, self, conversation, customer)
        return len(taken)


class OfflineReplies:
    """The groups' working hours and the offline text, for the intake (one per sink).

    `clock` gives the time (default: the system's, in UTC); `outlets` queue the text.
    """

    def __init__(
        self,
        config: BridgeConfig,
        outlets: Callable[[], Outlets],
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self._outlets = outlets
        self.clock = clock
        self._texts: CustomerTexts | None = None
        self._hours: dict[str, WorkingHours] = {}

    @property
    def texts(self) -> CustomerTexts:
        """The customer texts with the admin's `texts:` overrides."""
        if self._texts is None:
            self._texts = CustomerTexts(self.config.texts.override)
        return self._texts

    def hours(self, group: str) -> WorkingHours:
        """The group's `WorkingHours` (made once: the config does not change)."""
        found = self._hours.get(group)
        if found is None:
            settings = self.config.groups.get(group)
            found = WorkingHours(settings.hours if settings is not None else None)
            self._hours[group] = found
        return found

    def at(self, group: str, now: datetime | None = None) -> HoursNow:
        """The group's hours now (or at `now`), decided once for a message or a batch."""
        hours = self.hours(group)
        moment = now if now is not None else self.clock()
        if hours.always_open or hours.is_open(moment):
            return HoursNow(hours, moment, True, replies=self)
        return HoursNow(
            hours,
            moment,
            False,
            next_opening=hours.next_opening(moment),
            spell_began=hours.last_closing(moment),
            replies=self,
        )

    def text(self, moment: HoursNow, language: str | None) -> str:
        """The offline text in `language` (the config's when None)."""
        language = language or self.config.language
        opens = moment.next_opening
        when = moment.hours.describe(opens, language) if opens is not None else "—"
        return self.texts(language, "offline", opens=when)

    async def send(
        self,
        session: AsyncSession,
        moment: HoursNow,
        conversation: Conversation,
        customer: Customer,
    ) -> None:
        outlet = self._outlets().for_channel(customer.channel)
        await outlet.enqueue_text(
            session, conversation, customer, self.text(moment, customer.language)
        )
