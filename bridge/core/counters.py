"""The dashboard's numbers: new in the feed (left), claimed with new messages (right), total.

A claimed conversation "has new messages" while the customer's last message is newer than
the claimer's last reply. The total is shown as "!" once it is above 9. The dashboard is kept
current by debounced edits that spend at most `share` of the group's posting budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.core.texts import text

#: Above this a counter is shown as "!".
SHOWN_UP_TO = 9


@dataclass(frozen=True, slots=True)
class Counts:
    """The two numbers of a dashboard (a group's, or one operator's for /my)."""

    new: int
    unanswered: int

    @property
    def total(self) -> int:
        return self.new + self.unanswered


def shown(count: int) -> str:
    """A counter as displayed: the number up to 9, "!" above."""
    if count < 0:
        raise ValueError(f"a counter cannot be negative: {count}")
    return "!" if count > SHOWN_UP_TO else str(count)


def has_new_messages(
    last_customer_message_at: datetime | None, last_operator_reply_at: datetime | None
) -> bool:
    """True while the customer's last message is newer than the claimer's last reply."""
    if last_customer_message_at is None:
        return False
    return last_operator_reply_at is None or last_customer_message_at > last_operator_reply_at


def render_dashboard(counts: Counts, language: str | None) -> str:
    """The pinned dashboard message (HTML)."""
    return text(
        language,
        "dashboard",
        new=counts.new,
        unanswered=counts.unanswered,
        total=shown(counts.total),
    )


def dashboard_interval(per_group_per_minute: float, share: float) -> float:
    """Seconds between two dashboard edits so they use at most `share` of the group budget.

    20 posts a minute and a share of 0.1 → 2 edits a minute → one every 30 seconds.
    """
    if per_group_per_minute <= 0:
        raise ValueError(f"per_group_per_minute must be positive, got {per_group_per_minute}")
    if not 0 < share <= 1:
        raise ValueError(f"dashboard share must be in (0, 1], got {share}")
    return 60.0 / (per_group_per_minute * share)
