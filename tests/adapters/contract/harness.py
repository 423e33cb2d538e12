"""The whole bridge, as `run` builds it, against every fake platform in-process.

`running_bridge()` starts the fake Telegram, VK, Viber and Facebook under one test server and
the real `Service` that `build_service(config)` builds — every channel on (Telegram customers,
VK, Viber, Facebook, one site widget) — on a free port that is also its `public_url`, so the
fakes call its webhooks and fetch the operators' files from it. `Customer` drivers play one
customer per platform behind the same small interface, which the contract suite runs over.

The platforms come from the registry given to `running_bridge` (default: the registry of
app/platforms.py), with `extra_channels` adding their sections under `channels:`: a test adds a
platform of its own that way (tests/adapters/contract/toy.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

from app.config import merged, parse_config
from app.platforms import registry
from app.service import Service
from app.wiring import build_service
from botapi.updates import UpdatesIntake
from bridge.platforms import Registry
from config import BridgeConfig
from sandbox.facebook import FakeFacebook
from sandbox.runner import free_port, serving
from sandbox.telegram.limits import TelegramLimits
from sandbox.telegram.server import FakeTelegram
from sandbox.viber import FakeViber
from sandbox.viber.fake import sign as viber_sign
from sandbox.vk import FakeVK

TOKEN = "123456:TEST-token_for_the_fake"
TG_SECRET = "webhook-secret_123"
VK_TOKEN, VK_GROUP, VK_SECRET = "vk-token", 77, "vk-callback-secret"
VIBER_TOKEN = "viber-token-for-contract"
FB_PAGE, FB_SECRET, FB_VERIFY = "fb-page-token", "fb-app-secret", "fb-verify-token"
WIDGET, ORIGIN = "shop", "http://shop.test:8000"
WIDGET_SECRET = "widget-secret-for-contract-tests-0123"
SCALE = 20.0


async def eventually(check: Callable[[], Any], wait: float = 10.0, what: str = "") -> Any:
    """Wait until `check()` returns something truthy (and return it), or fail."""
    deadline = time.monotonic() + wait
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (AssertionError, IndexError, ValueError, KeyError) as exc:
            last = exc
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")


@dataclass
class Bridge:
    """The running bridge and the fakes around it."""

    config: BridgeConfig
    service: Service
    url: str
    telegram: FakeTelegram
    vk: FakeVK
    viber: FakeViber
    facebook: FakeFacebook
    group_id: int
    ann: Any
    http: aiohttp.ClientSession
    vk_updates: str
    platforms: Registry

    def cards(self) -> list[Any]:
        return [m for m in self.telegram.chat_view(self.group_id) if m.kind == "photo"]

    def card(self) -> Any:
        return self.cards()[-1]

    def card_colour(self) -> tuple[int, int, int]:
        """The colour of the newest card's avatar circle (a pixel left of the initials)."""
        data = self.telegram.world.files[self.card().file_id].data
        with Image.open(io.BytesIO(data)) as image:
            rgb = image.convert("RGB")
            return rgb.getpixel((rgb.width // 8 + 4, rgb.height // 2))

    async def accept(self) -> int:
        """Ann accepts the newest card; returns the topic's thread id once it exists."""
        card = await eventually(lambda: self.card() if self.card().callback_data else None)
        self.telegram.press(self.ann, self.group_id, card.message_id, card.callback_data[0])
        topics = await eventually(lambda: self.telegram.topics(self.group_id), what="a topic")
        return topics[-1].thread_id

    def topic_texts(self, thread_id: int) -> list[str]:
        return [
            (m.text or m.caption or "")
            for m in self.telegram.chat_view(self.group_id, topic=thread_id)
        ]

    def operator_says(self, thread_id: int, text: str) -> None:
        self.telegram.user_says(self.ann, text, chat_id=self.group_id, topic=thread_id)

    def operator_sends_photo(self, thread_id: int) -> None:
        self.telegram.user_sends_photo(self.ann, chat_id=self.group_id, topic=thread_id)

    async def restart(self) -> None:
        """Stop the service and start a fresh one on the same port: only the database (and the
        fakes) carry over, as after a restart of the process."""
        await self.service.stop()
        self.service = await start_service(self.config, self.service.port, self.platforms)

    async def stored_messages(self) -> int:
        return (await self.stored_rows())["messages"]

    async def stored_rows(self) -> dict[str, int]:
        """How many messages, customers and conversations the database holds now."""
        from sqlalchemy import func, select

        from storage.db import create_engine
        from storage.models import Conversation, Customer, Message

        engine = create_engine(self.config.database)
        tables = {"messages": Message, "customers": Customer, "conversations": Conversation}
        try:
            async with engine.connect() as connection:
                return {
                    name: int(await connection.scalar(select(func.count()).select_from(table)))
                    for name, table in tables.items()
                }
        finally:
            await engine.dispose()


@asynccontextmanager
async def running_bridge(
    database: str,
    *,
    vk_updates: str = "callback",
    platforms: Registry | None = None,
    extra_channels: Mapping[str, dict[str, Any]] | None = None,
    changes: Mapping[str, Any] | None = None,
) -> AsyncIterator[Bridge]:
    """The bridge with every platform of `platforms` on; `extra_channels` adds sections;
    `changes` is merged into the config (e.g. `{"close": {"rating": True}}`)."""
    platforms = registry() if platforms is None else platforms
    telegram = FakeTelegram(limits=TelegramLimits(time_scale=SCALE))
    telegram.add_bot(TOKEN, username="talker_bot")
    ann = telegram.add_user("Ann", "Operator", username="ann")
    group_id = telegram.create_group("Support", members=[ann], forum=True, supergroup=True)
    vk = FakeVK(group_id=VK_GROUP, token=VK_TOKEN, time_scale=0.05)
    viber = FakeViber(token=VIBER_TOKEN, time_scale=0.01)
    facebook = FakeFacebook(page_token=FB_PAGE, app_secret=FB_SECRET, time_scale=0.01)
    root = web.Application(client_max_size=60 * 1024 * 1024)
    for prefix, fake in (("/telegram", telegram), ("/vk", vk), ("/viber", viber)):
        root.add_subapp(prefix, fake.app)
    root.add_subapp("/facebook", facebook.app)
    async with serving(root) as fakes:
        vk.public_url = fakes.base_url + "/vk"
        viber.public_url = fakes.base_url + "/viber/pa"
        facebook.public_url = fakes.base_url + "/facebook"
        vk.state.confirmation_code = "confirm-77"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = parse_config(
            merged(
                {
                    "language": "en",
                    "database": database,
                    "http": {
                        "host": "127.0.0.1",
                        "port": port,
                        "public_url": url,
                        "widget_secret": WIDGET_SECRET,
                    },
                    "telegram": {
                        "token": TOKEN,
                        "api_url": fakes.base_url + "/telegram",
                        "updates": "webhook",
                        "webhook_secret": TG_SECRET,
                    },
                    "groups": {"support": {"chat_id": group_id, "mode": "topics"}},
                    "channels": {
                        "telegram": {"group": "support"},
                        "vk": {
                            "group": "support",
                            "token": VK_TOKEN,
                            "group_id": VK_GROUP,
                            "api_url": vk.public_url,
                            "updates": vk_updates,
                            "secret": VK_SECRET,
                            "confirmation": "confirm-77",
                        },
                        "viber": {
                            "group": "support",
                            "token": VIBER_TOKEN,
                            "name": "Shop",
                            "api_url": viber.public_url,
                        },
                        "facebook": {
                            "group": "support",
                            "page_token": FB_PAGE,
                            "app_secret": FB_SECRET,
                            "verify_token": FB_VERIFY,
                            "graph_url": facebook.public_url + "/v21.0",
                        },
                        "site": {
                            "widgets": {
                                WIDGET: {"group": "support", "title": "Shop", "origins": [ORIGIN]}
                            }
                        },
                        **(extra_channels or {}),
                    },
                },
                changes or {},
            ),
            source="contract",
            platforms=platforms,
        )
        bridge: Bridge | None = None
        service = await start_service(config, port, platforms)
        try:
            async with aiohttp.ClientSession() as http:
                bridge = Bridge(
                    config,
                    service,
                    url,
                    telegram,
                    vk,
                    viber,
                    facebook,
                    group_id,
                    ann,
                    http,
                    vk_updates,
                    platforms,
                )
                await connect_webhooks(bridge)
                yield bridge
        finally:
            await (bridge.service if bridge is not None else service).stop()


async def start_service(
    config: BridgeConfig, port: int, platforms: Registry | None = None
) -> Service:
    """The real service with every component `run` builds, started on `port`."""
    service = build_service(config, time_scale=SCALE, port=port, platforms=platforms)
    for component in service.components:
        if isinstance(component, UpdatesIntake):
            component.poll_timeout = 1
    await service.start()
    return service


async def connect_webhooks(bridge: Bridge) -> None:
    """What `set-webhooks` and the admin do: every platform points at the running bridge."""
    from app.commands.set_webhooks import register_webhooks

    report = await register_webhooks(bridge.config, bridge.platforms)
    assert report.ok, report.lines
    assert await bridge.facebook.verify_webhook(f"{bridge.url}/webhooks/facebook", FB_VERIFY)
    if bridge.vk_updates == "callback":
        servers = bridge.vk.state.callback_servers.values()
        await eventually(lambda: servers and all(s.status == "ok" for s in servers), what="VK")


# ---- one customer per platform, behind one interface -----------------------------------------


@dataclass
class Customer:
    """A customer on one platform; subclasses drive that platform's fake."""

    bridge: Bridge
    name: str = "Maria Lopez"
    sent: list[Any] = field(default_factory=list)
    channel: str = ""
    can_be_unreachable: bool = True
    media_out: bool = True

    def __post_init__(self) -> None:
        """Subclasses register the customer with their platform's fake here."""

    async def says(self, text: str) -> None:
        raise NotImplementedError

    async def sends_photo(self) -> None:
        raise NotImplementedError

    def received_texts(self) -> list[str]:
        raise NotImplementedError

    def received_media(self) -> int:
        raise NotImplementedError

    async def redeliver_last(self) -> int:
        """Deliver the last message again; the bridge's HTTP status."""
        raise NotImplementedError

    async def forged(self) -> int:
        """A delivery with a wrong signature, secret or token; the bridge's HTTP status."""
        raise NotImplementedError

    async def becomes_unreachable(self) -> None:
        raise NotImplementedError

    def offered_choices(self) -> list[str]:
        """The labels of the buttons of the newest message that offered some (in its
        platform's controls: inline keyboard, keyboard, quick replies, the widget's stars)."""
        raise NotImplementedError

    async def press(self, label: str) -> None:
        """Press the button labelled `label` of the newest message that offered it."""
        raise NotImplementedError

    async def rate(self, stars: int) -> None:
        """Press the `stars`-th star of the newest rating request (labels ★ … ★★★★★)."""
        await self.press("★" * stars)

    async def press_forged(self, action: str) -> None:
        """A press carrying `action` whatever the buttons say (a modified client)."""
        raise NotImplementedError

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        async with self.bridge.http.post(self.bridge.url + path, data=body, headers=headers) as r:
            await r.read()
            return r.status


def last_attempt_status(delivery: Any) -> int | None:
    return delivery.attempts[-1].status if delivery.attempts else None


class VkCustomer(Customer):
    user_id = 501

    def __post_init__(self) -> None:
        first, last = self.name.split()
        self.bridge.vk.add_user(self.user_id, first, last)
        self.channel = "vk"

    async def says(self, text: str) -> None:
        self.sent.append(await self.bridge.vk.customer_message(self.user_id, text))

    async def sends_photo(self) -> None:
        self.sent.append(await self.bridge.vk.customer_message(self.user_id, "", ["photo"]))

    def received_texts(self) -> list[str]:
        return [m.get("text", "") for m in self.bridge.vk.received(self.user_id)]

    def received_media(self) -> int:
        return sum(len(m.get("attachments") or []) for m in self.bridge.vk.received(self.user_id))

    def _event_body(self, secret: str) -> bytes:
        event = {
            "type": "message_new",
            "group_id": VK_GROUP,
            "event_id": "e" + "1" * 39,
            "v": "5.199",
            "object": {"message": self.sent[-1], "client_info": {}},
            "secret": secret,
        }
        return json.dumps(event).encode()

    async def redeliver_last(self) -> int:
        body = json.loads(self._event_body(VK_SECRET))
        body["event_id"] = "f" * 40  # a new delivery id: the message id must still dedupe
        return await self.post("/webhooks/vk", json.dumps(body).encode(), {})

    async def forged(self) -> int:
        return await self.post("/webhooks/vk", self._event_body("wrong-secret"), {})

    async def becomes_unreachable(self) -> None:
        await self.bridge.vk.customer_denies(self.user_id)

    def offered_choices(self) -> list[str]:
        for message in reversed(self.bridge.vk.received(self.user_id)):
            rows = (message.get("keyboard") or {}).get("buttons") or []
            if rows:
                return [b["action"]["label"] for row in rows for b in row]
        return []

    async def press(self, label: str) -> None:
        self.sent.append(await self.bridge.vk.customer_presses(self.user_id, label))

    async def press_forged(self, action: str) -> None:
        payload = json.dumps({"action": action})
        self.sent.append(await self.bridge.vk.customer_message(self.user_id, "★", payload=payload))


class ViberCustomer(Customer):
    def __post_init__(self) -> None:
        self.user_id = self.bridge.viber.add_user(name=self.name)
        self.channel = "viber"

    async def says(self, text: str) -> None:
        delivery = await self.bridge.viber.customer_message(self.user_id, text)
        assert delivery.succeeded, delivery.attempts
        self.sent.append(delivery)

    async def sends_photo(self) -> None:
        message = {"type": "picture", "media": self.bridge.vk.public_url + "/_files/x.png"}
        self.sent.append(await self.bridge.viber.customer_message(self.user_id, message=message))

    def received_texts(self) -> list[str]:
        return [m.get("text", "") for m in self.bridge.viber.received(self.user_id)]

    def received_media(self) -> int:
        return sum(1 for m in self.bridge.viber.received(self.user_id) if m["type"] != "text")

    async def redeliver_last(self) -> int:
        body = self.sent[-1].body
        headers = {"X-Viber-Content-Signature": viber_sign(VIBER_TOKEN, body)}
        return await self.post("/webhooks/viber", body, headers)

    async def forged(self) -> int:
        body = self.sent[-1].body
        headers = {"X-Viber-Content-Signature": viber_sign("not-the-token", body)}
        return await self.post("/webhooks/viber", body, headers)

    async def becomes_unreachable(self) -> None:
        await self.bridge.viber.customer_unsubscribes(self.user_id)

    def offered_choices(self) -> list[str]:
        for message in reversed(self.bridge.viber.received(self.user_id)):
            buttons = (message.get("keyboard") or {}).get("Buttons") or []
            if buttons:
                return [b.get("Text", "") for b in buttons]
        return []

    async def press(self, label: str) -> None:
        delivery = await self.bridge.viber.customer_presses(self.user_id, label)
        assert delivery.succeeded, delivery.attempts
        self.sent.append(delivery)

    async def press_forged(self, action: str) -> None:
        delivery = await self.bridge.viber.customer_message(self.user_id, action)
        assert delivery.succeeded, delivery.attempts
        self.sent.append(delivery)


class FacebookCustomer(Customer):
    def __post_init__(self) -> None:
        first, last = self.name.split()
        self.user_id = self.bridge.facebook.add_user(first_name=first, last_name=last)
        self.channel = "facebook"

    async def says(self, text: str) -> None:
        delivery = await self.bridge.facebook.customer_message(self.user_id, text)
        assert delivery.succeeded, delivery.attempts
        self.sent.append(delivery)

    async def sends_photo(self) -> None:
        attachment = {"type": "image", "url": self.bridge.vk.public_url + "/_files/x.png"}
        self.sent.append(
            await self.bridge.facebook.customer_message(self.user_id, attachments=[attachment])
        )

    def received_texts(self) -> list[str]:
        return [m["message"].get("text", "") for m in self.bridge.facebook.received(self.user_id)]

    def received_media(self) -> int:
        return sum(
            1 for m in self.bridge.facebook.received(self.user_id) if "attachment" in m["message"]
        )

    def _signed(self, body: bytes, secret: str) -> dict[str, str]:
        from sandbox.facebook.fake import signature

        return {"X-Hub-Signature-256": signature(secret, body)}

    async def redeliver_last(self) -> int:
        body = self.sent[-1].body
        return await self.post("/webhooks/facebook", body, self._signed(body, FB_SECRET))

    async def forged(self) -> int:
        body = self.sent[-1].body
        return await self.post("/webhooks/facebook", body, self._signed(body, "wrong"))

    async def becomes_unreachable(self) -> None:
        self.bridge.facebook.customer_blocks(self.user_id)

    def offered_choices(self) -> list[str]:
        for message in reversed(self.bridge.facebook.received(self.user_id)):
            replies = message["message"].get("quick_replies") or []
            if replies:
                return [r["title"] for r in replies]
        return []

    async def press(self, label: str) -> None:
        delivery = await self.bridge.facebook.customer_quick_reply(self.user_id, label)
        assert delivery.succeeded, delivery.attempts
        self.sent.append(delivery)

    async def press_forged(self, action: str) -> None:
        delivery = await self.bridge.facebook.customer_quick_reply(
            self.user_id, "★", payload=action
        )
        assert delivery.succeeded, delivery.attempts
        self.sent.append(delivery)


class TelegramCustomer(Customer):
    def __post_init__(self) -> None:
        first, last = self.name.split()
        self.user = self.bridge.telegram.add_user(first, last)
        self.channel = "telegram"
        self.updates: list[dict[str, Any]] = []
        self.presses: list[str] = []  # callback query ids

    async def says(self, text: str) -> None:
        self.sent.append(self.bridge.telegram.user_says(self.user, text))

    async def sends_photo(self) -> None:
        self.sent.append(self.bridge.telegram.user_sends_photo(self.user))

    def _seen(self) -> list[Any]:
        view = self.bridge.telegram.chat_view(self.user.id)
        return [m for m in view if m.from_id != self.user.id]

    def received_texts(self) -> list[str]:
        return [m.text or m.caption or "" for m in self._seen()]

    def received_media(self) -> int:
        return sum(1 for m in self._seen() if m.kind != "text")

    async def redeliver_last(self) -> int:
        update = {"update_id": 9_000_001, "message": self.sent[-1]}
        body = json.dumps(update).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        return await self.post("/webhooks/telegram", body, headers)

    async def forged(self) -> int:
        update = {"update_id": 9_000_002, "message": self.sent[-1]}
        headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        return await self.post("/webhooks/telegram", json.dumps(update).encode(), headers)

    async def becomes_unreachable(self) -> None:
        self.bridge.telegram.block(self.user)

    def _offering(self) -> Any:
        return next((m for m in reversed(self._seen()) if m.buttons), None)

    def offered_choices(self) -> list[str]:
        message = self._offering()
        return [b["text"] for row in message.buttons for b in row] if message else []

    async def press(self, label: str) -> None:
        message = self._offering()
        assert message is not None, "no message with buttons"
        buttons = [b for row in message.buttons for b in row]
        data = next(b["callback_data"] for b in buttons if b["text"] == label)
        self.presses.append(
            self.bridge.telegram.press(self.user, self.user.id, message.message_id, data)
        )

    async def press_forged(self, action: str) -> None:
        message = self._offering() or self._seen()[-1]
        self.presses.append(
            self.bridge.telegram.press(
                self.user, self.user.id, message.message_id, action, forged=True
            )
        )


class SiteCustomer(Customer):
    """A visitor of the shop's widget (always reachable: replies wait in their history)."""

    def __post_init__(self) -> None:
        self.channel = f"site:{WIDGET}"
        self.can_be_unreachable = False
        self.token = ""
        self.bodies: list[dict[str, Any]] = []
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.frames: list[dict[str, Any]] = []

    def _headers(self, token: str | None = None) -> dict[str, str]:
        return {"Origin": ORIGIN, "Authorization": f"Bearer {token or self.token}"}

    async def _ensure_token(self) -> None:
        if not self.token:
            url = f"{self.bridge.url}/widget/{WIDGET}/visitors"
            async with self.bridge.http.post(url, headers={"Origin": ORIGIN}) as response:
                assert response.status == 200, await response.text()
                self.token = (await response.json())["token"]

    async def _post_message(self, body: dict[str, Any], token: str | None = None) -> int:
        url = f"{self.bridge.url}/widget/{WIDGET}/messages"
        async with self.bridge.http.post(url, json=body, headers=self._headers(token)) as r:
            await r.read()
            return r.status

    async def says(self, text: str) -> None:
        await self._ensure_token()
        body = {"id": f"msg{len(self.bodies):06d}", "text": text, "name": self.name}
        self.bodies.append(body)
        assert await self._post_message(body) == 200

    async def sends_photo(self) -> None:
        await self._ensure_token()
        png = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(png, "PNG")
        url = f"{self.bridge.url}/widget/{WIDGET}/uploads"
        headers = {**self._headers(), "Content-Type": "image/png"}
        async with self.bridge.http.post(url, data=png.getvalue(), headers=headers) as r:
            assert r.status == 200, await r.text()
            file_id = (await r.json())["file"]["id"]
        body = {"id": f"msg{len(self.bodies):06d}", "text": "", "files": [file_id]}
        self.bodies.append(body)
        assert await self._post_message(body) == 200

    async def _history(self) -> list[dict[str, Any]]:
        url = f"{self.bridge.url}/widget/{WIDGET}/history"
        async with self.bridge.http.get(url, headers=self._headers()) as r:
            return (await r.json())["messages"]

    def received_texts(self) -> list[str]:
        raise NotImplementedError("use received_texts_async")

    async def received_texts_async(self) -> list[str]:
        return [m["text"] for m in await self._history() if m["from"] == "operator"]

    async def redeliver_last(self) -> int:
        return await self._post_message(self.bodies[-1])

    async def forged(self) -> int:
        return await self._post_message({"id": "forged0001", "text": "hi"}, token="forged.token")

    async def pushed(self) -> list[dict[str, Any]]:
        """What the bridge pushed to the visitor's socket so far (opened on first use)."""
        if self.socket is None:
            await self._ensure_token()
            url = self.bridge.url.replace("http", "ws", 1) + f"/widget/{WIDGET}/ws?after=0"
            self.socket = await self.bridge.http.ws_connect(url, headers={"Origin": ORIGIN})
            await self.socket.send_json({"type": "auth", "token": self.token})
        while True:
            try:
                frame = await self.socket.receive_json(timeout=0.05)
            except TimeoutError:
                break
            if frame.get("type") == "message":
                self.frames.append(frame["message"])
        return self.frames

    async def offered_choices_async(self) -> list[dict[str, Any]]:
        for message in reversed(await self.pushed()):
            if message.get("choices"):
                return message["choices"]
        return []

    async def press(self, label: str) -> None:
        choices = await self.offered_choices_async()
        action = next(c["action"] for c in choices if c["label"] == label)
        assert await self.press_action(action) == 200

    async def press_forged(self, action: str) -> None:
        assert await self.press_action(action) == 200

    async def press_action(self, action: str) -> int:
        url = f"{self.bridge.url}/widget/{WIDGET}/actions"
        body = {"action": action}
        async with self.bridge.http.post(url, json=body, headers=self._headers()) as r:
            await r.read()
            return r.status


CUSTOMERS: dict[str, type[Customer]] = {
    "telegram": TelegramCustomer,
    "vk": VkCustomer,
    "viber": ViberCustomer,
    "facebook": FacebookCustomer,
    "site": SiteCustomer,
}
