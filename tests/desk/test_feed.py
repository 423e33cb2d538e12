"""The storm digest, end to end: the real service with a `FeedDesk` against the fake Telegram."""

from __future__ import annotations

import re

from desk_harness import eventually, running_desk

from botapi.updates import UpdatesIntake
from desk.feed import (
    DIGEST_AFTER,
    DIGEST_LIMIT,
    Digest,
    FeedDesk,
    render_digest,
)


def use_feed_desk(desk) -> None:
    """The running service's desk is a FeedDesk (the wiring makes one, its handlers bound)."""
    runtime = next(c for c in desk.service.components if isinstance(c, UpdatesIntake)).runtime
    assert isinstance(runtime.desk, FeedDesk)


def digests(desk) -> list:
    return [
        m
        for m in desk.fake.chat_view(desk.group_id)
        if m.kind == "text" and (m.text or "").startswith("📥")
    ]


def shown_everywhere(desk) -> str:
    return " ".join((m.text or "") + (m.caption or "") for m in desk.fake.chat_view(desk.group_id))


async def test_a_storm_of_inquiries_is_shown_in_digests_with_one_accept_each(sqlite_url) -> None:
    async with running_desk(sqlite_url, time_scale=4.0) as desk:
        use_feed_desk(desk)
        customers = [desk.fake.add_user(f"Storm{i}", "Customer") for i in range(14)]
        for i, customer in enumerate(customers):
            desk.fake.user_says(customer, f"help me T{i}T")

        def all_visible() -> bool:
            seen = set(re.findall(r"T(\d+)T", shown_everywhere(desk)))
            return len(seen) == len(customers)

        await eventually(all_visible, wait=30, what="every inquiry visible in the feed")
        cards = [m for m in desk.fake.chat_view(desk.group_id) if m.kind == "photo"]
        shown = digests(desk)
        assert shown, "a storm must produce a digest"
        assert len(cards) + len(shown) < len(customers)  # fewer posts than a card each
        assert len(cards) <= DIGEST_AFTER  # queued cards were withdrawn into the digest
        for digest in shown:
            buttons = digest.callback_data
            assert 1 <= len(buttons) <= DIGEST_LIMIT
            assert len(set(buttons)) == len(buttons)
            assert all(data.startswith("acc:") for data in buttons)
        accepts = [data for message in [*cards, *shown] for data in message.callback_data]
        assert len(accepts) == len(set(accepts)) == len(customers)  # one Accept per inquiry

        # An operator accepts from the digest: that line drops its button by an edit.
        first = shown[0]
        data = first.callback_data[0]
        number = int(data.split(":")[1])
        query = desk.fake.press(desk.ann, desk.group_id, first.message_id, data)
        await eventually(lambda: desk.fake.callback_answer(query), what="the accept is answered")

        def dropped_out() -> bool:
            now = next(m for m in digests(desk) if m.message_id == first.message_id)
            return data not in now.callback_data and "accepted by" in (now.text or "")

        await eventually(dropped_out, wait=15, what="the accepted inquiry drops out")
        await eventually(
            lambda: any(
                f"#{number}" in (m.text or "") for m in desk.fake.chat_view(desk.group_id)
            ),
            what="the accepted conversation goes on as usual",
        )
        assert desk.fake.too_many_requests.total == 0


def test_a_digest_renders_from_its_state_with_one_button_per_waiting_inquiry() -> None:
    digest = Digest(
        n=1,
        ids=[4, 5],
        lines={
            "4": "#4 <b>Ann</b> · Telegram\nhi",
            "5": "#5 <b>Bob</b> · VK — ✅ accepted by Eve",
        },
        labels={"4": "Accept #4 Ann"},
    )
    html, keyboard, waiting = render_digest(digest, "en")
    assert waiting == 1
    assert html.startswith("📥") and "#4 <b>Ann</b>" in html and "accepted by Eve" in html
    assert keyboard == {"inline_keyboard": [[{"text": "Accept #4 Ann", "callback_data": "acc:4"}]]}
    assert render_digest(Digest(n=2), "ru")[2] == 0
