"""`talker-bridge run -c FILE`: run the service until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the bridge service")
    parser.add_argument("-c", "--config", required=True, metavar="FILE", help="the config file")
    parser.add_argument("--log-json", action="store_true", help="log JSON lines")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning"],
        help="the least severe log records to print",
    )
    parser.add_argument("--port", type=int, default=None, help="override http.port")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply every pacing rate by this factor (benchmarks against a scaled sandbox)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the config (exit 2 on errors), then serve until a signal; exit 0 after a clean stop."""
    from app.commands import config_or_report
    from app.wiring import build_service
    from bridge.logs import setup_logging

    setup_logging(json_lines=args.log_json, level=args.log_level)
    config = config_or_report(args.config)
    if config is None:
        return 2
    if not args.time_scale > 0:
        print("--time-scale must be a positive number", file=sys.stderr)
        return 2
    service = build_service(config, time_scale=args.time_scale, port=args.port)
    run_loop(service.run_until_signal())
    return 0


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop where it is installed (Linux, macOS), else on asyncio's loop.

    The service is CPU-bound on its one event loop under load: uvloop's loop and transports
    cost less per request than asyncio's (docs/performance.md).
    """
    try:
        import uvloop
    except ImportError:
        import asyncio

        asyncio.run(main)
        return
    uvloop.run(main)
