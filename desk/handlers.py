"""Every outbox handler of the desk, registered on one registry at wiring time.

The service (app/wiring.py) and the stand-alone worker process (app/run_worker.py) both call
`register_desk_handlers`, so a row the desk enqueued completes the same way wherever it is
sent. The names are constants of the modules that define the handlers (`DeskHandler`,
`feed.HANDLER`, `dashboard.POSTED_HANDLER`) and of the core for replies (`ReplyHandler`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desk.completions import register_completions
from desk.customer_side import register_customer_side
from desk.dashboard import register_dashboard
from desk.feed import register_feed

if TYPE_CHECKING:
    from bridge.outbox import HandlerRegistry
    from desk.telegram_desk import TelegramDesk


def register_desk_handlers(registry: HandlerRegistry, desk: TelegramDesk) -> None:
    """Register the cards', topics', replies', digests' and dashboards' handlers for `desk`."""
    register_completions(registry, desk)
    register_customer_side(registry, desk)
    register_feed(registry, desk)
    register_dashboard(registry)
