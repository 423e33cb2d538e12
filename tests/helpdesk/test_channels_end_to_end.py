"""Issue 15 on every channel, end to end: the offline answer, a reminder, an auto-close with
its rating request, and the rating stored.

The real service against the fakes (tests/adapters/contract/harness.py), one customer per
platform. Time is injected, never waited for: the intake judges working hours by the sink's
clock (a Saturday night, the group works mon-fri 09:00-18:00 UTC), and the jobs are ticked
with `now` (Monday after the opening for the reminder, a day after the last message for the
auto-close).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.adapters.contract.harness import CUSTOMERS, SiteCustomer, running_bridge
from tests.helpdesk_front.helpers import set_clock
from tests.ratings.test_ratings_end_to_end import choices_of, conversations, got, rated, until

SATURDAY_NIGHT = datetime(2027, 1, 16, 22, 0, tzinfo=UTC)
MONDAY_OPENING = datetime(2027, 1, 18, 9, 0, tzinfo=UTC)
HELPDESK = {
    "groups": {
        "support": {
            "hours": {"timezone": "UTC", "week": {"mon-fri": "09:00-18:00"}},
            "sla": {"accept_within": "5m"},
            "auto_close_after": "24h",
        }
    },
    "close": {"goodbye": True, "rating": True},
}
OFFLINE = "We are closed now; we will answer when we open at Mon 18 Jan, 09:00 (UTC)"
INACTIVE = "The conversation was closed because it was quiet for a while"
ASK = "How did we do? Please rate our help from 1 to 5."


def feed_texts(bridge) -> list[str]:
    return [m.text or "" for m in bridge.telegram.chat_view(bridge.group_id)]


@pytest.mark.parametrize("platform", list(CUSTOMERS))
async def test_offline_answer_reminder_auto_close_and_rating(db_url: str, platform: str) -> None:
    async with running_bridge(db_url, changes=HELPDESK) as bridge:
        helpdesk = bridge.service.helpdesk
        assert helpdesk is not None
        await helpdesk.stop()  # only the test's clock ticks the jobs
        set_clock(bridge.service, SATURDAY_NIGHT)
        customer = CUSTOMERS[platform](bridge)
        if isinstance(customer, SiteCustomer):
            await customer.pushed()  # the widget is open: service texts are pushed live

        # Outside working hours: the offline answer at once, the card still in the feed, marked.
        await customer.says("Where is my parcel?")
        await got(customer, OFFLINE)
        card = await until(_async(lambda: bridge.cards() or None), "the card")
        assert "Received outside working hours" in (card[-1].caption or "")
        [row] = await conversations(bridge)
        assert row.outside_hours and row.sla_from == MONDAY_OPENING

        # No reminder while closed; five minutes after Monday's opening, one in the feed.
        await helpdesk.tick(now=MONDAY_OPENING - timedelta(minutes=1))
        await helpdesk.tick(now=MONDAY_OPENING + timedelta(minutes=5, seconds=1))
        reminder = await until(
            _async(lambda: [t for t in feed_texts(bridge) if "has waited 5 min for Accept" in t]),
            "the accept reminder in the feed",
        )
        assert len(reminder) == 1 and f"#{row.id}" in reminder[0]
        await helpdesk.tick(now=MONDAY_OPENING + timedelta(minutes=5, seconds=30))  # same wait
        await until(_async(lambda: True), "a moment")
        assert len([t for t in feed_texts(bridge) if "has waited" in t]) == 1

        # Accepted and answered; a day of silence closes it, with goodbye and rating request.
        thread = await bridge.accept()
        await until(  # the history is in the topic: the bridge knows its place
            _async(lambda: any("Where is my parcel?" in t for t in bridge.topic_texts(thread))),
            "the history in the topic",
        )
        bridge.operator_says(thread, "It is on its way.")
        await got(customer, "It is on its way.")
        await helpdesk.tick(now=datetime.now(UTC) + timedelta(hours=2))  # not yet
        assert (await conversations(bridge))[0].state == "accepted"
        await helpdesk.tick(now=datetime.now(UTC) + timedelta(hours=24, minutes=1))
        await got(customer, INACTIVE)
        await got(customer, ASK)
        assert await choices_of(customer) == ["★", "★★", "★★★", "★★★★", "★★★★★"]
        [closed] = await conversations(bridge)
        assert (closed.state, closed.close_reason) == ("closed", "inactivity")
        await until(
            _async(lambda: any("closed for inactivity" in t for t in bridge.topic_texts(thread))),
            "the notice in the place",
        )

        # The customer rates with their platform's own controls: stored once, in the place.
        await customer.rate(4)
        row = await rated(bridge)
        assert row.rating == 4
        await until(
            _async(lambda: any("★★★★☆ 4/5" in t for t in bridge.topic_texts(thread))),
            "the rating in the place",
        )


def _async(check):
    async def run():
        return check()

    return run
