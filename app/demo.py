"""Start and stop the demo: the fakes on a second local port, the bridge and the page on one.

The bridge is the real service (`app.service.Service`) that
`app.wiring.build_service(config)` builds, plus the demo page; its database is SQLite in
a temporary folder that is deleted on stop. Viber and Facebook call webhooks, so once the
bridge listens the runner registers its URLs with those fakes (as an admin's set-webhooks would);
a channel whose adapter is not in this build stays visibly disconnected on the page. `start`
returns once no channel is on standby: VK's long poll begins a moment after this process leads,
from VK's current `ts`, so a customer who wrote before that would never reach the group.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from app.config import merged
from sandbox.demo.customers import CustomerSimulator
from sandbox.demo.page import DemoPage
from sandbox.demo.settings import BOT_NAME, FB_VERIFY_TOKEN, GROUP, WIDGET_ID, demo_config_data
from sandbox.server import SANDBOX_TELEGRAM_TOKEN

if TYPE_CHECKING:
    from app.service import Service
    from config import BridgeConfig
    from sandbox.runner import RunningApp
    from sandbox.server import Sandbox

log = logging.getLogger(__name__)
PRIVATE_MODE = "private"
DEMO_MODES = ("topics", PRIVATE_MODE)  # the group modes the demo's forum can show
READY_WAIT = 10.0  # seconds for every channel to leave standby before the demo says "open"


class DemoRunner:
    """`async with DemoRunner(port=8080) as demo:` serves http://127.0.0.1:8080/demo."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        language: str = "en",
        time_scale: float = 1.0,
        changes: Mapping[str, Any] | None = None,
        mode: str = "topics",
    ) -> None:
        """`time_scale` K multiplies every platform rate limit and the bridge's pacing by K
        (1: Telegram's real limits, e.g. 20 posts a minute into the group). `changes` are
        merged into the demo's config, section by section (e.g. `{"http": {...}}`). `mode`
        is the group's: `topics`, or `private` (the fake bot gets threaded mode and both
        operators start it, so an Accept opens a topic in the claimer's private chat)."""
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if mode not in DEMO_MODES:
            raise ValueError(f"mode must be one of {', '.join(DEMO_MODES)}, got {mode!r}")
        self.mode = mode
        self.host = host
        self.port = port
        self.language = language
        self.time_scale = time_scale
        self.changes = dict(changes or {})
        self.sandbox: Sandbox | None = None
        self.customers: CustomerSimulator | None = None
        self.service: Service | None = None
        self.notes: dict[str, str] = {}
        self._fakes: RunningApp | None = None
        self._folder: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._url_host}:{self.port}"

    @property
    def url(self) -> str:
        """The page to open."""
        return f"{self.base_url}/demo"

    @property
    def _url_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    async def start(self) -> None:
        """Start the fakes, then the bridge; raises (after cleaning up) if either fails."""
        from app.wiring import build_service
        from bridge.components import RoutesOnly
        from sandbox.runner import free_port, start_app
        from sandbox.server import PREFIXES, Sandbox

        try:
            self.sandbox = sandbox = Sandbox(time_scale=self.time_scale)
            if self.mode == PRIVATE_MODE:  # BotFather's threaded mode: topics in private chats
                sandbox.telegram.set_topics_enabled(SANDBOX_TELEGRAM_TOKEN, True)
            _name_the_company(sandbox)
            self._fakes = await start_app(sandbox.build_app(), "127.0.0.1", 0)
            fakes_url = self._fakes.base_url
            sandbox.vk.public_url = fakes_url + PREFIXES["vk"]
            sandbox.viber.public_url = fakes_url + PREFIXES["viber"]
            sandbox.facebook.public_url = fakes_url + PREFIXES["facebook"]
            self.customers = CustomerSimulator(sandbox)
            self.customers.seed()
            if not self.port:
                self.port = free_port(self.host)
            self._folder = Path(tempfile.mkdtemp(prefix="talker-bridge-demo-"))
            config = demo_config(
                fakes_url=fakes_url,
                bridge_url=self.base_url,
                group_chat_id=sandbox.group_chat_id,
                folder=self._folder,
                language=self.language,
                mode=self.mode,
                changes=self.changes,
            )
            page = DemoPage(
                sandbox, self.customers, widget_id=WIDGET_ID, notes=self.notes, mode=self.mode
            )
            self.service = build_service(
                config,
                time_scale=self.time_scale,
                host=self.host,
                port=self.port,
                extra=[RoutesOnly("demo-page", page.routes)],
            )
            page.channel_states = self.service.channel_states
            page.pace = group_pace(self.service, config, self.time_scale)
            page.guest_check = functools.partial(guest_message, self.service)
            await self.service.start()
            await self._connect_webhooks()
            await self._wait_until_listening()
            if self.mode == PRIVATE_MODE:
                await self._operators_start_the_bot()
        except BaseException:
            await self.stop()
            raise

    async def _connect_webhooks(self) -> None:
        """Point Viber and Facebook at the bridge, unless an adapter did it when it started."""
        assert self.sandbox is not None
        viber, facebook = self.sandbox.viber, self.sandbox.facebook
        if not viber.webhook_url:
            try:
                await viber.set_webhook(f"{self.base_url}/webhooks/viber")
            except Exception as error:  # the fake answers as Viber: the URL did not answer 200
                self.notes["viber"] = f"webhook not accepted: {error}"
                log.warning("viber webhook not set: %s", error)
        if not facebook.webhook_url:
            url = f"{self.base_url}/webhooks/facebook"
            if not await facebook.verify_webhook(url, FB_VERIFY_TOKEN):
                self.notes["facebook"] = "webhook verification failed"
                log.warning("facebook webhook not verified at %s", url)

    async def _wait_until_listening(self) -> None:
        """Until no channel waits on standby (or READY_WAIT passed: the page shows which)."""
        assert self.service is not None
        deadline = asyncio.get_running_loop().time() + READY_WAIT
        waiting: list[str] = []
        while asyncio.get_running_loop().time() < deadline:
            states = self.service.channel_states()
            waiting = [name for name, state in states.items() if "standby" in state.detail]
            if not waiting:
                return
            await asyncio.sleep(0.05)
        log.warning("still on standby after %.0f s: %s", READY_WAIT, ", ".join(waiting))

    async def _operators_start_the_bot(self) -> None:
        """Each operator sends /start to the bot (`mode: private` needs it before an Accept);
        returns once the bridge has recorded it, or after READY_WAIT (a refused Accept then
        says what to do)."""
        from storage.models import Operator

        assert self.sandbox is not None and self.service is not None
        operators = self.sandbox.operators
        for operator in operators:
            self.sandbox.telegram.user_says(
                operator, "/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_WAIT
        while loop.time() < deadline:
            async with self.service.runtime.sessions() as session:
                rows = [await session.get(Operator, op.id) for op in operators]
            if all(row is not None and row.private_chat_started for row in rows):
                return
            await asyncio.sleep(0.05)
        log.warning("the operators' /start was not recorded within %.0f s", READY_WAIT)

    async def stop(self) -> None:
        """Stop the bridge, then the fakes; delete the temporary folder. Never raises."""
        if self.service is not None:
            await self.service.stop()
            self.service = None
        if self._fakes is not None:
            await self._fakes.runner.cleanup()
            self._fakes = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    async def __aenter__(self) -> DemoRunner:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def group_pace(service: Service, config: BridgeConfig, time_scale: float) -> dict[str, float]:
    """The demo group's posts a minute and the seconds between two refreshes of its pinned
    counters, as the running bridge uses them (the dashboards component's own interval)."""
    from desk.dashboard import Dashboards

    pace = {"per_minute": config.telegram.limits.per_group_per_minute * time_scale}
    for component in service.components:
        if isinstance(component, Dashboards) and GROUP in component.intervals:
            pace["counters_every"] = component.intervals[GROUP]
    return pace


async def guest_message(service: Service, chat_id: int, message_id: int) -> bool | None:
    """Whether a group (or private-chat) message belongs to a guest's conversation, one whose
    customer's name is unknown; None when it belongs to no conversation."""
    from storage.customers import get_customer
    from storage.links import conversation_for_group_message

    async with service.runtime.sessions() as session:
        conversation = await conversation_for_group_message(session, chat_id, message_id)
        if conversation is None:
            return None
        customer = await get_customer(session, conversation.customer_id)
    return customer is not None and not (customer.name or "").strip()


def _name_the_company(sandbox: Sandbox) -> None:
    """One name everywhere (`BOT_NAME`): the bot's (as BotFather's /setname would set it), the
    VK community's and the Facebook page's; the config names the Viber account and the widget."""
    sandbox.telegram.world.bots[SANDBOX_TELEGRAM_TOKEN].user.first_name = BOT_NAME
    sandbox.vk.group_name = BOT_NAME
    sandbox.facebook.page_name = BOT_NAME


def demo_config(*, changes: Mapping[str, Any] | None = None, **kwargs: Any) -> BridgeConfig:
    """`demo_config_data(...)` with `changes` merged in, validated into a `BridgeConfig`
    (raises ConfigError)."""
    from app.config import parse_config

    return parse_config(
        merged(demo_config_data(**kwargs), changes or {}), source="talker-bridge demo"
    )
