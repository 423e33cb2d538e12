"""The core's side of an operator's edit and of a customer's reachability (fake desk/outlets)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from core_fakes import FakeDesk, FakeOutlet

from bridge.core.claims import accept
from bridge.core.desk import EditingOutlet, Outlets
from bridge.core.inbound import handle_inbound
from bridge.core.operator_edits import handle_operator_edit
from bridge.core.reachability import set_reachability
from bridge.core.replies import OperatorMessage, handle_operator_message
from bridge.events import CustomerProfile, Inbound
from storage.conversations import get_conversation
from storage.db import create_engine, session_factory
from storage.messages import conversation_messages
from storage.migrate import upgrade_async
from storage.models import Customer


class EditingFakeOutlet(FakeOutlet):
    """An outlet with the optional edit ability; `can_edit` says what it answers."""

    def __init__(self, can_edit: bool) -> None:
        super().__init__()
        self.can_edit = can_edit

    async def enqueue_edit(self, session, conversation, customer, message, *, html=None) -> bool:
        if self.can_edit:
            self.sent.append(("edit", message.text))
        return self.can_edit


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator:
    await upgrade_async(sqlite_url)
    engine = create_engine(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()


async def accepted_with_reply(sessions, outlet, language: str = "en") -> None:
    """Customer 501 (language `language`) writes on VK; Ann accepts and replies "Helo"."""
    desk = FakeDesk()
    profile = CustomerProfile(first_name="Ann", language=language)
    event = Inbound(
        channel="vk", chat="501", user="501", external_id="m1", text="hi", profile=profile
    )
    async with sessions() as session, session.begin():
        result = await handle_inbound(session, event, group="support", desk=desk)
        await accept(session, result.conversation_id, 7, "Ann", desk=desk)
    async with sessions() as session, session.begin():
        conversation = await get_conversation(session, result.conversation_id)
        for external, author, body in (("g:1", 7, "Helo"), ("g:2", 8, "draft")):
            await handle_operator_message(
                session,
                conversation,
                OperatorMessage(external, author, "Ann" if author == 7 else "Bob", body),
                desk=desk,
                outlet=outlet,
                language="en",
            )


async def edit(sessions, outlet, external_id: str, body: str) -> str:
    async with sessions() as session, session.begin():
        return await handle_operator_edit(
            session,
            OperatorMessage(external_id, 7, "Ann", body),
            outlets=Outlets({"vk": outlet}),
            language="en",
        )


async def test_an_outlet_without_edits_gets_a_correction_in_the_customers_language(
    sessions,
) -> None:
    outlet = FakeOutlet()
    assert not isinstance(outlet, EditingOutlet)
    await accepted_with_reply(sessions, outlet, language="ru")
    assert await edit(sessions, outlet, "g:1", "Hello") == "corrected"
    assert outlet.sent[-1] == ("text", "Исправление: Hello")
    async with sessions() as session:
        out = [m for m in await conversation_messages(session, 1) if m.direction == "out"]
    assert out[0].text == "Hello" and out[0].edited_at is not None


async def test_an_editing_outlet_edits_and_one_that_cannot_falls_back_to_a_correction(
    sessions,
) -> None:
    able = EditingFakeOutlet(can_edit=True)
    await accepted_with_reply(sessions, able)
    assert await edit(sessions, able, "g:1", "Hello") == "edited"
    assert able.sent[-1] == ("edit", "Hello")
    assert await edit(sessions, able, "g:1", "Hello") == "unchanged"
    unable = EditingFakeOutlet(can_edit=False)
    assert await edit(sessions, unable, "g:1", "Hello!") == "corrected"
    assert unable.sent == [("text", "Correction: Hello!")]


async def test_an_edited_note_or_unknown_message_sends_nothing(sessions) -> None:
    outlet = FakeOutlet()
    await accepted_with_reply(sessions, outlet)
    before = list(outlet.sent)
    assert await edit(sessions, outlet, "g:2", "final draft") == "note"
    assert await edit(sessions, outlet, "g:404", "whatever") == "unknown"
    assert outlet.sent == before
    async with sessions() as session:
        notes = [m.text for m in await conversation_messages(session, 1) if m.direction == "note"]
    assert notes == ["final draft"]


async def test_reachability_changes_are_told_once_and_unknown_customers_ignored(sessions) -> None:
    desk = FakeDesk()
    await accepted_with_reply(sessions, FakeOutlet())

    async def set_to(reachable: bool, user: str = "501") -> bool:
        async with sessions() as session, session.begin():
            return await set_reachability(
                session, "vk", user, reachable, reason="blocked", desk=desk, language="en"
            )

    assert await set_to(False) and not await set_to(False)
    assert not await set_to(False, user="999")
    async with sessions() as session:
        customer = await session.get(Customer, 1)
        assert (customer.reachable, customer.unreachable_reason) == (False, "blocked")
    assert await set_to(True)
    notices = [html for name, html in desk.calls if name == "notice"]
    assert notices == [
        "🚫 The customer can no longer be reached (blocked): replies won't arrive.",
        "✅ The customer can receive messages again.",
    ]


async def test_a_reply_to_an_unreachable_customer_is_kept_failed_and_sent_once_reachable(
    sessions,
) -> None:
    outlet, desk = FakeOutlet(), FakeDesk()
    await accepted_with_reply(sessions, outlet)
    sent_before = list(outlet.sent)

    async def reachable(value: bool) -> None:
        async with sessions() as session, session.begin():
            reason = None if value else "denied messages from the community"
            await set_reachability(
                session, "vk", "501", value, reason=reason, desk=desk, language="en"
            )

    async def ann_replies(external_id: str, body: str) -> str:
        async with sessions() as session, session.begin():
            conversation = await get_conversation(session, 1)
            return await handle_operator_message(
                session,
                conversation,
                OperatorMessage(external_id, 7, "Ann", body),
                desk=desk,
                outlet=outlet,
                language="en",
            )

    await reachable(False)
    assert await ann_replies("g:3", "Still there?") == "unreachable"
    assert outlet.sent == sent_before
    assert desk.calls[-1] == (
        "notice",
        "🚫 Not sent: the customer can no longer be reached (denied messages from the "
        "community). The reply is kept; replies go out again once the customer can receive "
        "messages.",
    )
    async with sessions() as session:
        kept = (await conversation_messages(session, 1))[-1]
    assert (kept.direction, kept.text, kept.delivery_state) == ("out", "Still there?", "failed")
    assert kept.delivery_error == (
        "not sent: the customer can no longer be reached (denied messages from the community)"
    )
    assert await ann_replies("g:3", "Still there?") == "duplicate"

    await reachable(True)
    assert await ann_replies("g:4", "Welcome back") == "relayed"
    assert outlet.sent == [*sent_before, ("reply", "Welcome back")]
