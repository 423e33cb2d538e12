"""The `talker-bridge` command line: one sub-command per module in `app.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets `func`
to a callable taking the parsed namespace and returning the process exit code. Modules import
their heavy dependencies inside `func`, so `talker-bridge --help` stays fast.

Every parser (sub-commands included) prints its options' defaults in `--help`, through one
formatter set here, so a command module only writes the help text. Every command that reads a
config takes `-c/--config FILE` (tests/app/test_cli_help.py holds the list).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator, Sequence

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
    "forget",
    "doctor",
)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter that appends `(default: X)` to an option's help.

    Unlike `argparse.ArgumentDefaultsHelpFormatter` it says nothing when there is no default to
    tell (None, a flag's False) or when the help already names its default in words.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            default is None
            or default is False
            or default is argparse.SUPPRESS
            or "default" in text
            or not (action.option_strings or action.nargs in (argparse.OPTIONAL,))
        ):
            return action.help
        return f"{text} (default: %(default)s)"


def walk_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """`parser` and every sub-command's parser below it, each with its command words.

    argparse has no public way to list sub-parsers; this is the one place that reads its
    `_actions` for them.
    """
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk_parsers(child, (*path, name))


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
    for _, each in walk_parsers(parser):
        each.formatter_class = HelpFormatter
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
