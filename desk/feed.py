"""The storm digest: many waiting inquiries in one Incoming-feed message, one Accept each.

A card costs one post of the group's budget (about 20 a minute). When inquiries arrive faster
than that, cards queue up and the last inquiry of a storm of 60 would appear minutes later.
So once `DIGEST_AFTER` cards are already waiting for the budget, a new inquiry does not get a
card of its own: it joins a digest — one text message in the feed listing up to
`DIGEST_LIMIT` inquiries (name, source, #number, first words) with one Accept button each. A
digest shows a whole burst for one or two posts; as it fills, newer states replace queued
edits (only the newest is ever sent). An inquiry that is accepted (or closed) drops out by an
edit: its line says who took it and its button disappears.

State: per group, the next digest number and one row per digest still shown (`FeedState` and
`Digest` in storage/feed.py, tables `feed_states` and `feed_digests`), locked while changed.
A digest is posted once (`posting` guards against a second post while the first is queued);
its completion handler records the message id and sends one edit if entries joined meanwhile.
Lanes: `tg:<chat>:digest:<n>`, so a digest's post and its edits go in order.

`FeedDesk` is the `TelegramDesk` that does this: `post_card` tries the digest first, and
`update_card` of a conversation shown in a digest refreshes the digest instead of a card.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from botapi import calls
from bridge import outbox
from bridge.core.cards import MESSAGE_LIMIT, escape, escaped_shortened, shorten, tg_length
from bridge.core.texts import normalize_language
from desk.callbacks import AcceptCallback, packed
from desk.telegram_desk import TelegramDesk
from storage.conversations import get_conversation
from storage.feed import (
    Digest,
    FeedState,
    inquiries_without_card,
    lock_feed,
    save_feed,
    withdraw_queued_cards,
)
from storage.models import ConversationState, Customer

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.outbox import HandlerRegistry
    from config import GroupConfig
    from storage.models import Conversation, OutboxItem

log = logging.getLogger(__name__)

#: Cards already waiting for the budget before new inquiries go into a digest instead.
DIGEST_AFTER = 3
#: Inquiries (and Accept buttons) in one digest message.
DIGEST_LIMIT = 20
#: Characters of an inquiry's first message shown in the digest.
PREVIEW = 120
#: Room for one inquiry's line, so that a full digest fits one message.
PER_ENTRY = (MESSAGE_LIMIT - 200) // DIGEST_LIMIT
HANDLER = "feed.digest_posted"
#: Digests go before queued cards: one digest post shows what many cards would.
PRIORITY_DIGEST = outbox.PRIORITY_INQUIRY - 1

_WORDS = {
    "en": {
        "title": "📥 <b>New inquiries</b> (many at once: one message for all)",
        "accepted": "✅ accepted by {operator}",
        "closed": "☑️ closed",
        "accept": "Accept #{number} {name}",
    },
    "ru": {
        "title": "📥 <b>Новые обращения</b> (много сразу: одно сообщение на всех)",
        "accepted": "✅ принял(а): {operator}",
        "closed": "☑️ закрыто",
        "accept": "Принять #{number} {name}",
    },
}


def _words(language: str | None) -> dict[str, str]:
    return _WORDS[normalize_language(language)]


class FeedDesk(TelegramDesk):
    """A `TelegramDesk` whose Incoming feed gathers a storm of inquiries into digests."""

    async def post_card(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        if not await gather_into_digest(session, self, conversation):
            await super().post_card(session, conversation, customer)

    async def update_card(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        if conversation.card_message_id is None and conversation.state == ConversationState.NEW:
            # Nothing to show yet: a queued card is rendered afresh when it is sent
            # (completions.py), and a digest shows an inquiry's first words only.
            return
        if conversation.card_message_id is None and conversation.id is not None:
            state = await lock_feed(session, conversation.group)
            digest = state.holding(conversation.id)
            if digest is not None:
                # A digest shows an inquiry's first words only: more messages change nothing
                # there (they reach the topic on accept). An accept or a close drops it out.
                if conversation.state != ConversationState.NEW:
                    await refresh_digests(
                        session,
                        self,
                        conversation.group,
                        state,
                        only=digest,
                        changed=(conversation.id,),
                    )
                return
        await super().update_card(session, conversation, customer)


async def gather_into_digest(
    session: AsyncSession, desk: TelegramDesk, conversation: Conversation
) -> bool:
    """Put a new inquiry into a digest when cards are already waiting; False: post a card."""
    if conversation.id is None:
        return False
    group = desk.group(conversation)
    state = await lock_feed(session, group.name)
    in_digests = state.all_ids()
    waiting = await inquiries_without_card(session, group.name, DIGEST_AFTER + len(in_digests) + 1)
    cards_waiting = [i for i in waiting if i != conversation.id and i not in in_digests]
    digest = state.digests[-1] if state.digests else None
    # A storm starts when cards wait for the budget, and lasts as long as someone in the
    # newest digest still waits: no flip-flopping between cards and digests.
    storm_on = digest is not None and any(i in waiting for i in digest.ids)
    if len(cards_waiting) < DIGEST_AFTER and not storm_on:
        return False
    joining = [conversation.id]
    if not storm_on:  # a new storm: a new digest, and the cards still queued join it first
        state.digests = [d for d in state.digests if d.message_id is None or d.posting]
        digest = None
        joining = [*await withdraw_queued_cards(session, cards_waiting), conversation.id]
    for conversation_id in joining:
        if digest is None or len(digest.ids) >= DIGEST_LIMIT:
            if digest is not None:
                await _show(session, desk, group, digest)
            digest = Digest(n=state.next)
            state.next += 1
            state.digests.append(digest)
        digest.ids.append(conversation_id)
        await _set_entry(session, desk, digest, conversation_id)
    assert digest is not None  # `joining` holds at least this conversation
    await _show(session, desk, group, digest)
    await save_feed(session, group.name, state)
    return True


async def refresh_digests(
    session: AsyncSession,
    desk: TelegramDesk,
    group_name: str,
    state: FeedState | None = None,
    *,
    only: Digest | None = None,
    changed: tuple[int, ...] = (),
) -> None:
    """Re-render the group's digests (or, with `only`, the `changed` entries of one) after an
    accept or a close; a digest with nobody left waiting gets its last edit and is forgotten."""
    if state is None:
        state = await lock_feed(session, group_name)
    group = desk.config.groups[group_name]
    keep: list[Digest] = []
    for digest in state.digests:
        if only is not None and digest is not only:
            keep.append(digest)
            continue
        for conversation_id in digest.ids if only is None else changed:
            await _set_entry(session, desk, digest, conversation_id)
        # An operator's action (accepted, closed) shows before the storm's new inquiries.
        urgent = outbox.PRIORITY_CARD_CHANGE if changed else PRIORITY_DIGEST
        waiting = await _show(session, desk, group, digest, priority=urgent)
        if waiting or digest.message_id is None:
            keep.append(digest)
    state.digests = keep
    await save_feed(session, group_name, state)


async def _set_entry(
    session: AsyncSession, desk: TelegramDesk, digest: Digest, conversation_id: int
) -> None:
    """(Re)compute one inquiry's line and, while it waits, its Accept label."""
    key = str(conversation_id)
    digest.labels.pop(key, None)
    conversation = await get_conversation(session, conversation_id)
    customer = (
        await session.get(Customer, conversation.customer_id) if conversation is not None else None
    )
    if conversation is None or customer is None:
        digest.lines[key] = f"#{conversation_id}"
        return
    words = _words(desk.language)
    name = desk.customer_name(customer)
    head = (
        f"#{conversation_id} <b>{escaped_shortened(name, 64)}</b> · "
        f"{escape(desk.source_name(customer.channel))}"
    )
    if conversation.state == ConversationState.NEW:
        view = await desk.card_view(session, conversation, customer)
        first = view.messages[0] if view.messages else ""
        room = min(PREVIEW, PER_ENTRY - tg_length(head) - 2)
        digest.lines[key] = f"{head}\n{escaped_shortened(first, max(16, room))}"
        digest.labels[key] = words["accept"].format(number=conversation_id, name=shorten(name, 32))
    elif conversation.state == ConversationState.ACCEPTED:
        operator = escaped_shortened(conversation.operator_name or "?", 64)
        digest.lines[key] = f"{head} — {words['accepted'].format(operator=operator)}"
    else:
        digest.lines[key] = f"{head} — {words['closed']}"


