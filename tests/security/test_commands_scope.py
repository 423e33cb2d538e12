"""Commands see and change only what the caller may: /my lists the group it is typed in,
/block needs the claimer, the transfer keyboard offers only operators of the group."""

from __future__ import annotations

from sqlmodel import select

from desk.callbacks import TransferCallback
from storage.db import create_engine, session_factory
from storage.models import Customer
from storage.operators import add_operator_groups, upsert_operator
from tests.desk.desk_harness import accepted, eventually, running_desk
from tests.security.abuse import LEDGER

ROW = LEDGER.attack("commands by non-claimers and non-members")


def _texts(fake, chat_id: int, topic: int | None = None) -> str:
    return "\n".join(m.text or "" for m in fake.chat_view(chat_id, topic=topic))


async def test_my_typed_in_one_group_lists_nothing_of_anothers(sqlite_url) -> None:
    async with running_desk(sqlite_url, other_groups=("sales",)) as desk:
        fake, sales = desk.fake, desk.other_groups["sales"]
        topic = await accepted(desk, desk.bob)  # Bob, an operator of both groups, has #1
        fake.user_says(desk.bob, "/my", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: "#1" in _texts(fake, desk.group_id, topic))
        fake.user_says(desk.bob, "/my", chat_id=sales)
        await eventually(lambda: "You have no open conversations." in _texts(fake, sales))
        ROW.count(200, succeeded="#1" in _texts(fake, sales))
        assert "#1" not in _texts(fake, sales)


async def test_block_by_someone_other_than_the_claimer_is_refused(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.bob, "/block", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: "Only Ann Operator, who accepted" in _texts(fake, desk.group_id, topic)
        )
        engine = create_engine(sqlite_url)
        try:
            async with session_factory(engine)() as session:
                customer = (await session.exec(select(Customer))).one()
        finally:
            await engine.dispose()
        ROW.count(200, succeeded=customer.blocked)
        assert customer.blocked is False


async def test_the_transfer_keyboard_offers_only_operators_of_the_conversations_group(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url, other_groups=("sales",)) as desk:
        fake, sales = desk.fake, desk.other_groups["sales"]
        sam = fake.add_user("Sam", "Sales", username="sam")  # an operator of "sales" only
        fake.join(sam, sales)
        # The bridge has seen Sam act in "sales" (as after his first press there).
        engine = create_engine(sqlite_url)
        try:
            async with session_factory(engine)() as session:
                await upsert_operator(session, sam.id, "Sam Sales")
                await add_operator_groups(session, sam.id, {"sales"})
                await session.commit()
        finally:
            await engine.dispose()
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.bob, "looking", chat_id=desk.group_id, topic=topic)  # Bob acts here
        fake.user_says(desk.ann, "/transfer", chat_id=desk.group_id, topic=topic)
        offer = await eventually(
            lambda: [m for m in desk.topic_messages(topic) if m.callback_data]
        )
        buttons = offer[0].callback_data
        assert TransferCallback(conversation=1, operator=desk.bob.id).pack() in buttons
        offered = TransferCallback(conversation=1, operator=sam.id).pack() in buttons
        ROW.count(200, succeeded=offered)
        assert not offered
