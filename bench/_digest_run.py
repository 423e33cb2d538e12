"""`talker-bridge run` with the storm digest's desk (bridge/desk/feed.py `FeedDesk`).

Until the one-line hook of docs/perf-hooks.md is applied in bridge/desk/runtime.py, this is how
`bench/relay.py storm --digest` runs the real service with the digest: the same components
`build_components` returns, with the shared desk runtime's desk replaced by a `FeedDesk` before
anything starts. Usage: python -m bench._digest_run -c FILE [--time-scale K] [--log-level L]
"""

from __future__ import annotations

import argparse
import asyncio
import sys


def main(argv: list[str] | None = None) -> int:
    from bridge.desk.feed import FeedDesk
    from bridge.logs import setup_logging
    from bridge.service import Service
    from bridge.wiring import build_components
    from config import ConfigError, load_config

    parser = argparse.ArgumentParser(prog="python -m bench._digest_run")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    setup_logging(json_lines=False, level=args.log_level)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    components = build_components(config, time_scale=args.time_scale)
    runtimes = {id(c.runtime): c.runtime for c in components if hasattr(c, "runtime")}
    for runtime in runtimes.values():
        if not isinstance(runtime.desk, FeedDesk):
            runtime.desk = FeedDesk(config)
    asyncio.run(Service(config, components).run_until_signal())
    return 0


if __name__ == "__main__":
    sys.exit(main())
