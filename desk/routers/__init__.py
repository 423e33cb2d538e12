"""The desk's aiogram routers, one per concern, and how they join the updates intake.

- feed.py: the Accept button of a card;
- commands.py: operators' commands (in a place, anywhere, in a private chat) and the /transfer
  buttons;
- topics.py: an operator's message in a conversation's place, relayed to the customer;
- edits.py: an operator's edit of a relayed message;
- private.py: an operator in a topic of their private chat (`mode: private`).

Handlers get what they use by parameter name from the dispatcher's workflow data: `runtime`
(desk/runtime.py), and aiogram's own `bot`, `event_update` and `callback_data`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from desk.routers.commands import commands_router, private_command
from desk.routers.edits import edits_router
from desk.routers.feed import feed_router
from desk.routers.private import private_place_update
from desk.routers.topics import topics_router

if TYPE_CHECKING:
    from botapi.updates import UpdatesIntake
    from desk.runtime import DeskRuntime


def install(intake: UpdatesIntake, runtime: DeskRuntime) -> None:
    """Serve the desk from `intake`'s updates; install it before the Telegram customers, whose
    direct handler takes every private message the desk's leaves."""
    intake.dispatcher["runtime"] = runtime
    # The commands before the topics: the topics' filter takes every message in a group.
    intake.dispatcher.include_routers(
        feed_router(), commands_router(), topics_router(), edits_router()
    )
    intake.add_direct(partial(private_place_update, runtime))
    intake.add_direct(partial(private_command, runtime))
