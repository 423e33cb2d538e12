"""Ratings (issue 15): after a close, the customer rates the help 1-5 and may add a comment.

- `ask_rating` (called by `commands.close` when `close.rating` is on) queues the question with
  five choices in the customer's platform's own controls (`ChoiceOutlet`), or written out as a
  text asking for a number where the outlet has none.
- `Ratings.take` is the inbound core's one early call: it takes what belongs to a rating out of
  the customer's flow before anything is stored as a message —
  * a press (`Inbound.action` "rate:<conversation id>:<stars>") is kept for the conversation
    it names when that conversation is the customer's own and closed, once per conversation
    (a repeated press, or one for another customer's conversation, changes nothing); a late
    press after the customer wrote again still counts for the conversation it names;
  * a bare "1".."5" while the customer's last conversation, closed within `window`, waits
    for its rating and nothing else is open (the answer to the written-out question);
  * the next text within `window` after a rating, while nothing else is open: the comment,
    kept as `Conversation.rating_comment` (and as a message of that closed conversation, so a
    redelivered webhook is a duplicate) instead of opening a new conversation.
  The customer is thanked, and the rating and the comment are shown in the conversation's place.
  A press is never a message: it opens nothing and posts nothing in the feed.

Like everything in the core it runs inside the caller's transaction and only enqueues.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bridge.core.cards import escape, escaped_shortened
from bridge.core.desk import ChoiceOutlet, ClosedPlaceNotices
from bridge.core.inbound import InboundResult, lock_conversation
from bridge.core.texts import CustomerTexts, normalize_language, text
from bridge.events import Choice
from storage.conversations import find_open_conversation, last_closed_conversation
from storage.customers import find_customer
from storage.helpdesk import store_rating, store_rating_comment
from storage.messages import find_message, store_inbound_message
from storage.models import Conversation, ConversationState
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import CustomerOutlet, Desk, Outlets
    from bridge.events import Inbound
    from storage.models import Customer

log = logging.getLogger(__name__)

#: The verb of a rating press: "rate:<conversation id>:<stars>".
RATE = "rate"
STARS = range(1, 6)
_ACTION = re.compile(r"^rate:(\d{1,18}):([1-5])$")
#: How long after a close a bare number is a rating, and after a rating a text its comment.
COMMENT_WINDOW = timedelta(minutes=10)
#: The longest comment kept (a longer text is cut; the whole text stays a message).
MAX_COMMENT = 4000


def rating_action(conversation_id: int, stars: int) -> str:
    """The action a rating button reports back."""
    return f"{RATE}:{conversation_id}:{stars}"


def parse_rating_action(action: str | None) -> tuple[int, int] | None:
    """(conversation id, stars) of a rating press; None for anything else."""
    match = _ACTION.match(action or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def stars_shown(stars: int) -> str:
    """★★★★☆ 4/5"""
    return "★" * stars + "☆" * (5 - stars) + f" {stars}/5"


def rating_choices(
    conversation_id: int, texts: CustomerTexts, language: str
) -> tuple[Choice, ...]:
    """The five buttons of a rating request: one to five stars ("Rate 4 of 5" to a screen
    reader), each pressed as its action."""
    return tuple(
        Choice("★" * n, rating_action(conversation_id, n), texts(language, "rating_star", stars=n))
        for n in STARS
    )


async def ask_rating(
    session: AsyncSession,
    conversation: Conversation,
    customer: Customer,
    outlet: CustomerOutlet,
    *,
    texts: CustomerTexts,
    language: str,
) -> None:
    """Queue the rating request: the platform's controls, or a text asking for a number."""
    assert conversation.id is not None
    question = texts(language, "rating_ask")
    if isinstance(outlet, ChoiceOutlet):
        await outlet.enqueue_choices(
            session,
            conversation,
            customer,
            question,
            rating_choices(conversation.id, texts, language),
        )
        return
    hint = texts(language, "rating_reply_hint")
    await outlet.enqueue_text(session, conversation, customer, f"{question}\n{hint}")