def render_digest(digest: Digest, language: str | None) -> tuple[str, dict[str, Any], int]:
    """The digest's HTML, its keyboard (one Accept per waiting inquiry), and how many wait."""
    lines = [_words(language)["title"]]
    buttons: list[list[tuple[str, str]]] = []
    for conversation_id in digest.ids:
        key = str(conversation_id)
        lines.append(digest.lines.get(key, f"#{conversation_id}"))
        if key in digest.labels:
            buttons.append(
                [(digest.labels[key], packed(AcceptCallback(conversation=conversation_id)))]
            )
    return "\n\n".join(lines), calls.inline_keyboard(buttons), len(buttons)


async def _show(
    session: AsyncSession,
    desk: TelegramDesk,
    group: GroupConfig,
    digest: Digest,
    *,
    priority: int = PRIORITY_DIGEST,
) -> int:
    """Enqueue the digest's post (once) or an edit to its current state; returns # waiting."""
    digest.version += 1
    html, keyboard, waiting = render_digest(digest, desk.language)
    lane = f"tg:{group.chat_id}:digest:{digest.n}"
    if digest.message_id is None:
        if digest.posting:
            return waiting  # its completion handler edits in whatever joined meanwhile
        digest.posting = True
        payload = calls.send_text(
            group.chat_id, html, thread_id=group.incoming_topic, reply_markup=keyboard
        )
        payload["ctx"] = {"group": group.name, "n": digest.n, "version": digest.version}
        await outbox.enqueue(
            session,
            platform="telegram",
            destination=str(group.chat_id),
            lane=lane,
            kind="digest",
            payload=payload,
            priority=PRIORITY_DIGEST,
            handler=HANDLER,
        )
        return waiting
    payload = calls.edit_text(group.chat_id, digest.message_id, html)
    payload["params"]["reply_markup"] = keyboard
    await outbox.enqueue(
        session,
        platform="telegram",
        destination=str(group.chat_id),
        lane=lane,
        kind=outbox.KIND_EDIT,
        payload=payload,
        priority=priority,
        coalesce_key=f"digest:{group.name}:{digest.n}",
    )
    return waiting


