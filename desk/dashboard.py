"""The pinned dashboard of each operators' group: counters kept current by debounced edits.

Every `interval` seconds (`counters.dashboard_interval`: at most `dashboard_budget_share` of
the group's posting budget) the counters are computed; only when they changed is one edit
enqueued (kind `dashboard`: a newer one supersedes a queued older one). The first time, the
message is posted and then pinned (handler `POSTED_HANDLER`, `register_dashboard`). Edits go
through the outbox like every post, so the group's pace holds them too. The refresh loops are
leader-only duties (bridge/leader.py): one process keeps the dashboards when several share
PostgreSQL.

With SLA times (`groups.NAME.sla`) the dashboard has one more line: how many cards wait past
`accept_within` and how many claimed conversations' customers wait past `answer_within`,
counted as the reminder jobs count them (bridge/helpdesk/sla.py, working hours included).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botapi import calls
from bridge import outbox
from bridge.components import ComponentState
from bridge.core.counters import Counts, dashboard_interval, render_dashboard
from bridge.core.texts import text
from bridge.helpdesk.sla import accept_clock, answer_clock, overdue
from bridge.hours import WorkingHours
from storage.counters import count_new, count_unanswered
from storage.helpdesk import waiting_for_accept, waiting_for_answer
from storage.state import kv_get, kv_set

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.outbox import HandlerRegistry
    from config import GroupConfig
    from desk.runtime import DeskRuntime
    from storage.models import OutboxItem

log = logging.getLogger(__name__)

#: The handler of a dashboard's first post: records its id and pins it.
POSTED_HANDLER = "desk.dashboard_posted"


def _keys(group: str) -> tuple[str, str]:
    return f"dashboard:{group}:message_id", f"dashboard:{group}:shown"


async def past_sla(
    session: AsyncSession, group: GroupConfig, now: datetime
) -> tuple[int, int] | None:
    """(cards past `accept_within`, customers past `answer_within`) at `now`; None without
    SLA times. A time the group does not set counts 0."""
    accept, answer = group.sla.accept_within, group.sla.answer_within
    if accept is None and answer is None:
        return None
    hours = WorkingHours(group.hours)
    cards = waiting = 0
    if accept is not None:
        for conversation in await waiting_for_accept(session, group.name):
            started = accept_clock(hours, conversation.opened_at, conversation.sla_from)
            cards += overdue(started, accept, now)
    if answer is not None:
        for wait in await waiting_for_answer(session, group.name):
            started = answer_clock(
                hours,
                wait.first_unanswered,
                wait.conversation.accepted_at,
                wait.conversation.last_operator_reply_at,
            )
            waiting += overdue(started, answer, now)
    return cards, waiting


async def render(
    session: AsyncSession, group: GroupConfig, language: str, *, now: datetime | None = None
) -> str:
    """The dashboard's text now: the counters, and the past-SLA line when SLA is set."""
    counts = Counts(
        new=await count_new(session, group.name),
        unanswered=await count_unanswered(session, group.name),
    )
    html = render_dashboard(counts, language)
    late = await past_sla(session, group, now or datetime.now(UTC))
    if late is not None:
        line = text(language, "dashboard.sla", accept=late[0], answer=late[1])
        html += "\n" + line
    return html


async def refresh(
    session: AsyncSession, group: GroupConfig, language: str, *, now: datetime | None = None
) -> bool:
    """Enqueue the dashboard's post or edit if its text changed; True when something was queued."""
    id_key, shown_key = _keys(group.name)
    html = await render(session, group, language, now=now)
    if await kv_get(session, shown_key) == html:
        return False
    message_id = await kv_get(session, id_key)
    lane = f"tg:{group.chat_id}:dashboard"
    if message_id is None:
        if await kv_get(session, shown_key) is not None:
            return False  # posted, its id not recorded yet
        payload = calls.send_text(group.chat_id, html, thread_id=group.incoming_topic)
        payload["ctx"] = {"group": group.name}
        await outbox.enqueue(
            session,
            platform="telegram",
            destination=str(group.chat_id),
            lane=lane,
            kind="dashboard_post",
            payload=payload,
            priority=outbox.PRIORITY_DASHBOARD,
            handler=POSTED_HANDLER,
        )
    else:
        await outbox.enqueue(
            session,
            platform="telegram",
            destination=str(group.chat_id),
            lane=lane,
            kind=outbox.KIND_DASHBOARD,
            payload=calls.edit_text(group.chat_id, int(message_id), html),
            priority=outbox.PRIORITY_DASHBOARD,
            coalesce_key=f"dashboard:{group.name}",
        )
    await kv_set(session, shown_key, html)
    return True


async def dashboard_posted(
    session: AsyncSession, item: OutboxItem, result: dict[str, Any]
) -> None:
    message_id = result.get("message_id")
    group = (item.payload.get("ctx") or {}).get("group")
    if message_id is None or group is None:
        return
    chat_id = int(item.payload["params"]["chat_id"])
    await kv_set(session, _keys(group)[0], str(message_id))
    await outbox.enqueue(
        session,
        platform="telegram",
        destination=str(chat_id),
        lane=item.lane,
        kind="pin",
        payload=calls.call(
            "pinChatMessage", chat_id=chat_id, message_id=message_id, disable_notification=True
        ),
        priority=outbox.PRIORITY_DASHBOARD,
    )


def register_dashboard(registry: HandlerRegistry) -> None:
    """Register the handler of the dashboards' first posts."""
    registry.register(POSTED_HANDLER, done=dashboard_posted)


class Dashboards:
    """A component: refreshes every group's dashboard on its debounce interval."""

    name = "desk:dashboard"

    def __init__(self, runtime: DeskRuntime) -> None:
        self.runtime = runtime
        limits = runtime.config.telegram.limits
        self.groups = [g for g in runtime.config.groups.values() if g.dashboard]
        self.intervals = {
            g.name: dashboard_interval(
                limits.per_group_per_minute * runtime.time_scale, g.dashboard_budget_share
            )
            for g in self.groups
        }
        self._duties: list[str] = []
        self._started = False
        self.queued = 0

    async def start(self) -> None:
        for group in self.groups:
            name = f"desk:dashboard:{group.name}"
            await self.runtime.leader.add_duty(name, functools.partial(self._loop, group))
            self._duties.append(name)
        self._started = True

    async def stop(self) -> None:
        for name in self._duties:
            await self.runtime.leader.remove_duty(name)
        self._duties.clear()
        self._started = False

    def state(self) -> ComponentState:
        if not self._started:
            return ComponentState("stopped")
        if self._duties and not self.runtime.leader.is_leader:
            return ComponentState("running", "standby: the leader process keeps the dashboards")
        return ComponentState("running")

    async def _loop(self, group: GroupConfig) -> None:
        interval = self.intervals[group.name]
        while True:
            try:
                async with self.runtime.transaction() as session:
                    if await refresh(session, group, self.runtime.config.language):
                        self.queued += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dashboard of group %s could not be refreshed", group.name)
            await asyncio.sleep(interval)
