"""The abuse suite's bookkeeping: what each attack tried and what got through.

Every test of `tests/security/` that attacks the service records a row in the session's
`Ledger` (the `ledger` fixture); at the end of the run `conftest.py` prints them as one table
(attack, attempts, succeeded, 5xx, whether webhooks kept answering within 1 s). The tests
themselves assert that nothing succeeded and nothing answered 5xx; the table is the record.

`WebhookProbe` is the "webhooks kept answering" column: while a flood runs, it posts a
correctly signed Viber webhook to the same service every 100 ms and keeps the slowest answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import aiohttp

from sandbox.server import SANDBOX_VIBER_TOKEN
from sandbox.viber.fake import sign as viber_sign

#: The slowest a webhook may answer during a flood.
WEBHOOK_BOUND = 1.0


@dataclass
class Attack:
    """One row of the table."""

    name: str
    attempts: int = 0
    succeeded: int = 0
    server_errors: int = 0
    #: The slowest webhook answer during the attack (None: no flood, not probed).
    webhook_worst: float | None = None
    webhook_failures: int = 0

    def count(self, status: int, *, succeeded: bool = False) -> None:
        """One attempt answered with `status`; `succeeded` when the attack got what it wanted."""
        self.attempts += 1
        self.succeeded += int(succeeded)
        self.server_errors += int(status >= 500)

    def statuses(self, statuses: Iterable[int], *, succeeded: int = 0) -> None:
        for status in statuses:
            self.count(status)
        self.succeeded += succeeded

    @property
    def webhooks_ok(self) -> bool | None:
        if self.webhook_worst is None:
            return None
        return self.webhook_failures == 0 and self.webhook_worst <= WEBHOOK_BOUND


@dataclass
class Ledger:
    attacks: list[Attack] = field(default_factory=list)

    def attack(self, name: str) -> Attack:
        """The row named `name` (made on first use; tests may add to one row together)."""
        for row in self.attacks:
            if row.name == name:
                return row
        row = Attack(name)
        self.attacks.append(row)
        return row

    def table(self) -> str:
        header = ("attack", "attempts", "succeeded", "5xx", "webhooks < 1 s during it")
        rows = [
            (
                a.name,
                str(a.attempts),
                str(a.succeeded),
                str(a.server_errors),
                "—"
                if a.webhook_worst is None
                else f"{'yes' if a.webhooks_ok else 'NO'} (worst {a.webhook_worst * 1000:.0f} ms)",
            )
            for a in self.attacks
            if a.attempts
        ]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)


#: The session's ledger (the `ledger` fixture); modules may take rows from it directly.
LEDGER = Ledger()


class WebhookProbe:
    """`async with WebhookProbe(base_url, attack):` — a signed Viber webhook every 100 ms."""

    def __init__(self, base_url: str, attack: Attack, interval: float = 0.1) -> None:
        self.url = f"{base_url}/webhooks/viber"
        self.attack = attack
        self.interval = interval
        self.worst = 0.0
        self.failures = 0
        self.answers = 0
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _probe_once(self, number: int) -> None:
        assert self._session is not None
        body = json.dumps(
            {
                "event": "seen",
                "timestamp": int(time.time() * 1000),
                "message_token": 9_000_000_000 + number,
                "user_id": "probe-user-0000000000==",
            }
        ).encode()
        headers = {
            "X-Viber-Content-Signature": viber_sign(SANDBOX_VIBER_TOKEN, body),
            "Content-Type": "application/json",
        }
        started = time.monotonic()
        try:
            async with self._session.post(
                self.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                await response.read()
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        self.worst = max(self.worst, time.monotonic() - started)
        self.failures += int(not ok)
        self.answers += 1

    async def _run(self) -> None:
        number = 0
        while True:
            number += 1
            await self._probe_once(number)
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> WebhookProbe:
        # Its own connection, opened before the flood: a flood must not starve the probe of
        # a client-side socket, only (if it could) the server of its capacity.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
        await self._probe_once(0)
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task is not None and self._session is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        await self._probe_once(-1)  # and right after the flood
        await self._session.close()
        self.attack.webhook_worst = max(self.attack.webhook_worst or 0.0, self.worst)
        self.attack.webhook_failures += self.failures
