"""The customer simulator: people on Telegram, VK, Viber and Facebook who write to the company.

Each platform's fake already knows what the business sent to a person (`received`); Viber and
Facebook do not keep what the person wrote, so the simulator keeps one transcript per customer
and appends the business's messages to it as it discovers them (before every read and write),
which keeps both sides in order.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.server import Sandbox

PLATFORMS = ("telegram", "vk", "viber", "facebook")
MAX_TEXT = 4000
MAX_NAME = 64

#: Who writes first in a fresh demo, per platform.
SEED_CUSTOMERS = {
    "telegram": ["Maria Ivanova", "Alex Chen"],
    "vk": ["Ivan Petrov", "Olga Smirnova"],
    "viber": ["Taras Kovalenko", "Daria Melnyk"],
    "facebook": ["John Smith", "Emma Brown"],
}


class DemoInputError(ValueError):
    """A request the simulator refuses; the message is shown to the person using the demo."""


@dataclass(slots=True)
class Line:
    """One message in a customer's chat, as the customer sees it."""

    seq: int
    side: str  # customer | business
    text: str
    kind: str = "text"  # text | photo | document | ...
    time: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "side": self.side,
            "text": self.text,
            "kind": self.kind,
            "time": self.time,
        }


@dataclass(slots=True)
class Customer:
    platform: str
    id: str
    name: str
    lines: list[Line] = field(default_factory=list)
    seen_business: int = 0  # how many of the fake's `received` entries are in `lines`

    def summary(self) -> dict[str, Any]:
        return {"platform": self.platform, "id": self.id, "name": self.name}


class CustomerSimulator:
    """Create customers on each fake and write as them; read what they received."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.customers: dict[str, dict[str, Customer]] = {p: {} for p in PLATFORMS}
        self._seq = itertools.count(1)
        self._vk_ids = itertools.count(500001)

    def seed(self) -> None:
        for platform, names in SEED_CUSTOMERS.items():
            for name in names:
                self.create(platform, name)

    # --- people ------------------------------------------------------------------------------

    def create(self, platform: str, name: str) -> Customer:
        """A new person on `platform` named `name` ("First Last")."""
        platform = _platform(platform)
        name = " ".join(str(name or "").split())
        if not name:
            raise DemoInputError("give the customer a name")
        if len(name) > MAX_NAME:
            raise DemoInputError(f"a name has at most {MAX_NAME} characters")
        first, _, last = name.partition(" ")
        if platform == "telegram":
            user = self.sandbox.telegram.add_user(first, last or None, language_code="en")
            customer_id = str(user.id)
        elif platform == "vk":
            customer_id = str(next(self._vk_ids))
            self.sandbox.vk.add_user(int(customer_id), first, last)
        elif platform == "viber":
            customer_id = self.sandbox.viber.add_user(name=name, subscribed=True)
        else:
            customer_id = self.sandbox.facebook.add_user(first_name=first, last_name=last)
        customer = Customer(platform, customer_id, name)
        self.customers[platform][customer_id] = customer
        return customer

    def get(self, platform: str, customer_id: str) -> Customer:
        customer = self.customers[_platform(platform)].get(str(customer_id))
        if customer is None:
            raise DemoInputError(f"no {platform} customer {customer_id}")
        return customer

    def listing(self) -> dict[str, list[dict[str, Any]]]:
        return {p: [c.summary() for c in self.customers[p].values()] for p in PLATFORMS}

    # --- writing and reading -----------------------------------------------------------------

    async def say(self, platform: str, customer_id: str, text: str) -> None:
        """The customer writes `text` to the company on their platform."""
        customer = self.get(platform, customer_id)
        text = str(text or "").strip()
        if not text:
            raise DemoInputError("write something first")
        if len(text) > MAX_TEXT:
            raise DemoInputError(f"a message has at most {MAX_TEXT} characters")
        self._sync(customer)
        fakes = self.sandbox
        try:
            if customer.platform == "telegram":
                user = fakes.telegram.world.users[int(customer.id)]
                fakes.telegram.user_says(user, text)
            elif customer.platform == "vk":
                await fakes.vk.customer_message(int(customer.id), text)
            elif customer.platform == "viber":
                await fakes.viber.customer_message(customer.id, text)
            else:
                await fakes.facebook.customer_message(customer.id, text)
        except RuntimeError as error:  # Viber/Facebook: no webhook registered
            raise DemoInputError(
                f"{customer.platform} is not connected to the bridge in this build ({error})"
            ) from error
        if customer.platform in ("viber", "facebook"):
            customer.lines.append(Line(next(self._seq), "customer", text))

    def transcript(self, platform: str, customer_id: str) -> list[dict[str, Any]]:
        """The customer's chat with the company, oldest first."""
        customer = self.get(platform, customer_id)
        if customer.platform == "telegram":
            return self._telegram_lines(customer)
        if customer.platform == "vk":
            return self._vk_lines(customer)
        self._sync(customer)
        return [line.as_dict() for line in customer.lines]

    def _sync(self, customer: Customer) -> None:
        if customer.platform == "viber":
            received = self.sandbox.viber.received(customer.id)
            render = _viber_text
        elif customer.platform == "facebook":
            received = self.sandbox.facebook.received(customer.id)
            render = _facebook_text
        else:
            return
        for entry in received[customer.seen_business :]:
            kind, text = render(entry)
            customer.lines.append(Line(next(self._seq), "business", text, kind))
        customer.seen_business = len(received)

    def _telegram_lines(self, customer: Customer) -> list[dict[str, Any]]:
        telegram = self.sandbox.telegram
        user_id = int(customer.id)
        bot = next(iter(telegram.world.bots.values()))
        chat = telegram.world.private.get((bot.id, user_id))
        if chat is None:  # the person has not opened the chat with the bot yet
            return []
        lines = []
        for message in sorted(chat.messages.values(), key=lambda m: m.message_id):
            if message.deleted:
                continue
            text = message.text if message.text is not None else (message.caption or "")
            if message.kind != "text" and not text:
                text = f"[{message.kind}]"
            side = "customer" if message.from_id == user_id else "business"
            line = Line(message.message_id, side, text, message.kind, float(message.date))
            lines.append(line.as_dict())
        return lines

    def _vk_lines(self, customer: Customer) -> list[dict[str, Any]]:
        user_id = int(customer.id)
        lines = []
        for message in self.sandbox.vk.state.messages.values():
            if message.get("peer_id") != user_id:
                continue
            kinds = [a.get("type", "file") for a in message.get("attachments") or []]
            text = message.get("text") or " ".join(f"[{kind}]" for kind in kinds)
            side = "business" if message.get("out") else "customer"
            kind = kinds[0] if kinds else "text"
            lines.append(
                Line(int(message["id"]), side, text, kind, float(message["date"])).as_dict()
            )
        return lines


def _platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise DemoInputError(f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)}")
    return platform


def _viber_text(entry: dict[str, Any]) -> tuple[str, str]:
    kind = str(entry.get("type", "text"))
    if kind == "text":
        return kind, str(entry.get("text", ""))
    label = entry.get("text") or entry.get("file_name") or entry.get("media") or ""
    return kind, f"[{kind}] {label}".strip()


def _facebook_text(entry: dict[str, Any]) -> tuple[str, str]:
    message = entry.get("message") or {}
    if "text" in message:
        return "text", str(message["text"])
    attachment = message.get("attachment") or {}
    kind = str(attachment.get("type", "file"))
    url = (attachment.get("payload") or {}).get("url", "")
    return kind, f"[{kind}] {url}".strip()
