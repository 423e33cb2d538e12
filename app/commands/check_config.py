"""`talker-bridge check-config FILE`: validate a config file and say what it turns on.

Prints `OK` and a summary line on stdout (exit 0), or every problem on stderr, one line each
(exit 2). Nothing is contacted: the check is the file and the environment only.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_CONFIG = "config.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `check-config` sub-command."""
    parser = subparsers.add_parser(
        "check-config",
        help="validate a config file and print what it turns on",
        description="Validate a config file (with ${VAR} taken from the environment). "
        "Prints OK and a summary, or every problem found; exit code 0 or 2.",
    )
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help=f"the config file (default: {DEFAULT_CONFIG})"
    )
    parser.add_argument(
        "-c", "--config", dest="config_option", metavar="FILE", help="the same, as an option"
    )
    parser.set_defaults(func=check_config)


def check_config(args: argparse.Namespace) -> int:
    """Validate the file named by the arguments; print the outcome; return the exit code."""
    from app.config import load_config
    from config import ConfigError

    if args.file and args.config_option and args.file != args.config_option:
        print(
            f"check-config: two files given ({args.file} and -c {args.config_option}); give one",
            file=sys.stderr,
        )
        return 2
    path = args.file or args.config_option or DEFAULT_CONFIG
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print("OK")
    print(config.summary())
    return 0
