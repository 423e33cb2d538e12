"""The fault suite: nothing is lost at the edges (issue 13, "Proof").

Each scenario (tests/faults/scenarios.py, also run by bench/faults.py) runs the real
`talker-bridge run` against the four fake platforms and a site widget, injects one fault in the
middle of a burst of customer messages and operator replies, and counts what the platforms
show: nothing may be lost, and duplicates are bounded by the calls in flight at the fault.
PostgreSQL scenarios use a cluster of the suite's own (`pg_restartable`), never the machine's
service, because some of them stop, restart or freeze it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.scenarios import SCENARIOS, Scenario

# A scenario waits past the outbox lease (60 s) before it calls a message lost; give it room
# beyond the suite's default per-test timeout (120 s), which catches hung tests.
pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(s, id=s.key, marks=[pytest.mark.postgres] if s.postgres else [])
        for s in SCENARIOS
    ],
)
async def test_a_fault_mid_burst_loses_nothing_and_doubles_at_most_the_calls_in_flight(
    scenario: Scenario, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cluster = request.getfixturevalue("pg_restartable") if scenario.postgres else None
    outcome = await scenario.run(tmp_path, cluster)
    assert outcome.problems() == [], (
        f"{outcome.row()}\ninjected: {outcome.injected}\n{outcome.logs[-4000:]}"
    )
    assert outcome.sent > 0
