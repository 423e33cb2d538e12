"""The seams the core talks to: the operators' desk and the customer-side outlets.

Contract of every method: it runs inside the caller's transaction, may read and write the
database through `session`, and only ENQUEUES outbound calls (bridge.outbox) — it never calls
a platform, never commits, and raises only for bugs. So an event and everything it causes
commit together or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import timedelta

    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.events import Choice, Outbound
    from storage.models import Conversation, Customer, Message


class Desk(Protocol):
    """The operators' side: where conversations are shown and worked on."""

    async def post_card(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        """Post a new conversation's card in its group's Incoming feed (and private pings)."""

    async def update_card(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        """Re-render the card: messages folded in while new, "accepted by", "closed"."""

    async def open_place(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        """After an accept: make (or reopen) the conversation's place and post its history."""

    async def relay_inbound(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
    ) -> None:
        """Post a customer's message of an accepted conversation into its place."""

    async def relay_edit(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
    ) -> None:
        """Show that the customer edited `message` (its text is already the new one)."""

    async def notice(
        self, session: AsyncSession, conversation: Conversation, html: str, *, quiet: bool = False
    ) -> None:
        """Post a short notice (HTML) in the conversation's place; `quiet`: without a
        notification sound (it answers what an operator has just written there)."""

    async def close_place(self, session: AsyncSession, conversation: Conversation) -> None:
        """The conversation is closed: close its topic (topics mode)."""

    async def notify_operator(self, session: AsyncSession, operator_id: int, html: str) -> None:
        """A private message to an operator who has started the bot (skipped otherwise)."""


@runtime_checkable
class RemindingDesk(Protocol):
    """Optional ability of a desk: the SLA reminders (issue 15, bridge/helpdesk).

    The jobs check for it (`isinstance(desk, RemindingDesk)`). Same contract as `Desk`:
    enqueue only, in the caller's transaction, through the outbox like every post.
    """

    async def remind_accept(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        *,
        waited: timedelta,
    ) -> None:
        """A card has waited `waited` for Accept: a reminder in the group's Incoming feed that
        links the card, and a private ping to each operator of the group who started the bot."""

    async def remind_answer(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        *,
        waited: timedelta,
    ) -> None:
        """The customer has waited `waited` for the claimer's answer: a private message to
        the claimer, or a notice in the conversation's place when they cannot be reached."""


@runtime_checkable
class ClosedPlaceNotices(Protocol):
    """Optional ability of a desk: a notice about a CLOSED conversation in its place (a
    customer's rating after the close), where a plain post may be refused (a closed forum
    topic). The core checks for it and posts a plain `notice` otherwise. Enqueue only."""

    async def notice_closed(
        self, session: AsyncSession, conversation: Conversation, html: str
    ) -> None:
        """Post `html` in the closed conversation's place."""


class CustomerOutlet(Protocol):
    """One customer platform's way out: turns an operator's reply into outbox rows."""

    async def enqueue_reply(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
        outbound: Outbound,
        *,
        html: str | None = None,
    ) -> None:
        """Queue `outbound` to the customer; the row's failure marks `message` failed.

        `html` is the same text with the operator's formatting (Telegram HTML), for platforms
        that can show it; others send `outbound.text`.
        """

    async def enqueue_text(
        self, session: AsyncSession, conversation: Conversation, customer: Customer, text: str
    ) -> None:
        """Queue a plain service text (closing words) to the customer."""


@runtime_checkable
class EditingOutlet(Protocol):
    """Optional ability of an outlet: edit a reply the customer already received.

    The core checks for it (`isinstance(outlet, EditingOutlet)`); an outlet without it gets a
    correction text instead. Same contract as the other methods (enqueue only).
    """

    async def enqueue_edit(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
        *,
        html: str | None = None,
    ) -> bool:
        """Queue an edit of the customer's copy of `message` (its text is already the new one).

        Returns False, queueing nothing, when this copy cannot be edited (not delivered yet,
        sent in several parts, a kind of message without text); the core then corrects.
        """


@runtime_checkable
class ChoiceOutlet(Protocol):
    """Optional ability of an outlet: offer the customer buttons in their platform's own
    controls (a rating request's stars: an inline keyboard, a VK or Viber keyboard, quick
    replies, the widget's stars).

    The core checks for it (`isinstance(outlet, ChoiceOutlet)`); an outlet without it gets the
    choices written out in the text (bridge/core/ratings.py). Same contract as the other
    methods (enqueue only). A press comes back as an `Inbound` whose `action` is the pressed
    `Choice.action`.
    """

    async def enqueue_choices(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        text: str,
        choices: Sequence[Choice],
    ) -> None:
        """Queue `text` (plain) with one button per choice, in order, to the customer."""


class Outlets:
    """Customer outlets by channel family ("telegram", "vk", "site", ...)."""

    def __init__(self, outlets: dict[str, CustomerOutlet] | None = None) -> None:
        self._outlets = dict(outlets or {})

    def register(self, family: str, outlet: CustomerOutlet) -> None:
        """Add the outlet of one channel family (one line per platform)."""
        self._outlets[family] = outlet

    def for_channel(self, channel: str) -> CustomerOutlet:
        """The outlet of `channel` ("site:shop" → "site"); LookupError when none is wired."""
        family = channel.split(":", 1)[0]
        try:
            return self._outlets[family]
        except KeyError:
            raise LookupError(f"no customer outlet for channel {channel!r}") from None
