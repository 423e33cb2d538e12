"""Messenger's webhook: a poison body is kept as a dead letter and answered 200 (Meta stops
redelivering it), a database outage is answered 503 (Meta delivers it again), and a replay
after the fix stores the kept body. Deliveries come from the fake Page over real HTTP."""

from __future__ import annotations

import json

import pytest

from adapters.facebook.adapter import FacebookAdapter
from bridge.runtime import Runtime
from sandbox.facebook.fake import FakeFacebook
from tests.adapters.faulty_sink import FaultySink, dead_letters, runtime, sink

pytestmark = pytest.mark.timeout(60)
__all__ = ["runtime", "sink"]  # fixtures of tests/adapters/faulty_sink.py


@pytest.fixture
def kept(fb: tuple[FacebookAdapter, str], runtime: Runtime) -> FacebookAdapter:
    adapter = fb[0]
    adapter.webhook.use_dead_letters(runtime.dead_letters, adapter.channel)
    return adapter


async def test_a_poison_body_is_kept_answered_200_and_replayed_after_the_fix(
    fake_fb: FakeFacebook, sink: FaultySink, kept: FacebookAdapter, runtime: Runtime
) -> None:
    psid = fake_fb.add_user(first_name="Anna", last_name="Schmidt")
    delivery = await fake_fb.customer_message(psid, "a poison message")
    assert delivery.succeeded and [a.status for a in delivery.attempts] == [200]
    [letter] = await dead_letters(runtime)
    mid = delivery.payload["entry"][0]["messaging"][0]["message"]["mid"]
    assert (letter.source, letter.key) == ("facebook", mid)
    assert json.loads(letter.payload) == delivery.payload
    assert letter.error.startswith("ValueError: a handler cannot take this payload")
    assert sink.inbound_events == []

    sink.poison = ""  # the bug is fixed
    await runtime.dead_letters.replayers["facebook"](letter.payload)
    assert [e.text for e in sink.inbound_events] == ["a poison message"]


async def test_a_database_outage_is_answered_503_and_nothing_is_kept(
    fake_fb: FakeFacebook, sink: FaultySink, kept: FacebookAdapter, runtime: Runtime
) -> None:
    psid = fake_fb.add_user(first_name="Anna", last_name="Schmidt")
    sink.database_down = True
    delivery = await fake_fb.customer_message(psid, "while the database is down")
    assert not delivery.succeeded
    assert {a.status for a in delivery.attempts} == {503}
    assert await dead_letters(runtime) == []
