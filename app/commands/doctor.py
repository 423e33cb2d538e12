"""`talker-bridge doctor -c FILE`: check each platform's rights and settings against its API.

Prints one line per check, OK or FAIL with the exact fix. Exit 0 when every check holds, 1
when one does not, 2 for a bad config.
"""

from __future__ import annotations

import argparse

DEFAULT_CONFIG = "config.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the bot's rights and each platform's settings, with the fix for each",
        description="Ask Telegram and each enabled platform, with the configured tokens, "
        "whether the bot and the accounts are set up as the bridge needs; print one line per "
        "check with OK or the fix.",
    )
    parser.add_argument(
        "-c", "--config", default=DEFAULT_CONFIG, metavar="FILE", help="the bridge config (YAML)"
    )
    parser.set_defaults(func=doctor)


def doctor(args: argparse.Namespace) -> int:
    """The command: load the config, run the checks, print the lines."""
    import asyncio

    from app.commands import config_or_report
    from app.doctor.run import run_checks

    config = config_or_report(args.config)
    if config is None:
        return 2
    findings = asyncio.run(run_checks(config))
    for line in findings.lines:
        print(line)
    return 0 if findings.ok else 1
