"""An operator who no longer has a conversation cannot reach its customer by editing an old
reply: an edit is followed only while its editor is the claimer of the open conversation."""

from __future__ import annotations

import asyncio

from tests.desk.desk_harness import accepted, eventually, running_desk
from tests.security.abuse import LEDGER


async def test_an_edit_after_release_does_not_reach_the_customer(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        reply = fake.user_says(
            desk.ann, "Your refund is on its way", chat_id=desk.group_id, topic=topic
        )
        await eventually(lambda: any("refund" in (m.text or "") for m in desk.customer_sees()))
        # While Ann has the conversation, her edit follows (Telegram edits the customer's copy).
        fake.user_edits(desk.ann, desk.group_id, reply["message_id"], "Your refund is sent")
        await eventually(
            lambda: any("refund is sent" in (m.text or "") for m in desk.customer_sees())
        )
        fake.user_says(desk.ann, "/release", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: len([m for m in fake.chat_view(desk.group_id) if m.kind == "photo"]) == 2
        )
        fake.user_edits(desk.ann, desk.group_id, reply["message_id"], "Send me your card number")
        await asyncio.sleep(1.0)
        seen = "\n".join(m.text or "" for m in desk.customer_sees())
        LEDGER.attack("edits by a former claimer").count(200, succeeded="card number" in seen)
        assert "card number" not in seen
        assert "refund is sent" in seen
