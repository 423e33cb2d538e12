"""A crowd of visitors writing at once is asked about together (adapters/site/open_visitors.py
`OpenChecks`): whether each has an open conversation costs one query per turn, not a session
each, and every visitor still gets their own answer."""

from __future__ import annotations

import asyncio

import pytest

from adapters.site.open_visitors import OpenChecks, OpenVisitors
from tests.adapters.site.harness import WIDGET
from tests.adapters.site.test_new_conversation_cap import CAP, conversations, frozen_cap
from tests.adapters.site.test_widget_api import new_token, say


async def test_checks_waiting_together_are_one_lookup_and_each_gets_its_answer() -> None:
    asked: list[list[str]] = []

    async def lookup(visitors: list[str]) -> set[str]:
        asked.append(sorted(visitors))
        await asyncio.sleep(0.01)
        return {v for v in visitors if v.startswith("open")}

    checks = OpenChecks(lookup)
    first = [f"open-{n}" for n in range(10)] + [f"new-{n}" for n in range(10)]
    wave = asyncio.gather(*(checks.has_open(v) for v in [*first, "open-3"]))
    await asyncio.sleep(0.005)  # the first lookup is under way: the next callers wait for it
    later = [f"open-{n}" for n in range(10, 20)] + [f"new-{n}" for n in range(10, 20)]
    answers = await asyncio.gather(*(checks.has_open(v) for v in later))
    assert answers == [True] * 10 + [False] * 10
    assert await wave == [True] * 10 + [False] * 10 + [True]
    assert asked == [sorted(first), sorted(later)]  # "open-3", asked twice, is looked up once
    assert checks.lookups == 2


async def test_a_failed_lookup_fails_its_callers_and_the_next_checks_ask_again() -> None:
    calls = 0

    async def lookup(visitors: list[str]) -> set[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("the database went away")
        return set(visitors)

    checks = OpenChecks(lookup)
    with pytest.raises(ConnectionError):
        await checks.has_open("a")
    assert await checks.has_open("a") is True
    assert calls == 2


async def test_a_crowd_of_returning_visitors_is_checked_in_a_few_queries(client, bridge) -> None:
    frozen_cap(bridge)  # the cap's clock stands still: only a visitor already talking gets in
    (adapter,) = (a for a in bridge.site.adapters if a.widget_id == WIDGET)
    tokens = [await new_token(client) for _ in range(CAP)]
    for number, token in enumerate(tokens):
        assert (await say(client, token, f"hello {number}", f"first-{number:04d}")).status == 200
    adapter.open_visitors = OpenVisitors()  # a while later: nobody is remembered any more
    before = adapter.open_checks.lookups

    answers = await asyncio.gather(
        *(
            say(client, token, f"back {number}.{k}", f"back-{number:04d}-{k}")
            for number, token in enumerate(tokens)
            for k in range(4)
        )
    )
    assert [answer.status for answer in answers] == [200] * 4 * CAP
    assert await conversations(bridge) == CAP  # each went into its open conversation
    assert adapter.open_checks.lookups - before < CAP  # not one per visitor, let alone message
    # A visitor without an open conversation is still asked about, and held by the cap.
    stranger = await new_token(client)
    assert (await say(client, stranger, "hi", "stranger-0001")).status == 429
