"""The platforms' side of the fault scenarios: the four fakes, one customer per channel
(including a site widget visitor), the operator, and what each side received."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from sandbox.chaos import ChaosSettings
from sandbox.runner import RunningApp, start_app
from sandbox.server import (
    SANDBOX_FB_APP_SECRET,
    SANDBOX_FB_PAGE_TOKEN,
    SANDBOX_TELEGRAM_TOKEN,
    SANDBOX_VIBER_TOKEN,
    SANDBOX_VK_GROUP_ID,
    SANDBOX_VK_TOKEN,
    Sandbox,
)

#: The bridge and the fakes both run this many times faster than real time.
TIME_SCALE = 40.0
CHANNELS = ("telegram", "vk", "viber", "facebook", "site")
WIDGET = "shop"
WIDGET_ORIGIN = "https://shop.example.test"
FB_VERIFY_TOKEN = "faults-verify-token"
VK_SECRET = "faults-vk-secret"
WEBHOOK_SECRET = "faults-webhook-secret"
CUSTOMER_TAG = re.compile(r"Q(\d+)N(\d+)Z")
REPLY_TAG = re.compile(r"R(\d+)N(\d+)Z")


# --- the customers' side -----------------------------------------------------------------------


@dataclass
class Customer:
    """One person on one channel; `index` is the number in their tags."""

    channel: str
    index: int
    ident: str
    name: str
    token: str = ""  # the site visitor's token
    thread_id: int | None = None


class Platforms:
    """The four fakes on a free port (K times faster), the customers and the operator."""

    def __init__(self, time_scale: float = TIME_SCALE) -> None:
        self.time_scale = time_scale
        self.sandbox = Sandbox(time_scale=time_scale)
        self.telegram = self.sandbox.telegram
        self.group = self.sandbox.group_chat_id
        self.operator = self.sandbox.operators[0]
        self.bot = next(iter(self.telegram.world.bots.values()))
        # Platforms retry webhooks for an hour; give the fakes' deliverers room for a restart.
        for deliverer in (
            self.sandbox.vk.callbacks,
            self.sandbox.viber.deliverer,
            self.sandbox.facebook.deliverer,
        ):
            deliverer.max_attempts = 14
        self.customers: list[Customer] = []
        self._running: RunningApp | None = None
        self._pressed: set[tuple[int, str]] = set()
        self._accepting: asyncio.Task[None] | None = None
        self.bridge_url = ""  # where customers of the widget reach the bridge
        self._history: dict[int, list[dict[str, Any]]] = {}

    @property
    def url(self) -> str:
        assert self._running is not None
        return self._running.base_url

    async def start(self) -> None:
        self._running = await start_app(self.sandbox.build_app())

    async def stop(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        if self._running is not None:
            await self._running.runner.cleanup()
            self._running = None

    # chaos

    def chaos(self, settings: ChaosSettings | None) -> None:
        """Turn random faults on in every fake (each with its own seed), or off."""
        for offset, plan in enumerate(self.sandbox.chaos_plans().values()):
            seeded = None if settings is None else replace(settings, seed=settings.seed + offset)
            plan.configure(seeded)

    def injected(self) -> dict[str, Any]:
        return {name: plan.summary() for name, plan in self.sandbox.chaos_plans().items()}

    def timeouts_after_effect(self) -> int:
        return sum(
            sum(plan.timeouts_after_effect.values())
            for plan in self.sandbox.chaos_plans().values()
        )

    # the bridge's config

    def config(self, *, mode: str, database: str, port: int, public_url: str) -> dict[str, Any]:
        """A config with every channel on, pointing at these fakes."""
        base = self.url
        telegram: dict[str, Any] = {
            "token": SANDBOX_TELEGRAM_TOKEN,
            "api_url": f"{base}/telegram",
            "updates": "polling" if mode == "polling" else "webhook",
        }
        if mode == "webhook":
            telegram["webhook_secret"] = WEBHOOK_SECRET
        vk: dict[str, Any] = {
            "group": "support",
            "token": SANDBOX_VK_TOKEN,
            "group_id": SANDBOX_VK_GROUP_ID,
            "api_url": f"{base}/vk",
            "updates": "longpoll" if mode == "polling" else "callback",
        }
        if mode == "webhook":
            vk["secret"] = VK_SECRET
            vk["confirmation"] = self.sandbox.vk.state.confirmation_code
        return {
            "language": "en",
            "database": database,
            "http": {
                "host": "127.0.0.1",
                "port": port,
                "public_url": public_url,
                "widget_secret": "faults-widget-signing-key",
            },
            "telegram": telegram,
            "groups": {
                "support": {
                    "chat_id": self.group,
                    "mode": "topics",
                    "operators": [self.operator.id],
                    "dashboard": False,
                }
            },
            "channels": {
                "telegram": {"group": "support"},
                "vk": vk,
                "viber": {
                    "group": "support",
                    "token": SANDBOX_VIBER_TOKEN,
                    "name": "Shop",
                    "api_url": f"{base}/viber/pa",
                },
                "facebook": {
                    "group": "support",
                    "page_token": SANDBOX_FB_PAGE_TOKEN,
                    "app_secret": SANDBOX_FB_APP_SECRET,
                    "verify_token": FB_VERIFY_TOKEN,
                    "graph_url": f"{base}/facebook/v21.0",
                },
                "site": {
                    "widgets": {
                        WIDGET: {"group": "support", "title": "Shop", "origins": [WIDGET_ORIGIN]}
                    }
                },
            },
        }

    async def connect_webhooks(self, public_url: str, mode: str) -> None:
        """What an admin's set-webhooks (and Meta's verification) does, done on the fakes."""
        self.bridge_url = public_url
        sandbox = self.sandbox
        if mode == "webhook":
            await self.telegram.call(
                self.bot,
                "setWebhook",
                {"url": f"{public_url}/webhooks/telegram", "secret_token": WEBHOOK_SECRET},
            )
            if not await sandbox.vk.set_callback(f"{public_url}/webhooks/vk", VK_SECRET):
                raise RuntimeError("VK did not confirm the callback server")
        await sandbox.viber.set_webhook(f"{public_url}/webhooks/viber")
        if not await sandbox.facebook.verify_webhook(
            f"{public_url}/webhooks/facebook", FB_VERIFY_TOKEN
        ):
            raise RuntimeError("Facebook did not verify the webhook")

    # customers

    async def add_customers(self, per_channel: int = 1) -> list[Customer]:
        vk_ids = itertools.count(700001)
        for channel in CHANNELS:
            for _ in range(per_channel):
                index = len(self.customers)
                first, last = f"Cust{index}", "Faults"
                if channel == "telegram":
                    ident = str(self.telegram.add_user(first, last, language_code="en").id)
                elif channel == "vk":
                    ident = str(next(vk_ids))
                    self.sandbox.vk.add_user(int(ident), first, last)
                elif channel == "viber":
                    ident = self.sandbox.viber.add_user(name=f"{first} {last}", subscribed=True)
                elif channel == "facebook":
                    ident = self.sandbox.facebook.add_user(first_name=first, last_name=last)
                else:
                    ident = ""
                self.customers.append(Customer(channel, index, ident, f"{first} {last}"))
        return self.customers

    async def say(self, customer: Customer, text: str, *, patience: float = 60.0) -> None:
        """The customer writes; platforms that call webhooks retry as they do."""
        if customer.channel == "telegram":
            user = self.telegram.world.users[int(customer.ident)]
            self.telegram.user_says(user, text)
        elif customer.channel == "vk":
            await self.sandbox.vk.customer_message(int(customer.ident), text)
        elif customer.channel == "viber":
            await self.sandbox.viber.customer_message(customer.ident, text)
        elif customer.channel == "facebook":
            await self.sandbox.facebook.customer_message(customer.ident, text)
        else:
            await self._widget_say(customer, text, patience)

    async def _widget_say(self, customer: Customer, text: str, patience: float) -> None:
        """The widget's script: retries with the same message id until the bridge stored it."""
        client_id = uuid.uuid4().hex
        deadline = time.monotonic() + patience
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    if not customer.token:
                        customer.token = await self._widget_visitor(http)
                    async with http.post(
                        f"{self.bridge_url}/widget/{WIDGET}/messages",
                        json={"id": client_id, "text": text, "name": customer.name},
                        headers=self._widget_headers(customer),
                    ) as response:
                        if response.status == 200:
                            return
                        wait = float(response.headers.get("Retry-After", "0.2"))
                except (aiohttp.ClientError, TimeoutError):
                    wait = 0.2
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the widget could not store {text!r}")
                await asyncio.sleep(min(wait, 1.0))

    async def _widget_visitor(self, http: aiohttp.ClientSession) -> str:
        async with http.post(
            f"{self.bridge_url}/widget/{WIDGET}/visitors", headers={"Origin": WIDGET_ORIGIN}
        ) as response:
            response.raise_for_status()
            return str((await response.json())["token"])

    def _widget_headers(self, customer: Customer) -> dict[str, str]:
        return {"Origin": WIDGET_ORIGIN, "Authorization": f"Bearer {customer.token}"}

    async def widget_upload(self, customer: Customer, data: bytes, name: str) -> dict[str, Any]:
        """Upload a file as the widget does; returns the bridge's answer (status, body)."""
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            if not customer.token:
                customer.token = await self._widget_visitor(http)
            headers = {
                **self._widget_headers(customer),
                "Content-Type": "application/pdf",
                "X-File-Name": name,
            }
            async with http.post(
                f"{self.bridge_url}/widget/{WIDGET}/uploads", data=data, headers=headers
            ) as response:
                return {"status": response.status, "body": await response.text()}

    async def widget_history(self, customer: Customer) -> list[dict[str, Any]]:
        """The visitor's chat as the widget shows it (the last one read, when the bridge does
        not answer now)."""
        if not customer.token:
            return []
        timeout = aiohttp.ClientTimeout(total=3)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.get(
                    f"{self.bridge_url}/widget/{WIDGET}/history?after=0",
                    headers=self._widget_headers(customer),
                ) as response,
            ):
                if response.status == 200:
                    self._history[customer.index] = list((await response.json())["messages"])
        except (aiohttp.ClientError, TimeoutError):
            pass
        return self._history.get(customer.index, [])

    def deliveries(self) -> str:
        """How the platforms' webhook deliveries went (for a failing scenario's report)."""
        lines = []
        named = {
            "vk": self.sandbox.vk.callbacks,
            "viber": self.sandbox.viber.deliverer,
            "facebook": self.sandbox.facebook.deliverer,
        }
        for name, deliverer in named.items():
            done = sum(1 for d in deliverer.deliveries if d.succeeded)
            open_ = [d for d in deliverer.deliveries if not d.succeeded]
            answers = Counter(
                str(a.status or a.error)[:60] for d in deliverer.deliveries for a in d.attempts
            )
            lines.append(
                f"{name}: {done} delivered, {len(open_)} not (yet); answers {dict(answers)}"
            )
        feed = self.telegram.feed(self.bot)
        lines.append(
            f"telegram: {feed.delivered} webhook deliveries, {feed.dropped} dropped, "
            f"{len(feed.pending)} pending"
        )
        return "\n".join(lines)

    # the operator

    def start_accepting(self) -> None:
        """The operator accepts every new conversation's card as soon as it shows."""
        self._accepting = asyncio.get_running_loop().create_task(self._accept_loop())

    async def _accept_loop(self) -> None:
        while True:
            for message in self.telegram.chat_view(self.group):
                for data in message.callback_data:
                    key = (message.message_id, data)
                    if data.startswith("acc") and key not in self._pressed:
                        self._pressed.add(key)
                        with contextlib.suppress(ValueError):
                            self.telegram.press(
                                self.operator, self.group, message.message_id, data
                            )
            await asyncio.sleep(0.05)

    def find_topics(self) -> None:
        for topic in self.telegram.topics(self.group):
            if topic.deleted:
                continue
            for customer in self.customers:
                if topic.name.startswith(customer.name + " "):
                    customer.thread_id = topic.thread_id

    def reply(self, customer: Customer, text: str) -> None:
        assert customer.thread_id is not None, f"no topic for {customer.name}"
        self.telegram.user_says(self.operator, text, chat_id=self.group, topic=customer.thread_id)

    def reply_document(self, customer: Customer, data: bytes, name: str) -> None:
        assert customer.thread_id is not None
        self.telegram.user_sends_document(
            self.operator, data, name, chat_id=self.group, topic=customer.thread_id
        )

    # what arrived

    def in_topics(self) -> Counter[str]:
        """Customer tags shown in the forum's topics, with how many messages show each."""
        seen: Counter[str] = Counter()
        for message in self.telegram.chat_view(self.group):
            if message.topic is None:
                continue
            text = f"{message.text or ''} {message.caption or ''}"
            seen.update({f"Q{c}N{s}Z" for c, s in CUSTOMER_TAG.findall(text)})
        return seen

    async def at_customers(self) -> Counter[str]:
        """Reply tags each customer received, with how many messages carry each."""
        seen: Counter[str] = Counter()
        for customer in self.customers:
            for text in await self._received_texts(customer):
                seen.update({f"R{c}N{s}Z" for c, s in REPLY_TAG.findall(text)})
        return seen

    async def _received_texts(self, customer: Customer) -> list[str]:
        sandbox = self.sandbox
        if customer.channel == "telegram":
            user_id = int(customer.ident)
            with contextlib.suppress(Exception):
                return [
                    f"{m.text or ''} {m.caption or ''}"
                    for m in self.telegram.chat_view(user_id, bot=self.bot)
                    if m.from_id != user_id
                ]
            return []
        if customer.channel == "vk":
            return [str(m.get("text", "")) for m in sandbox.vk.received(int(customer.ident))]
        if customer.channel == "viber":
            return [
                json.dumps(m) for m in sandbox.viber.sent if m.get("receiver") == customer.ident
            ]
        if customer.channel == "facebook":
            return [json.dumps(m) for m in sandbox.facebook.received(customer.ident)]
        return [json.dumps(m) for m in await self.widget_history(customer) if from_operator(m)]


def from_operator(message: dict[str, Any]) -> bool:
    return message.get("from") == "operator"
