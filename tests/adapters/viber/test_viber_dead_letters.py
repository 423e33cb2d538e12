"""Viber's webhook: a poison event is kept as a dead letter and answered 200 (Viber stops
redelivering it), a database outage is answered 503 (Viber delivers it again), and a replay
after the fix stores the kept event. Deliveries come from the fake Viber over real HTTP."""

from __future__ import annotations

import json

import pytest

from adapters.viber.adapter import ViberAdapter
from bridge.runtime import Runtime
from sandbox.viber.fake import FakeViber
from tests.adapters.faulty_sink import FaultySink, dead_letters, runtime, sink

pytestmark = pytest.mark.timeout(60)
__all__ = ["runtime", "sink"]  # fixtures of tests/adapters/faulty_sink.py


@pytest.fixture
def kept(viber_webhook: tuple[ViberAdapter, str], runtime: Runtime) -> ViberAdapter:
    adapter = viber_webhook[0]
    adapter.callback.use_dead_letters(runtime.dead_letters, adapter.channel)
    return adapter


async def test_a_poison_event_is_kept_answered_200_and_replayed_after_the_fix(
    fake_viber: FakeViber, sink: FaultySink, kept: ViberAdapter, runtime: Runtime
) -> None:
    user = fake_viber.add_user(name="Olga")
    delivery = await fake_viber.customer_message(user, "a poison message")
    assert delivery.succeeded and [a.status for a in delivery.attempts] == [200]
    [letter] = await dead_letters(runtime)
    assert (letter.source, letter.key) == ("viber", str(delivery.payload["message_token"]))
    assert json.loads(letter.payload)["message"]["text"] == "a poison message"
    assert letter.error.startswith("ValueError: a handler cannot take this payload")
    assert sink.inbound_events == []
    ok = await fake_viber.customer_message(user, "the next message")
    assert ok.succeeded and [e.text for e in sink.inbound_events] == ["the next message"]

    sink.poison = ""  # the bug is fixed
    await runtime.dead_letters.replayers["viber"](letter.payload)
    assert [e.text for e in sink.inbound_events] == ["the next message", "a poison message"]


async def test_a_database_outage_is_answered_503_and_nothing_is_kept(
    fake_viber: FakeViber, sink: FaultySink, kept: ViberAdapter, runtime: Runtime
) -> None:
    user = fake_viber.add_user(name="Olga")
    sink.database_down = True
    delivery = await fake_viber.customer_message(user, "while the database is down")
    assert not delivery.succeeded
    assert {a.status for a in delivery.attempts} == {503}
    assert await dead_letters(runtime) == []
