"""`talker-bridge dead-letters`: list the updates that failed for good, and replay them.

    talker-bridge dead-letters -c config.yaml                 # id, source, key, age, error
    talker-bridge dead-letters replay -c config.yaml 3 7      # or --all

A replay feeds each dead letter's payload again through the intake of its source (the bot's
updates for `telegram`, the webhook handler for a customer platform), as the service would,
in this process and on the configured database; the replies and cards it causes are sent by
the running service's outbox. A replayed letter is marked replayed; one that fails again stays
open with the new error, which is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config import BridgeConfig
    from storage.models import DeadLetter


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dead-letters",
        help="list updates that failed for good, or replay them",
        description="List the dead letters (updates that failed for good) or replay them.",
    )
    parser.add_argument("-c", "--config", metavar="FILE", help="the bridge config (YAML)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    replay = actions.add_parser(
        "replay",
        help="feed dead letters again through their intake",
        description="Feed the given dead letters (or --all) again through their intake.",
    )
    replay.add_argument(
        "-c", "--config", metavar="FILE", default=argparse.SUPPRESS, help="the bridge config"
    )
    replay.add_argument("ids", nargs="*", type=int, metavar="ID", help="dead letters to replay")
    replay.add_argument("--all", action="store_true", help="replay every open dead letter")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List (exit 0) or replay (exit 0 when every letter was replayed, 1 otherwise)."""
    if not args.config:
        print("talker-bridge dead-letters: -c/--config FILE is required", file=sys.stderr)
        return 2
    from app.commands import config_or_report

    config = config_or_report(args.config, "talker-bridge dead-letters: ")
    if config is None:
        return 2
    if args.action == "replay":
        if not args.ids and not args.all:
            print("talker-bridge dead-letters replay: give ids or --all", file=sys.stderr)
            return 2
        return asyncio.run(replay(config, None if args.all else list(args.ids)))
    return asyncio.run(show(config))


async def show(config: BridgeConfig) -> int:
    """Print the open dead letters, oldest first."""
    from storage.db import create_engine, session_factory
    from storage.dead_letters import open_dead_letters
    from storage.migrate import upgrade_async

    await upgrade_async(config.database)
    engine = create_engine(config.database)
    try:
        async with session_factory(engine)() as session:
            letters = await open_dead_letters(session)
    finally:
        await engine.dispose()
    if not letters:
        print("no dead letters")
        return 0
    print(f"{'ID':>6}  {'SOURCE':<10}  {'KEY':<20}  {'AGE':>8}  ERROR")
    for letter in letters:
        print(
            f"{letter.id:>6}  {letter.source:<10}  {letter.key[:20]:<20}  "
            f"{age(letter):>8}  {first_line(letter.error)}"
        )
    print(f"{len(letters)} dead letter(s); replay with `talker-bridge dead-letters replay`")
    return 0


async def replay(config: BridgeConfig, ids: list[int] | None) -> int:
    """Replay the open dead letters `ids` (None: all) through the service's own intakes."""
    from app.wiring import build_service
    from storage.dead_letters import mark_replayed, open_dead_letters, record_replay_failure
    from storage.migrate import upgrade_async

    await upgrade_async(config.database)
    service = build_service(config, port=0)
    runtime = service.runtime
    await runtime.open()
    failed = 0
    try:
        async with runtime.sessions() as session:
            letters = await open_dead_letters(session, ids)
        missing = sorted(set(ids or ()) - {letter.id for letter in letters})
        for letter_id in missing:
            print(f"dead letter {letter_id}: not found or replayed already", file=sys.stderr)
            failed += 1
        for letter in letters:
            assert letter.id is not None
            replayer = runtime.dead_letters.replayers.get(letter.source)
            if replayer is None:
                print(
                    f"dead letter {letter.id}: nothing replays {letter.source!r} with this "
                    "config (is its channel enabled?)",
                    file=sys.stderr,
                )
                failed += 1
                continue
            try:
                await replayer(letter.payload)
            except Exception as exc:
                from bridge.dead_letters import describe

                async with runtime.transaction() as session:
                    await record_replay_failure(session, letter.id, describe(exc))
                print(
                    f"dead letter {letter.id} ({letter.source} {letter.key}) failed again: "
                    f"{type(exc).__name__}: {exc}",
                    file=sys.stderr,
                )
                failed += 1
                continue
            async with runtime.transaction() as session:
                await mark_replayed(session, letter.id)
            print(f"dead letter {letter.id} ({letter.source} {letter.key}): replayed")
    finally:
        await service.stop()
    return 1 if failed else 0


def age(letter: DeadLetter) -> str:
    """How long ago the letter was kept, shortly (`3d 4h`, `2h 5m`, `40s`)."""
    from storage.timeutil import as_utc, utcnow

    seconds = int((utcnow() - as_utc(letter.created_at)).total_seconds())
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds}s"
    return f"{seconds}s"


def first_line(error: str) -> str:
    """The error's first line (its type and message), cut to fit a terminal line."""
    line = error.strip().splitlines()[0] if error.strip() else ""
    return line if len(line) <= 100 else line[:99] + "…"
