"""`talker-bridge forget`: delete a customer's data on their request (issue 17).

    talker-bridge forget -c config.yaml --channel vk --id 123
    talker-bridge forget -c config.yaml --conversation 41

Deletes the customer's messages, stored files (the widget's files on disk) and profile (name,
username, avatar fields), and posts "data deleted on request" in their latest conversation's
place in the operators' group (sent by the running service's outbox). The conversations stay,
without content, for the counters. Exit codes: 0 deleted, 1 no such customer, 2 bad
arguments or config.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from bridge.core.forget import EraseFiles, Forgotten
    from config import BridgeConfig

PROG = "talker-bridge forget"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "forget",
        help="delete a customer's messages, files and profile on request",
        description="Delete a customer's messages, files and profile (a data-deletion "
        "request), leaving a notice in the operators' group. Name the customer by "
        "--channel and --id, or by one of their conversations.",
    )
    parser.add_argument("-c", "--config", metavar="FILE", help="the bridge config (YAML)")
    parser.add_argument(
        "--channel", metavar="CHANNEL", help="the customer's channel: vk, viber, site:shop, ..."
    )
    parser.add_argument("--id", metavar="ID", help="the customer's id on that channel")
    parser.add_argument(
        "--conversation", metavar="N", type=int, help="a conversation #N of the customer"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when deleted, 1 when no such customer, 2 on bad arguments or config."""
    if not args.config:
        print(f"{PROG}: -c/--config FILE is required", file=sys.stderr)
        return 2
    by_id = args.channel is not None or args.id is not None
    if by_id == (args.conversation is not None) or (by_id and not (args.channel and args.id)):
        print(f"{PROG}: give --channel and --id, or --conversation N", file=sys.stderr)
        return 2
    from app.commands import config_or_report

    config = config_or_report(args.config, f"{PROG}: ")
    if config is None:
        return 2
    forgotten = asyncio.run(forget(config, args.channel, args.id, args.conversation))
    if forgotten == "already":
        print(
            f"{PROG}: conversation #{args.conversation}'s customer was already forgotten; "
            "nothing deleted",
            file=sys.stderr,
        )
        return 1
    if forgotten is None:
        named = (
            f"conversation #{args.conversation}"
            if args.conversation is not None
            else f"customer {args.id} on {args.channel}"
        )
        print(f"{PROG}: no {named} found; nothing deleted", file=sys.stderr)
        return 1
    print(f"deleted: {forgotten.summary()}")
    print("the notice goes to the operators' group with the running service's outbox")
    return 0


async def forget(
    config: BridgeConfig, channel: str | None, user: str | None, conversation: int | None
) -> Forgotten | Literal["already"] | None:
    """Forget the customer named by (channel, user) or by a conversation; None if unknown,
    "already" when that conversation's customer was forgotten before."""
    from bridge.core.forget import forget_customer
    from bridge.core.texts import normalize_language
    from desk.customer_side import TelegramCustomerRefresh
    from desk.feed import FeedDesk
    from storage.conversations import get_conversation
    from storage.customers import find_customer, get_customer
    from storage.db import create_engine, session_factory
    from storage.forget import is_forgotten
    from storage.migrate import upgrade_async

    await upgrade_async(config.database)
    engine = create_engine(config.database)
    try:
        async with session_factory(engine)() as session, session.begin():
            if conversation is not None:
                found = await get_conversation(session, conversation)
                customer = (
                    None if found is None else await get_customer(session, found.customer_id)
                )
            else:
                assert channel is not None and user is not None
                customer = await find_customer(session, channel, user)
            if customer is None:
                return None
            if is_forgotten(customer):
                return "already"
            desk = FeedDesk(config)
            return await forget_customer(
                session,
                customer,
                desk=desk,
                language=normalize_language(config.language),
                erase_files=site_files_eraser(config),
                refresh=TelegramCustomerRefresh(desk),
            )
    finally:
        await engine.dispose()


def site_files_eraser(config: BridgeConfig, root: Path | None = None) -> EraseFiles:
    """The `erase_files` hook: a widget visitor's folder of files (other channels keep none)."""
    from adapters.site.adapter import default_files_dir
    from adapters.site.uploads import FileStore

    store = FileStore(root or default_files_dir(config.database), max_size=0)

    def erase(channel: str, user: str) -> int:
        family, _, widget = channel.partition(":")
        if family != "site" or not widget:
            return 0
        return store.remove_visitor(widget, user)

    return erase
