"""The core's `CoreSink`: what every customer adapter reports, committed in one transaction.

- `inbound`: `handle_inbound` in one transaction (False for a duplicate). An event the core
  cannot store (an empty or over-long id) is refused with a warning and stores nothing, so a
  malformed webhook never turns into a 5xx. A customer who writes is reachable again, and a
  guest's name is looked up later. `InboundBatches` (bridge/core/sink_batches.py) is the same
  entry point through a group commit, for a platform whose updates arrive fast (Telegram):
  the same rules (`admit`, `settle`, `stored`), many messages per transaction; once the sink
  `use_batches` one, every adapter's `inbound` goes through it (issue 16).
- `delivery`: the message the platform knows by that id (recorded when the reply was sent,
  desk/customer_side.py) moves forward: sent → delivered → seen; `failed` is shown to
  the operator in the conversation's place.
- `reachability`: the customer's reachable flag, and a notice in the open conversation's place.
- `profile`: a name learned later: the customer row is updated and the desk refreshes what
  shows it (card, avatar, topic title) through `CustomerRefresh`.

`LaterNames` asks an adapter again, in the background, for the name of a customer who is
still a guest after a failed lookup (a timeout, a platform error): a failed lookup never holds
a message back, and the name arrives through `profile` when it can.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

from bridge.adapter import DeliveryState, LooksUpProfiles, StoredInbound
from bridge.components import ComponentState
from bridge.core.cards import escape
from bridge.core.group_commit import IngestStopped
from bridge.core.inbound import DuplicateInbound, InboundResult, handle_inbound
from bridge.core.offline import Clock, HoursNow, OfflineReplies, utc_now
from bridge.core.reachability import set_reachability
from bridge.core.texts import normalize_language, text
from bridge.errors import PermanentError
from storage.conversations import find_open_conversation
from storage.customers import find_customer, upsert_customer
from storage.messages import get_message, set_delivery_state
from storage.models import DeliveryState as StoredState
from storage.sent import message_for_sent
from storage.state import mark_event_processed

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Desk, Outlets
    from bridge.core.ratings import Ratings
    from bridge.core.sink_batches import InboundBatches
    from bridge.events import CustomerProfile, Inbound
    from config import BridgeConfig
    from storage.models import Conversation, Customer

log = logging.getLogger(__name__)

#: Longest id the database keeps (customers.external_id, messages.external_id, ...).
MAX_ID = 255
#: How far each delivery state has got; a late "delivered" never undoes "seen".
RANK = {"pending": 0, "sent": 1, "delivered": 2, "seen": 3}
#: Seconds before each further name lookup of a guest (divided by `time_scale`, which
#: speeds the service up like the outbox's pacing).
LOOKUP_DELAYS = (5.0, 30.0, 300.0, 3600.0)


class SinkRuntime(Protocol):
    """What the sink needs of the running service (desk.runtime.DeskRuntime has it)."""

    @property
    def config(self) -> BridgeConfig: ...

    @property
    def desk(self) -> Desk: ...

    @property
    def outlets(self) -> Outlets:
        """The customer outlets (the offline auto-reply goes through them)."""

    @property
    def sessions(self) -> Any:
        """The session factory (sink_batches.py commits its own transactions)."""

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    def wake(self) -> None:
        """Wake the outbox worker (new rows were committed)."""


class CustomerRefresh(Protocol):
    """The desk's way of showing a customer's new name (card, avatar, place title).

    Runs inside the caller's transaction and only enqueues, like every `Desk` method.
    """

    async def renamed(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None: ...


class InvalidEvent(ValueError):
    """An event the core cannot store as it is (an empty or over-long id)."""


def check_event(event: Inbound) -> None:
    """InvalidEvent when `event` has an id the database cannot keep."""
    for name in ("channel", "chat", "user", "external_id"):
        value = getattr(event, name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidEvent(f"{name} is empty")
        if len(value) > MAX_ID:
            raise InvalidEvent(f"{name} is longer than {MAX_ID} characters")
    if event.edit_of is not None and (not event.edit_of or len(event.edit_of) > MAX_ID):
        raise InvalidEvent("edit_of is empty or too long")


class BridgeSink:
    """`bridge.adapter.CoreSink` over the running service's database and desk."""

    def __init__(
        self,
        runtime: SinkRuntime,
        *,
        refresh: CustomerRefresh | None = None,
        time_scale: float = 1.0,
        clock: Clock = utc_now,
        ratings: Ratings | None = None,
    ) -> None:
        """`clock`: the time working hours are judged by (tests set it; see `clock`);
        `ratings`: takes rating presses and comments out of the flow (issue 15)."""
        self.runtime = runtime
        self.refresh = refresh
        self.ratings = ratings
        self.names = LaterNames(self, time_scale=time_scale)
        #: What the sink asks for the time (settable: tests move it across opening times).
        self.clock = clock
        self.offline = OfflineReplies(
            runtime.config, lambda: self.runtime.outlets, clock=lambda: self.clock()
        )
        #: The group commit `inbound` stores through while it runs (`use_batches`).
        self.batches: InboundBatches | None = None

    def use_batches(self, batches: InboundBatches) -> None:
        """Store every adapter's messages through `batches` (a group commit) while it runs."""
        self.batches = batches

    @property
    def language(self) -> str:
        return normalize_language(self.runtime.config.language)

    # ---- CoreSink ---------------------------------------------------------------------------

    async def inbound(self, event: Inbound) -> bool:
        """Store the message (one transaction, or the batches' shared commit while they run);
        False when it was already stored or refused."""
        return await self.inbound_stored(event) is not None

    async def inbound_stored(self, event: Inbound) -> StoredInbound | None:
        """`inbound`, saying which message was stored (bridge.adapter.TellsStoredInbound);
        None when it was already stored or refused."""
        if self.batches is not None and self.batches.running:
            try:
                return await self.batches.inbound_stored(event)
            except IngestStopped:  # stopping: not stored, store it alone below
                log.debug(
                    "inbound %s:%s stored alone (batches stopping)",
                    event.channel,
                    event.external_id,
                )
        group = self.admit(event)
        if group is None:
            return None
        try:
            async with self.runtime.transaction() as session:
                result = await handle_inbound(
                    session,
                    event,
                    group=group,
                    desk=self.runtime.desk,
                    hours=self.hours_now(group),
                    ratings=self.ratings,
                )
                await self.settle(session, event, result)
        except DuplicateInbound:
            log.debug("inbound %s:%s stored concurrently", event.channel, event.external_id)
            return None
        return self.receipt(event, result)

    def hours_now(self, group: str) -> HoursNow:
        """The group's working hours now (open or closed, the next opening), decided once for
        one message or one batch (bridge/core/offline.py)."""
        return self.offline.at(group)

    # ---- the rules every inbound event passes, one by one or in a batch (sink_batches.py) -----

    def admit(self, event: Inbound) -> str | None:
        """The group `event` goes to; None (with a warning) when the core cannot store it."""
        try:
            check_event(event)
            return self.runtime.config.group_name_for_channel(event.channel)
        except (InvalidEvent, KeyError) as exc:
            log.warning("inbound %s:%s refused: %s", event.channel, event.external_id, exc)
            return None

    async def settle(self, session: AsyncSession, event: Inbound, result: InboundResult) -> None:
        """What follows a stored message in its transaction: a customer who writes can be
        written to again (a Telegram user who blocked the bot and writes has unblocked it, a
        Viber user who writes is subscribed again, a VK user allows the community's replies,
        Messenger opens its window): replies flow again."""
        if result.status == "posted" and event.edit_of is None and result.unreachable:
            await set_reachability(
                session,
                event.channel,
                event.user,
                True,
                desk=self.runtime.desk,
                language=self.language,
            )

    def receipt(self, event: Inbound, result: InboundResult) -> StoredInbound | None:
        """`stored`, then what an adapter is told: None for a duplicate."""
        if not self.stored(event, result):
            return None
        return StoredInbound(result.message_id, result.conversation_id)

    def stored(self, event: Inbound, result: InboundResult) -> bool:
        """After the commit: a guest's name is looked up later; False for a duplicate."""
        if result.status == "duplicate":
            log.debug("inbound %s:%s is a duplicate", event.channel, event.external_id)
            return False
        if result.guest and event.edit_of is None:
            self.names.schedule(event.channel, event.user)
        return True

    async def delivery(
        self, channel: str, external_id: str, state: DeliveryState, error: str | None = None
    ) -> None:
        """Move the reply the platform knows by `external_id` forward (unknown ids: ignored)."""
        async with self.runtime.transaction() as session:
            stored = await message_for_sent(session, channel, str(external_id))
            message = await get_message(session, stored) if stored is not None else None
            if message is None or message.id is None:
                log.debug("delivery %s of unknown %s:%s ignored", state, channel, external_id)
                return
            if state == "failed":
                reason = error or text(self.language, "place.delivery_failed_unknown")
                await set_delivery_state(session, message.id, StoredState.FAILED, reason)
                conversation = await _conversation_of(session, message.conversation_id)
                if conversation is not None:
                    html = text(self.language, "place.delivery_failed", reason=escape(reason))
                    await self.runtime.desk.notice(session, conversation, html)
                return
            if RANK.get(state, 0) > RANK.get(str(message.delivery_state), -1):
                await set_delivery_state(session, message.id, state)

    async def reachability(
        self,
        channel: str,
        user: str,
        reachable: bool,
        reason: str | None = None,
        *,
        notice: tuple[str, str] | None = None,
        update: tuple[str, int] | None = None,
    ) -> None:
        """Record whether the customer can be written to; tell the operator when it changes.

        `notice` names the texts operators are told (see `set_reachability`). `update` is the
        platform update that reported it, (source, id): recorded as processed in the same
        transaction, so a repeated update changes nothing.
        """
        async with self.runtime.transaction() as session:
            if update is not None and not await mark_event_processed(session, *update):
                log.debug("reachability update %s:%s seen before", *update)
                return
            changed = await set_reachability(
                session,
                channel,
                str(user),
                reachable,
                reason=reason,
                desk=self.runtime.desk,
                language=self.language,
                notice=notice,
            )
        if not changed:
            log.debug("reachability of %s:%s unchanged or customer unknown", channel, user)

    async def profile(self, channel: str, user: str, profile: CustomerProfile) -> None:
        """A name learned later: the customer row, then the card, avatar and topic title."""
        name = profile.full_name
        if not name or len(name) > MAX_ID:
            log.debug("profile of %s:%s has no usable name", channel, user)
            return
        async with self.runtime.transaction() as session:
            known = await find_customer(session, channel, str(user))
            if known is None or known.name == name:
                return
            customer = await upsert_customer(
                session, channel, str(user), known.chat, name=name, profile=profile
            )
            assert customer.id is not None
            conversation = await find_open_conversation(session, customer.id)
            if conversation is not None and self.refresh is not None:
                await self.refresh.renamed(session, conversation, customer)
        self.names.forget(channel, str(user))


