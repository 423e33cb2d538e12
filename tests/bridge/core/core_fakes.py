"""A fake desk and a fake customer outlet for core tests: they record what the core asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeDesk:
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def post_card(self, session, conversation, customer) -> None:
        self.calls.append(("post_card", conversation.id))

    async def update_card(self, session, conversation, customer) -> None:
        self.calls.append(("update_card", (conversation.id, conversation.state)))

    async def open_place(self, session, conversation, customer) -> None:
        self.calls.append(("open_place", conversation.id))

    async def relay_inbound(self, session, conversation, customer, message) -> None:
        self.calls.append(("relay_inbound", message.text))

    async def relay_edit(self, session, conversation, customer, message) -> None:
        self.calls.append(("relay_edit", message.text))

    async def notice(self, session, conversation, html, *, quiet=False) -> None:
        self.calls.append(("notice", html))

    async def close_place(self, session, conversation) -> None:
        self.calls.append(("close_place", conversation.id))

    async def notify_operator(self, session, operator_id, html) -> None:
        self.calls.append(("notify_operator", (operator_id, html)))


@dataclass
class FakeOutlet:
    sent: list[tuple[str, Any]] = field(default_factory=list)

    async def enqueue_reply(
        self, session, conversation, customer, message, outbound, *, html=None
    ) -> None:
        self.sent.append(("reply", html or outbound.text))

    async def enqueue_text(self, session, conversation, customer, text) -> None:
        self.sent.append(("text", text))
