"""Injected faults: the next N calls (optionally of one method) fail, hang, or get a 429."""

from __future__ import annotations

from dataclasses import dataclass

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(slots=True)
class Fault:
    kind: str  # error | hang | throttle | late
    remaining: int
    method: str | None = None
    status: int = 500
    description: str | None = None
    seconds: float = 0.0
    retry_after: int = 1

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and (
            self.method is None or self.method.lower() == method.lower()
        )

    def error_description(self) -> str:
        return self.description or _REASONS.get(self.status, f"Error {self.status}")


class FaultPlan:
    """Faults waiting to fire, first added first used."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault must apply to at least one call")
        if fault.kind not in ("error", "hang", "throttle", "late"):
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        self._faults.append(fault)

    def take(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        return list(self._faults)
