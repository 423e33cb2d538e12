"""How many widget WebSockets may be open, and the `auth` message that opens one.

Tokens are free to mint and a socket holds a file descriptor for as long as it stays open,
so one address could otherwise open sockets until the process runs out of descriptors and
every webhook with it. `SocketCaps` counts the open sockets of this process:

- `MAX_PER_VISITOR` (5) per visitor of a widget: tabs of one browser;
- `MAX_PER_ADDRESS` (20) per client address (`adapter.client_address`, which believes
  X-Forwarded-For only from `http.trusted_proxies`): an office or a family behind one NAT;
- `MAX_TOTAL` (2000) in all, across every widget of the process, and never more than half
  the process's open-file limit (`ulimit -n`; systemd's default soft limit is 1024, which
  gives 512): the other half stays for the database, webhooks and outgoing calls.

The address and total caps are checked before the upgrade: over them, the handshake gets 429
with Retry-After (10 s for an address, 30 s in all) and no socket is opened. The total cap
answers 429 rather than 503 on purpose: a full process is the cap working, and a 5xx would
page whoever watches the error rate (and count as a failure in the abuse table). A socket
counts from its upgrade, authenticated or not; one that sends no `{"type": "auth", "token":
...}` within `AUTH_TIMEOUT` seconds is closed (`CLOSE_POLICY`), so it cannot hold a slot. The
visitor is only known after `auth`, so the per-visitor cap closes the socket then
(`CLOSE_TRY_LATER`). A refused token closes it with `CLOSE_FORBIDDEN` and the reason (the
widget starts afresh). With several processes each one counts on its own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from aiohttp import WSMsgType, web

from adapters.site.tokens import TokenCheck, TokenState
from bridge.web.untrusted import NotJson, parse_json

MAX_PER_VISITOR = 5
MAX_PER_ADDRESS = 20
MAX_TOTAL = 2000
#: Seconds a socket may stay open without a valid `auth` message.
AUTH_TIMEOUT = 5.0
#: What Retry-After suggests over a visitor's or an address's cap (a tab closes), and in all.
RETRY_SOON = 10
RETRY_TOTAL = 30

#: Close codes: a refused token (4000-4999 is the application's range), a protocol breach
#: (no auth in time, or something else first), over a cap (RFC 6455 registry: "try again later").
CLOSE_FORBIDDEN = 4403
CLOSE_POLICY = 1008
CLOSE_TRY_LATER = 1013

log = logging.getLogger(__name__)


def default_max_total() -> int:
    """`MAX_TOTAL`, or half the open-file limit of this process when that is lower."""
    try:
        import resource
    except ImportError:  # not on a Unix
        return MAX_TOTAL
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft // 2 >= MAX_TOTAL:
        return MAX_TOTAL
    log.info("site: at most %d open widget sockets (half of ulimit -n %d)", soft // 2, soft)
    return max(1, soft // 2)


#: The adapter's verdict on a token (`tokens.check_token` with its key and widget).
Check = Callable[[str | None], TokenCheck]


class SocketRefused(Exception):
    """Over a cap: when to retry, and why (a 429 before the upgrade, a close 1013 after)."""

    def __init__(self, retry_after: int, reason: str) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.reason = reason

    def http(self) -> web.HTTPException:
        return web.HTTPTooManyRequests(
            headers={"Retry-After": str(self.retry_after)}, text=self.reason
        )


class SocketCaps:
    """Open sockets per visitor, per address and in all; one per process, shared by widgets.

    `max_total` etc. are plain attributes: a test may lower them on a running service.
    """

    def __init__(
        self,
        *,
        max_per_visitor: int = MAX_PER_VISITOR,
        max_per_address: int = MAX_PER_ADDRESS,
        max_total: int | None = None,
        auth_timeout: float = AUTH_TIMEOUT,
    ) -> None:
        self.max_per_visitor = max_per_visitor
        self.max_per_address = max_per_address
        self.max_total = default_max_total() if max_total is None else max_total
        self.auth_timeout = auth_timeout
        self._addresses: Counter[str] = Counter()
        self._visitors: Counter[str] = Counter()
        self.total = 0

    def admit(self, address: str) -> Slot:
        """A slot for one more socket from `address`; SocketRefused over a cap. No I/O."""
        if self.total >= self.max_total:
            raise SocketRefused(RETRY_TOTAL, "the chat is too busy, retry later")
        if self._addresses[address] >= self.max_per_address:
            raise SocketRefused(
                RETRY_SOON,
                f"too many open chat connections from this address "
                f"(at most {self.max_per_address})",
            )
        self._addresses[address] += 1
        self.total += 1
        return Slot(self, address)

    def _claim(self, visitor: str) -> None:
        if self._visitors[visitor] >= self.max_per_visitor:
            raise SocketRefused(
                RETRY_SOON, f"too many open chat tabs (at most {self.max_per_visitor}), close one"
            )
        self._visitors[visitor] += 1

    def _release(self, address: str, visitor: str | None) -> None:
        self.total -= 1
        _decrement(self._addresses, address)
        if visitor is not None:
            _decrement(self._visitors, visitor)


class Slot:
    """One admitted socket; `bind` it to its visitor once known, `release` it when closed."""

    def __init__(self, caps: SocketCaps, address: str) -> None:
        self._caps = caps
        self.address = address
        self.visitor: str | None = None
        self._released = False

    def bind(self, visitor: str) -> None:
        """Count this socket against `visitor` (a widget-qualified key); SocketRefused over."""
        if self.visitor is not None:
            raise RuntimeError("this socket's visitor is known already")
        self._caps._claim(visitor)
        self.visitor = visitor

    def release(self) -> None:
        """Idempotent."""
        if not self._released:
            self._released = True
            self._caps._release(self.address, self.visitor)


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


async def receive_auth(ws: web.WebSocketResponse, check: Check, within: float) -> TokenCheck:
    """Wait for the first message, which must be `{"type": "auth", "token": ...}`.

    Returns the verdict on an accepted token. Otherwise closes the socket (no auth in time,
    another message first: CLOSE_POLICY; a refused token: CLOSE_FORBIDDEN with why) and
    returns the refusing verdict.
    """
    try:
        message = await ws.receive(timeout=within)
    except TimeoutError:
        await ws.close(code=CLOSE_POLICY, message=b"send auth within %g s" % within)
        return TokenCheck(TokenState.INVALID)
    if message.type != WSMsgType.TEXT:
        if not ws.closed:
            await ws.close(code=CLOSE_POLICY, message=b"the first message must be auth")
        return TokenCheck(TokenState.INVALID)
    try:
        body = parse_json(message.data)
    except NotJson:
        body = None
    if not isinstance(body, dict) or body.get("type") != "auth":
        await ws.close(code=CLOSE_POLICY, message=b"the first message must be auth")
        return TokenCheck(TokenState.INVALID)
    token = body.get("token")
    checked = check(token if isinstance(token, str) else None)
    if not checked.accepted:
        await ws.close(code=CLOSE_FORBIDDEN, message=checked.refusal.encode())
    return checked
