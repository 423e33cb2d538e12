"""A bounded set of recently seen ids: a cheap first filter for repeated webhook deliveries.

It is only an optimisation: the durable de-duplication is the core's (same channel and
external id → dropped), so forgetting an id on restart costs a little work, never a repeat.
"""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """Remembers the last `size` ids added."""

    def __init__(self, size: int = 10_000) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def add(self, key: str) -> None:
        self._ids[key] = None
        self._ids.move_to_end(key)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)

    def __len__(self) -> int:
        return len(self._ids)