async def _conversation_of(session: AsyncSession, conversation_id: int) -> Conversation | None:
    from storage.conversations import get_conversation

    return await get_conversation(session, conversation_id)


class LaterNames:
    """Background name lookups for guests; a component named `names` (stops its lookups)."""

    name = "names"

    def __init__(
        self,
        sink: BridgeSink,
        *,
        time_scale: float = 1.0,
        delays: Sequence[float] = LOOKUP_DELAYS,
    ) -> None:
        self.sink = sink
        self.time_scale = time_scale
        self.delays = tuple(delays)
        self.lookups: dict[str, LooksUpProfiles] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._running = False

    def register(self, channel: str, adapter: Any) -> None:
        """Ask `adapter` for the names of `channel`'s guests (when it can look them up)."""
        if isinstance(adapter, LooksUpProfiles):
            self.lookups[channel] = adapter

    def schedule(self, channel: str, user: str) -> None:
        """Look `user` up later, unless a lookup of them is already on its way."""
        if not self._running or channel not in self.lookups or (channel, user) in self._tasks:
            return
        task = asyncio.create_task(self._resolve(channel, user), name=f"name:{channel}:{user}")
        self._tasks[(channel, user)] = task
        task.add_done_callback(lambda _: self._tasks.pop((channel, user), None))

    def forget(self, channel: str, user: str) -> None:
        task = self._tasks.get((channel, user))
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def pending(self) -> int:
        return len(self._tasks)

    async def _resolve(self, channel: str, user: str) -> None:
        adapter = self.lookups[channel]
        for delay in self.delays:
            await asyncio.sleep(delay / self.time_scale)
            try:
                profile = await adapter.lookup_profile(user)
            except PermanentError as exc:
                log.info("no name for %s:%s (%s); they stay a guest", channel, user, exc)
                return
            except Exception as exc:  # transient: a timeout, a 5xx, a rate limit — try later
                log.info("name lookup of %s:%s failed (%s); trying later", channel, user, exc)
                continue
            if profile is None or not profile.full_name:
                log.debug("%s:%s has no name to show; they stay a guest", channel, user)
                return
            try:
                await self.sink.profile(channel, user, profile)
            except Exception:
                log.exception("storing the name of %s:%s failed", channel, user)
            return

    # ---- Component ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def state(self) -> ComponentState:
        if not self._running:
            return ComponentState("stopped")
        return ComponentState("running", f"{len(self._tasks)} names to look up")
