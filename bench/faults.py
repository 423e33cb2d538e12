"""Fault-injection figures: what a burst loses and doubles when something breaks mid-way.

    python -m bench.faults [SCENARIO ...] [--json FILE] [--keep]

Runs the scenarios of the fault suite (tests/faults/scenarios.py: the very same code) one after
another, each against the real `talker-bridge run` and the four fake platforms plus a site
widget, and prints one row per scenario:

    scenario | mode | backend | sent | lost | duplicates | recovery s

`sent` counts customer messages and operator replies of the burst (or files in the file
scenario), `lost` those that never arrived, `duplicates` extra copies (the bound, the calls in
flight at the fault, is shown next to it), `recovery s` the seconds from the fault until the
last one arrived (for the start-together scenario: until both processes answered /healthz;
"—" when something never arrived). PostgreSQL scenarios run on a throwaway cluster that this
script starts (tests/support/pg_cluster.py), never on the machine's own service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.faults.scenarios import SCENARIOS, Outcome, Scenario
from tests.support.pg_cluster import PgCluster

COLUMNS = ("scenario", "mode", "backend", "sent", "lost", "duplicates", "recovery s")


async def run_all(scenarios: list[Scenario], keep: bool) -> list[Outcome]:
    cluster: PgCluster | None = None
    if any(s.postgres for s in scenarios):
        cluster = await asyncio.to_thread(PgCluster().start)
    outcomes = []
    try:
        for scenario in scenarios:
            folder = Path(tempfile.mkdtemp(prefix=f"talker-faults-{scenario.key}-"))
            started = time.monotonic()
            try:
                outcome = await scenario.run(folder, cluster)
            except Exception as exc:  # a scenario that could not even run is a row too
                failure = f"{type(exc).__name__}: {exc}"
                outcome = Outcome(scenario.key, "?", "?", failures=[failure])
            outcome.wall_s = round(time.monotonic() - started, 1)
            outcomes.append(outcome)
            print(f"{scenario.key}: done in {outcome.wall_s} s", file=sys.stderr)
            if keep:
                print(f"  kept {folder}", file=sys.stderr)
            else:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if cluster is not None:
            cluster.destroy()
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """A Markdown table, as the README shows it, then what went wrong, per scenario."""
    rows = [
        (
            o.scenario,
            o.mode,
            o.backend,
            str(o.sent),
            str(o.lost),
            f"{o.duplicates} (≤ {o.allowed_duplicates})",
            "—" if o.recovery_s is None else f"{o.recovery_s:.1f}",
        )
        for o in outcomes
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    for outcome in outcomes:
        if outcome.injected:
            counts = ", ".join(
                f"{name} {c['injected']['error']}/{c['injected']['timeout']}/"
                f"{c['injected']['throttle']} of {c['calls']}"
                for name, c in outcome.injected.items()
            )
            lines.append(
                f"  {outcome.scenario} ({outcome.mode}, {outcome.backend}): injected "
                f"5xx/timeouts/429s of calls: {counts}"
            )
        for problem in outcome.problems():
            lines.append(f"  {outcome.scenario} ({outcome.mode}, {outcome.backend}): {problem}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    keys = [s.key for s in SCENARIOS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(keys))
    parser.add_argument("--keep", action="store_true", help="keep each run's folder (logs, db)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in keys]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(keys)}")
    chosen = [s for s in SCENARIOS if not args.scenarios or s.key in args.scenarios]
    outcomes = asyncio.run(run_all(chosen, args.keep))
    print(table(outcomes))
    if args.json is not None:
        rows: list[dict[str, Any]] = [
            {**o.row(), "injected": o.injected, "lost_tags": o.lost_tags} for o in outcomes
        ]
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(not o.problems() for o in outcomes) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
