"""The batch intake's offline answer, at the core: one decision for the whole batch, one notice
per customer owed one (however many messages they sent), none to a blocked customer, none while
an operator answers in this closed spell; the single-event path agrees. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.core.claims import accept
from bridge.core.commands import set_blocked
from bridge.core.desk import Outlets
from bridge.core.inbound import handle_inbound
from bridge.core.inbound_batch import handle_inbound_batch
from bridge.core.offline import OfflineReplies
from bridge.events import CustomerProfile, Inbound
from config.helpdesk import HoursConfig
from storage.conversations import get_conversation
from tests.bridge.core.core_fakes import FakeDesk

#: Closed on Saturday; Monday 09:00 UTC opens.
HOURS = HoursConfig.model_validate({"timezone": "UTC", "week": {"mon-fri": "09:00-18:00"}})
SATURDAY = datetime(2027, 3, 6, 12, 0, tzinfo=UTC)


class Outlet:
    """Records the service texts, by customer."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    async def enqueue_reply(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def enqueue_text(
        self, session: Any, conversation: Any, customer: Any, text: str
    ) -> None:
        self.texts.append((customer.external_id, text))


class Group:
    hours = HOURS


class Texts:
    def override(self, key: str, language: str) -> str | None:
        return None


class Config:
    language = "en"
    groups = {"support": Group()}  # noqa: RUF012
    texts = Texts()


def said(user: str, key: str, body: str) -> Inbound:
    return Inbound(
        channel="telegram",
        chat=user,
        user=user,
        external_id=key,
        text=body,
        profile=CustomerProfile(first_name=user.title(), language="en"),
    )


async def test_one_notice_per_customer_per_batch_none_to_the_blocked_or_the_answered(
    sessions: Any,
) -> None:
    desk, outlet = FakeDesk(), Outlet()
    replies = OfflineReplies(Config(), lambda: Outlets({"telegram": outlet}))
    friday = replies.at("support", SATURDAY - timedelta(days=1))  # open
    assert friday.open
    async with sessions() as session, session.begin():
        for user in ("ann", "bob", "cid", "dan"):
            await handle_inbound(
                session, said(user, f"{user}-0", "hi"), group="support", desk=desk, hours=friday
            )
    assert outlet.texts == []
    async with sessions() as session, session.begin():
        cid = await get_conversation(session, 3)
        dan = await get_conversation(session, 4)
        assert cid is not None and dan is not None
        await set_blocked(session, cid, True, language="en")
        await accept(session, 4, 42, "Bob", desk=desk)
    saturday = replies.at("support", SATURDAY)
    assert saturday.closed and saturday.next_opening == datetime(2027, 3, 8, 9, tzinfo=UTC)
    async with sessions() as session, session.begin():
        dan = await get_conversation(session, 4)
        assert dan is not None
        dan.last_operator_reply_at = SATURDAY - timedelta(hours=1)  # Bob answered after closing
        session.add(dan)
    batch = [
        said("ann", "ann-1", "one"),
        said("ann", "ann-2", "two"),
        said("bob", "bob-1", "one"),
        said("cid", "cid-1", "spam"),
        said("dan", "dan-1", "thanks"),
        said("eve", "eve-1", "new here"),  # a new customer: the one-by-one path
    ]
    async with sessions() as session, session.begin():
        results = await handle_inbound_batch(
            session, batch, group="support", desk=desk, hours=saturday
        )
    assert [r.status for r in results] == ["posted"] * 3 + ["blocked"] + ["posted"] * 2
    notices = list(outlet.texts)
    assert sorted(customer for customer, _ in notices) == ["ann", "bob", "eve"]
    assert all("Mon 8 Mar, 09:00 (UTC)" in text for _, text in notices)
    # The same spell again: nothing more.
    async with sessions() as session, session.begin():
        await handle_inbound_batch(
            session, [said("ann", "ann-3", "three")], group="support", desk=desk, hours=saturday
        )
    assert len(outlet.texts) == 3
