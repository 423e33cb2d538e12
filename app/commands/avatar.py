"""`talker-bridge avatar`: render one customer avatar to a PNG file and print its path.

Without `-o` it writes avatar.png in the current folder and prints that file's full path.

    talker-bridge avatar --name "Иван Петров" --channel vk -o ivan.png
    talker-bridge avatar --guest-number 17 --channel site:shop -o guest.png

Without `--name` the customer is a guest: a grey avatar with a person silhouette (no letters, so
it reads the same in every language); `--guest-number` only feeds the default seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUTPUT = "avatar.png"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "avatar",
        help="render a customer avatar to a PNG file",
        description="Render a customer avatar (initials or guest silhouette, platform badge).",
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--name", help="the customer's name; omit for a guest")
    who.add_argument(
        "--guest-number", type=int, metavar="N", help="the guest's number (a guest has no name)"
    )
    parser.add_argument(
        "--channel",
        required=True,
        help="where the customer writes from: telegram, vk, viber, facebook or site[:ID]",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=f"PNG file to write (default: {DEFAULT_OUTPUT} in the current folder, "
        "whose full path is printed)",
    )
    parser.add_argument("--size", type=int, default=256, help="side in pixels")
    parser.add_argument(
        "--seed", help="stable customer id that picks the colour (default: the name)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.looks import platform_badges
    from bridge.avatars import render_avatar

    if args.guest_number is not None and args.guest_number < 1:
        return _fail(f"--guest-number must be 1 or more, got {args.guest_number}")
    name = args.name if args.name and args.name.strip() else None
    if args.seed is not None:
        seed = args.seed
    elif name is not None:
        seed = name
    else:
        seed = f"guest-{args.guest_number or 0}"
    try:
        badge = platform_badges().for_channel(args.channel)
        png = render_avatar(name, badge=badge, seed=seed, size=args.size)
    except ValueError as exc:
        return _fail(str(exc))
    # Without -o the file lands in the current folder: print its full path, so the user sees
    # where it went; with -o the path is printed as given.
    output = Path(args.output) if args.output else Path(DEFAULT_OUTPUT).resolve()
    try:
        output.write_bytes(png)
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror or exc}")
    print(output)
    return 0


def _fail(message: str) -> int:
    print(f"talker-bridge avatar: {message}", file=sys.stderr)
    return 2
