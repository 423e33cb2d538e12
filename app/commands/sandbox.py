"""`talker-bridge sandbox --port P`: the fake Telegram, VK, Viber and Facebook APIs on one port."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox", help="serve fake Telegram, VK, Viber and Facebook APIs on one port"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply every rate limit by this factor (benchmarks)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; print the config lines that point a bridge at the sandbox."""
    import asyncio
    import signal

    from sandbox.runner import start_app
    from sandbox.server import Sandbox

    async def serve() -> None:
        # Handle the signals before printing anything, so whoever reads the output and then
        # stops the sandbox gets a clean stop.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sandbox = Sandbox(time_scale=args.time_scale)
        running = await start_app(sandbox.build_app(), args.host, args.port)
        print(f"Sandbox listening on {running.base_url}", flush=True)
        snippet = sandbox.config_snippet(running.base_url)
        print("Point a bridge at it with:\n" + snippet + "\n", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        try:
            await stop.wait()
        finally:
            await running.runner.cleanup()

    asyncio.run(serve())
    return 0