async def digest_posted(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, result: dict[str, Any]
) -> None:
    """Record the digest's message id; edit in the inquiries that joined while it was queued."""
    ctx = item.payload.get("ctx") or {}
    message_id = result.get("message_id")
    group_name = ctx.get("group")
    if message_id is None or group_name is None:
        return
    state = await lock_feed(session, group_name)
    digest = next((d for d in state.digests if d.n == ctx.get("n")), None)
    if digest is None:
        return
    digest.message_id = int(message_id)
    digest.posting = False
    if digest.version != ctx.get("version"):  # inquiries joined or left while it was queued
        await _show(session, desk, desk.config.groups[group_name], digest)
    await save_feed(session, group_name, state)


async def digest_failed(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, error: Exception
) -> None:
    """A digest could not be posted (e.g. the feed topic is gone): post it again once."""
    ctx = item.payload.get("ctx") or {}
    group_name = ctx.get("group")
    if group_name is None:
        return
    log.error("storm digest %s of group %s failed: %s", ctx.get("n"), group_name, error)
    state = await lock_feed(session, group_name)
    digest = next((d for d in state.digests if d.n == ctx.get("n")), None)
    if digest is None:
        return
    if ctx.get("retry"):
        state.digests.remove(digest)  # shown nowhere now: the dashboard still counts them
    else:
        digest.posting = False
        group = desk.config.groups[group_name]
        html, keyboard, _ = render_digest(digest, desk.language)
        payload = calls.send_text(group.chat_id, html, reply_markup=keyboard)  # General topic
        payload["ctx"] = {**ctx, "version": digest.version, "retry": True}
        digest.posting = True
        await outbox.enqueue(
            session,
            platform="telegram",
            destination=str(group.chat_id),
            lane=f"tg:{group.chat_id}:digest:{digest.n}",
            kind="digest",
            payload=payload,
            priority=PRIORITY_DIGEST,
            handler=HANDLER,
        )
    await save_feed(session, group_name, state)


def register_feed(registry: HandlerRegistry, desk: TelegramDesk) -> None:
    """Register the digest's completion and failure handlers, bound to `desk`."""
    registry.register(
        HANDLER, done=partial(digest_posted, desk), failed=partial(digest_failed, desk)
    )