class Ratings:
    """The inbound side of ratings (one per runtime): presses, numbers and comments.

    `outlets` thank the customer, `desk` shows the rating in the conversation's place (in the
    operators' `language`); `texts` are the customer texts with the admin's overrides; `ask`
    says whether ratings are asked for (`close.rating`): only then is a bare number a rating.
    """

    def __init__(
        self,
        outlets: Outlets,
        desk: Desk,
        texts: CustomerTexts,
        *,
        language: str,
        ask: bool,
        window: timedelta = COMMENT_WINDOW,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.outlets = outlets
        self.desk = desk
        self.texts = texts
        self.language = normalize_language(language)
        self.ask = ask
        self.window = window
        self.clock = clock

    async def take(self, session: AsyncSession, event: Inbound) -> InboundResult | None:
        """What became of `event` when it belongs to a rating; None: an ordinary message."""
        if event.edit_of is not None:
            return None
        if event.action is not None:
            press = parse_rating_action(event.action)
            if press is None:
                return None  # not ours: the platform's text of it goes on as a message
            return await self._press(session, event, *press)
        if event.attachments or not event.text.strip():
            return None
        customer = await find_customer(session, event.channel, event.user)
        if customer is None or customer.id is None or customer.blocked:
            return None
        if await find_open_conversation(session, customer.id) is not None:
            return None
        last = await last_closed_conversation(session, customer.id)
        if last is None or last.id is None:
            return None
        now = self.clock()
        said = event.text.strip()
        if last.rating is None:
            recent = last.closed_at is not None and now - last.closed_at <= self.window
            if self.ask and recent and said.isdigit() and int(said) in STARS:
                return await self._rate(session, customer, last.id, int(said), event)
            return None
        if last.rating_comment is None and last.rated_at and now - last.rated_at <= self.window:
            return await self._comment(session, customer, last.id, event)
        return None

    async def _press(
        self, session: AsyncSession, event: Inbound, conversation_id: int, stars: int
    ) -> InboundResult:
        customer = await find_customer(session, event.channel, event.user)
        if customer is None:
            log.debug("rating press from unknown %s:%s ignored", event.channel, event.user)
            return InboundResult("rating")
        return await self._rate(session, customer, conversation_id, stars, event)

    async def _rate(
        self,
        session: AsyncSession,
        customer: Customer,
        conversation_id: int,
        stars: int,
        event: Inbound,
    ) -> InboundResult:
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
        if conversation is None or conversation.customer_id != customer.id:
            log.warning(
                "rating of conversation %s by %s:%s refused: not their conversation",
                conversation_id,
                event.channel,
                event.user,
            )
            return InboundResult("rating")
        if conversation.state != ConversationState.CLOSED:
            log.debug("rating of open conversation %s ignored", conversation_id)
            return InboundResult("rating", conversation_id)
        conversation = await lock_conversation(session, conversation_id)
        if not await store_rating(session, conversation_id, stars, now=self.clock()):
            log.debug("conversation %s is rated already; press ignored", conversation_id)
            return InboundResult("rating", conversation_id)
        shown = stars_shown(stars)
        language = customer.language or self.language
        await self._tell_customer(
            session, conversation, customer, self.texts(language, "rating_thanks", stars=shown)
        )
        html = text(self.language, "place.rated", number=conversation_id, stars=escape(shown))
        await self._show(session, conversation, html)
        return InboundResult("rating", conversation_id)

    async def _comment(
        self, session: AsyncSession, customer: Customer, conversation_id: int, event: Inbound
    ) -> InboundResult:
        if await find_message(session, event.channel, event.external_id) is not None:
            return InboundResult("duplicate")
        conversation = await lock_conversation(session, conversation_id)
        comment = event.text.strip()
        if not await store_rating_comment(session, conversation_id, comment[:MAX_COMMENT]):
            return InboundResult("rating", conversation_id)
        message = await store_inbound_message(
            session,
            conversation,
            channel=event.channel,
            external_id=event.external_id,
            author=customer.name,
            text=comment,
            created_at=event.sent_at,
            counted=False,  # a closed conversation has nothing to answer
        )
        language = customer.language or self.language
        await self._tell_customer(
            session, conversation, customer, self.texts(language, "rating_comment_thanks")
        )
        html = text(
            self.language,
            "place.rating_comment",
            number=conversation_id,
            comment=escaped_shortened(comment, 3500),
        )
        await self._show(session, conversation, html)
        return InboundResult(
            "rating", conversation_id, message.id if message is not None else None
        )

    async def _show(self, session: AsyncSession, conversation: Conversation, html: str) -> None:
        """The notice in the (closed) conversation's place."""
        if isinstance(self.desk, ClosedPlaceNotices):
            await self.desk.notice_closed(session, conversation, html)
        else:
            await self.desk.notice(session, conversation, html)

    async def _tell_customer(
        self, session: AsyncSession, conversation: Conversation, customer: Customer, said: str
    ) -> None:
        try:
            outlet = self.outlets.for_channel(customer.channel)
        except LookupError:
            log.warning("no outlet for %s: the rating's thanks is not sent", customer.channel)
            return
        await outlet.enqueue_text(session, conversation, customer, said)
