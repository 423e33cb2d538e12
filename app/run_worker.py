"""Run one outbox worker process: `python -m app.run_worker --config bridge.yaml` (or flags).

With `--config` the process is wired like the service (app/wiring.py `build_runtime`): the same
database, bot, pacing and the desk's completion handlers, so the rows it sends complete as the
service's would (card links recorded, topics made). Rows of the customer platforms (VK, Viber,
Facebook, site) have no sender here and wait for the service. Without a config
(`--database URL --telegram-api URL --token T`) it sends one platform's rows through the Bot
API with no handlers: a row that names a handler is left queued, never sent half-done
(bridge/outbox/worker.py). The service starts the same worker in-process; this module lets
tests and operators run it alone, e.g. to drain a queue. SIGTERM/SIGINT: finish the calls on
the wire, leave the rest queued.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.runtime import Runtime


def build_parser() -> argparse.ArgumentParser:
    """The command line of the worker process."""
    parser = argparse.ArgumentParser(prog="python -m app.run_worker")
    parser.add_argument("--config", default=None, help="the bridge's config: wire as the service")
    parser.add_argument("--database", help="sqlite:///path.db or postgresql://… (no --config)")
    parser.add_argument("--telegram-api", help="Bot API base URL (no --config)")
    parser.add_argument("--token", help="the bot token (no --config)")
    parser.add_argument("--platform", default="telegram", help="platform name of the rows")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every rate")
    parser.add_argument("--owner", default=None, help="lease owner id (default host:pid)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--lease-seconds", type=float, default=60.0)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--log-level", default="INFO")
    return parser


def build_worker_runtime(
    args: argparse.Namespace,
) -> tuple[Runtime, Callable[[], Awaitable[None]]]:
    """The process's runtime (senders and handlers registered) and what closes its bot."""
    if args.config is not None:
        from app.config import load_config
        from app.wiring import build_runtime

        runtime, desk = build_runtime(load_config(args.config), time_scale=args.time_scale)
        return runtime, desk.stop
    from botapi.pacing import platform_pacing
    from botapi.sender import TelegramCalls, make_bot
    from bridge.outbox import PacingPolicy
    from bridge.runtime import Runtime

    policy = PacingPolicy(platforms={"telegram": platform_pacing()}, time_scale=args.time_scale)
    runtime = Runtime(args.database, policy=policy)
    sender = TelegramCalls(make_bot(args.token, args.telegram_api))
    runtime.senders[args.platform] = sender
    return runtime, sender.close


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    runtime, close_bot = build_worker_runtime(args)
    await runtime.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start_worker(
            concurrency=args.concurrency,
            owner_id=args.owner or f"{socket.gethostname()}:{os.getpid()}",
            lease_seconds=args.lease_seconds,
            poll_interval=args.poll_interval,
        )
        print("outbox worker ready", flush=True)
        await stop.wait()
    finally:
        await runtime.stop_worker(drain=True)
        await close_bot()
        await runtime.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the worker."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.config is None and not (args.database and args.telegram_api and args.token):
        parser.error("give --config, or --database, --telegram-api and --token")
    if args.time_scale <= 0:
        print("--time-scale must be positive", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
