"""`talker-bridge migrate` (not built yet)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="(not built yet)")
    parser.set_defaults(func=_not_built)


def _not_built(args: argparse.Namespace) -> int:
    print("talker-bridge migrate: not built yet", file=sys.stderr)
    return 2
