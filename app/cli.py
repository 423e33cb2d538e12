"""The `talker-bridge` command line: one sub-command per module in `app.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets `func`
to a callable taking the parsed namespace and returning the process exit code. Modules import
their heavy dependencies inside `func`, so `talker-bridge --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bridge import __version__

COMMAND_MODULES = (
    "run",
    "check_config",
    "migrate",
    "sandbox",
    "demo",
    "avatar",
    "set_webhooks",
    "dead_letters",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="talker-bridge",
        description="A customer-support inbox in a Telegram group.",
    )
    parser.add_argument("--version", action="version", version=f"talker-bridge {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"app.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
