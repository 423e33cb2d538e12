"""Prometheus metrics of the outbox (process-wide, on the default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SENT = Counter("outbox_sent", "Outbox rows delivered", ["platform"])
MERGED = Counter("outbox_merged", "Rows delivered inside a merged message", ["platform"])
#: reason: retry_after, transient, deadline (a call cut off at its delivery deadline), lease (a
#: call stopped because its lease could not be confirmed or was taken over), database (the
#: pacing state could not be read: the database was unreachable).
RETRIED = Counter("outbox_retried", "Outbox deliveries put back for retry", ["platform", "reason"])
FAILED = Counter("outbox_failed", "Outbox rows failed for good", ["platform"])
RATE_LIMITED = Counter("outbox_429", "Rate-limit answers (429, retry_after)", ["platform"])
QUEUE_DEPTH = Gauge("outbox_queue_depth", "Outbox rows pending or leased")
OLDEST_PENDING = Gauge("outbox_oldest_pending_seconds", "Age of the oldest pending outbox row")
ALARMED = Gauge(
    "outbox_transient_alarm",
    "Outbox rows failing transiently for longer than outbox.alarm_after_seconds (still retried)",
)
ALARMS = Counter(
    "outbox_alarms",
    "Destinations that became stuck (event=raised) or delivered again (event=recovered)",
    ["platform", "event"],
)
