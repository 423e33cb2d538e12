"""How the Telegram desk tells the operators about the outbox alarm (bridge/outbox/alarm.py).

A stuck destination is told once, where the operators look for it: in the place of the
conversation whose message is stuck (its topic, or the feed while it has none), else — a row of
no conversation: a dashboard, a card — in the Incoming feed of the group it was going to, or
of every group when it was going elsewhere. "Going out again" is said once, in the same place.
The texts are `alarm.stuck` and `alarm.recovered` (bridge/core/texts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botapi import calls
from bridge import outbox
from bridge.core.cards import escaped_shortened
from bridge.core.texts import text
from storage.conversations import get_conversation

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.outbox.alarm import StuckDestination
    from config import GroupConfig
    from desk.telegram_desk import TelegramDesk

#: Characters of the platform's error shown in the notice.
ERROR_SHOWN = 200


class DeskAlarm:
    """The outbox's `AlarmListener` for the Telegram desk; `desk()` is the desk in use now."""

    def __init__(self, desk: Callable[[], TelegramDesk]) -> None:
        self.desk = desk

    async def stuck(self, session: AsyncSession, alarm: StuckDestination, now: float) -> None:
        desk = self.desk()
        html = text(
            desk.language,
            "alarm.stuck",
            platform=desk.source_name(alarm.platform),
            minutes=_minutes(now - alarm.since),
            error=escaped_shortened(alarm.error, ERROR_SHOWN),
        )
        await self._tell(session, desk, alarm, html)

    async def recovered(self, session: AsyncSession, alarm: StuckDestination, now: float) -> None:
        desk = self.desk()
        html = text(
            desk.language,
            "alarm.recovered",
            platform=desk.source_name(alarm.platform),
            minutes=_minutes(now - alarm.since),
        )
        await self._tell(session, desk, alarm, html)

    async def _tell(
        self, session: AsyncSession, desk: TelegramDesk, alarm: StuckDestination, html: str
    ) -> None:
        if alarm.conversation_id is not None:
            conversation = await get_conversation(session, alarm.conversation_id)
            if conversation is not None and conversation.group in desk.config.groups:
                await desk.notice(session, conversation, html)
                return
        groups = [
            g for g in desk.config.groups.values() if str(g.chat_id) == alarm.destination
        ] or list(desk.config.groups.values())
        for group in groups:
            await _feed_notice(session, desk, group, html)


async def _feed_notice(
    session: AsyncSession, desk: TelegramDesk, group: GroupConfig, html: str
) -> None:
    await desk.enqueue(
        session,
        None,
        chat_id=group.chat_id,
        lane=f"tg:{group.chat_id}:alarm",
        kind="notice",
        payload=calls.send_text(group.chat_id, html, thread_id=group.incoming_topic),
        priority=outbox.PRIORITY_REPLY,
    )


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))
