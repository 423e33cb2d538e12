"""Run one outbox worker process: `python -m app.run_worker --database URL ...`.

Sends every pending row of the outbox through the Telegram Bot API at `--telegram-api` (the
service starts the same worker in-process; this module lets tests and operators run it alone,
e.g. to drain a queue). SIGTERM/SIGINT: finish the calls on the wire, leave the rest queued.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The command line of the worker process."""
    parser = argparse.ArgumentParser(prog="python -m app.run_worker")
    parser.add_argument("--database", required=True, help="sqlite:///path.db or postgresql://…")
    parser.add_argument("--telegram-api", required=True, help="Bot API base URL")
    parser.add_argument("--token", required=True, help="the bot token")
    parser.add_argument("--platform", default="telegram", help="platform name of the rows")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every rate")
    parser.add_argument("--owner", default=None, help="lease owner id (default host:pid)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--lease-seconds", type=float, default=60.0)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--log-level", default="INFO")
    return parser


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    from botapi.pacing import platform_pacing
    from botapi.sender import TelegramCalls, make_bot
    from bridge.outbox import OutboxWorker, PacingPolicy
    from storage.db import create_engine, session_factory

    engine = create_engine(args.database)
    sender = TelegramCalls(make_bot(args.token, args.telegram_api))
    worker = OutboxWorker(
        session_factory(engine),
        {args.platform: sender},
        PacingPolicy(platforms={"telegram": platform_pacing()}, time_scale=args.time_scale),
        owner_id=args.owner or f"{socket.gethostname()}:{os.getpid()}",
        concurrency=args.concurrency,
        lease_seconds=args.lease_seconds,
        poll_interval=args.poll_interval,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await worker.start()
    print("outbox worker ready", flush=True)
    try:
        await stop.wait()
    finally:
        await worker.stop(drain=True)
        await sender.close()
        await engine.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the worker."""
    args = build_parser().parse_args(argv)
    if args.time_scale <= 0:
        print("--time-scale must be positive", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
