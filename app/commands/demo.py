"""`talker-bridge demo [--port 8080] [--mode private]`: the whole product in a browser, with no
tokens.

Starts the fake Telegram, VK, Viber and Facebook in-process, the bridge's real components
against them (SQLite in a temporary folder, every channel on), and prints the page to open:
http://127.0.0.1:8080/demo. Stops cleanly on Ctrl+C or SIGTERM; nothing is kept.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="try every flow in a browser: fake platforms, the real bridge, no tokens"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port of the demo page")
    parser.add_argument(
        "--language", default="en", choices=["en", "ru"], help="language of the bridge's texts"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply the platforms' rate limits and the bridge's pacing by this factor "
        "(1 = Telegram's real limits, 20 posts a minute into the group)",
    )
    parser.add_argument(
        "--mode",
        default="topics",
        choices=["topics", "private"],
        help="the operators' group mode: topics (a forum topic per customer) or private "
        "(an accepted conversation goes on in a topic of the operator's private chat)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning"],
        help="the least severe log records to print",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve the demo until a signal; exit 0 after a clean stop, 1 if it cannot start."""
    import asyncio
    import signal

    from app.demo import DemoRunner
    from bridge.logs import setup_logging

    if not 0 <= args.port <= 65535:
        print(f"talker-bridge demo: --port must be 0-65535, got {args.port}", file=sys.stderr)
        return 2
    if args.time_scale <= 0:
        print("talker-bridge demo: --time-scale must be positive", file=sys.stderr)
        return 2
    setup_logging(json_lines=False, level=args.log_level)

    async def serve() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        demo = DemoRunner(
            host=args.host,
            port=args.port,
            language=args.language,
            time_scale=args.time_scale,
            mode=args.mode,
        )
        try:
            await demo.start()
        except OSError as error:
            print(
                f"talker-bridge demo: cannot listen on port {args.port}: {error}", file=sys.stderr
            )
            return 1
        try:
            print(f"Talker Bridge demo: open {demo.url}", flush=True)
            print("Press Ctrl+C to stop.", flush=True)
            await stop.wait()
        finally:
            await demo.stop()
        return 0

    return asyncio.run(serve())
