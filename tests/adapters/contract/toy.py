"""A toy customer platform that exists only in the tests: the proof that a platform is one folder.

Everything a platform brings lives here, as `adapters/<platform>/` would hold it: the config
section (`ToySettings`), an adapter serving one webhook (`POST /webhooks/toy`, a shared secret in
a header), a sender, and the descriptor (`toy_platform`) the registry lists. The "platform" itself
is `ToyWorld`, an in-process stand-in for its servers: what customers received, who blocked.
`ToyCustomer` drives it behind the contract suite's `Customer` interface.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.common.outbound import outbound_from_payload
from adapters.common.outlet import PlatformOutlet
from bridge.avatars.badges import Badge, BadgeShape, Frame
from bridge.components import ComponentState
from bridge.errors import RecipientUnreachable
from bridge.events import Attachment, CustomerProfile, Inbound
from bridge.platforms import Platform, PlatformContext, PlatformParts
from config.fields import Name, NonEmptyStr, Section
from config.platforms import PlatformSchema
from tests.adapters.contract.harness import Customer

NAME = "toy"
PATH = "/webhooks/toy"
SECRET_HEADER = "X-Toy-Secret"
SECRET = "toy-shared-secret"


class ToySettings(Section):
    """`channels.toy`: the group that handles it and the secret its webhook calls carry."""

    group: Name
    secret: NonEmptyStr


@dataclass
class ToyWorld:
    """The toy platform's servers: what each customer received, and who blocked the bot."""

    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))


class ToySender:
    """Delivers outbox rows of platform "toy" into the world (bridge.outbox's Sender)."""

    def __init__(self, world: ToyWorld) -> None:
        self.world = world

    async def deliver(self, item: Any) -> dict[str, Any]:
        outbound = outbound_from_payload(item.payload)
        if outbound.chat in self.world.blocked:
            raise RecipientUnreachable("the customer blocked the toy bot")
        message_id = f"toy-{next(self.world.ids)}"
        message = {
            "id": message_id,
            "text": outbound.text,
            "attachments": [a.url for a in outbound.attachments],
        }
        self.world.received.setdefault(outbound.chat, []).append(message)
        return {"message_id": message_id}


class ToyAdapter:
    """The toy channel: its webhook in (Adapter, HasRoutes), `ToySender` out."""

    def __init__(self, settings: ToySettings, sink: Any, world: ToyWorld) -> None:
        self.settings = settings
        self.channel = NAME
        self.name = f"channel:{NAME}"
        self.sink = sink
        self.sender = ToySender(world)
        self._state = ComponentState("stopped")

    async def start(self) -> None:
        self._state = ComponentState("running")

    async def stop(self) -> None:
        self._state = ComponentState("stopped")

    def state(self) -> ComponentState:
        return self._state

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post(PATH, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        """One customer message: `{"id", "user", "first_name", "last_name", "text", "photo"}`."""
        if request.headers.get(SECRET_HEADER) != self.settings.secret:
            return web.Response(status=403, text="wrong secret")
        body = await request.json()
        photo = body.get("photo")
        attachments = (Attachment(kind="photo", url=photo),) if photo else ()
        user = str(body["user"])
        await self.sink.inbound(
            Inbound(
                channel=NAME,
                chat=user,
                user=user,
                external_id=str(body["id"]),
                text=body.get("text", ""),
                attachments=attachments,
                profile=CustomerProfile(
                    first_name=body.get("first_name"), last_name=body.get("last_name")
                ),
            )
        )
        return web.Response(text="ok")


def draw_mark(draw: Any, frame: Frame) -> None:
    """A white dot in the middle of the toy's badge."""
    draw.ellipse(frame.box(0, 0, 0.3), fill=(255, 255, 255, 255))


#: The toy's badge on avatars: an amber disc with a white dot.
BADGE = Badge(NAME, "#F59E0B", BadgeShape.CIRCLE, draw_mark)


def toy_platform(world: ToyWorld) -> Platform:
    """The toy's descriptor, as `adapters/toy/__init__.py` would export it."""

    def build(section: ToySettings, context: PlatformContext) -> PlatformParts:
        adapter = ToyAdapter(section, context.sink, world)
        return PlatformParts(
            components=[adapter],
            sender=adapter.sender,
            outlet=PlatformOutlet(NAME, context.file_link),
        )

    schema = PlatformSchema(name=NAME, section=ToySettings)
    return Platform(
        schema=schema,
        build=build,
        display_names={"en": "Toy", "ru": "Игрушка"},
        badge=BADGE,
        max_text=1000,
    )


def toy_section() -> dict[str, Any]:
    """The toy's section under `channels:` (its one example config section)."""
    return {"group": "support", "secret": SECRET}


@dataclass
class ToyCustomer(Customer):
    """A customer of the toy platform, writing through its webhook."""

    world: ToyWorld = field(default_factory=ToyWorld)
    user_id: str = "toy-user-1"

    def __post_init__(self) -> None:
        self.channel = NAME

    def _body(self, **values: Any) -> dict[str, Any]:
        first, last = self.name.split()
        body = {"id": f"m{len(self.sent) + 1}", "user": self.user_id, "first_name": first}
        return {**body, "last_name": last, **values}

    async def _deliver(self, body: dict[str, Any], secret: str = SECRET) -> int:
        return await self.post(PATH, json.dumps(body).encode(), {SECRET_HEADER: secret})

    async def says(self, text: str) -> None:
        body = self._body(text=text)
        assert await self._deliver(body) == 200
        self.sent.append(body)

    async def sends_photo(self) -> None:
        body = self._body(text="", photo=self.bridge.vk.public_url + "/_files/x.png")
        assert await self._deliver(body) == 200
        self.sent.append(body)

    def received_texts(self) -> list[str]:
        return [m["text"] for m in self.world.received.get(self.user_id, [])]

    def received_media(self) -> int:
        return sum(len(m["attachments"]) for m in self.world.received.get(self.user_id, []))

    async def redeliver_last(self) -> int:
        return await self._deliver(self.sent[-1])

    async def forged(self) -> int:
        return await self._deliver(self._body(id="forged", text="hi"), secret="wrong")

    async def becomes_unreachable(self) -> None:
        self.world.blocked.add(self.user_id)
