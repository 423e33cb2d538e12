"""All four fake platforms on one port, each under its own prefix, seeded for a quick try-out.

`talker-bridge sandbox --port P` serves:
  /telegram  — Bot API (`telegram.api_url: http://127.0.0.1:P/telegram`)
  /vk        — VK API (`vk.api_url: http://127.0.0.1:P/vk`)
  /viber     — Viber REST API (`viber.api_url: http://127.0.0.1:P/viber/pa`)
  /facebook  — Graph API (`facebook.graph_url: http://127.0.0.1:P/facebook/v21.0`)
Each fake keeps its control API under its prefix (`/telegram/_control/...`, `/vk/_control/...`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from aiohttp import web

from sandbox.chaos import Chaos, ChaosSettings
from sandbox.facebook import FakeFacebook
from sandbox.telegram import FakeTelegram, FakeUser, TelegramLimits
from sandbox.viber import FakeViber
from sandbox.vk import FakeVK

SANDBOX_TELEGRAM_TOKEN = "100001:sandbox-bot-token"
SANDBOX_VK_TOKEN = "vk-sandbox-token"
SANDBOX_VK_GROUP_ID = 100
SANDBOX_VIBER_TOKEN = "viber-sandbox-token"
SANDBOX_FB_PAGE_TOKEN = "fb-sandbox-page-token"
SANDBOX_FB_APP_SECRET = "fb-sandbox-app-secret"
#: Where a bridge run with the sandbox's config listens (config's default `http.port`).
DEFAULT_BRIDGE_URL = "http://127.0.0.1:8080"

PREFIXES = {"telegram": "/telegram", "vk": "/vk", "viber": "/viber", "facebook": "/facebook"}


@dataclass
class Sandbox:
    """The four fakes, seeded with a bot, an operators' forum with two operators, and a page.

    `time_scale` K makes every fake K times faster (rates times K, periods divided by K), as
    `talker-bridge run --time-scale K` does for the bridge.
    """

    time_scale: float = 1.0
    #: Random 5xx, timeouts and 429s in every fake (each with its own seed); None: off.
    chaos: ChaosSettings | None = None
    telegram: FakeTelegram = field(init=False)
    vk: FakeVK = field(init=False)
    viber: FakeViber = field(init=False)
    facebook: FakeFacebook = field(init=False)
    operators: list[FakeUser] = field(init=False)
    group_chat_id: int = field(init=False)

    def __post_init__(self) -> None:
        # TelegramLimits multiply rates by time_scale; the other fakes multiply periods.
        periods = 1.0 / self.time_scale
        self.telegram = FakeTelegram(
            limits=TelegramLimits(time_scale=self.time_scale), chaos=self._chaos_for(0)
        )
        self.telegram.add_bot(SANDBOX_TELEGRAM_TOKEN, username="talker_sandbox_bot")
        self.operators = [
            self.telegram.add_user("Anna", "Operator", username="anna_ops"),
            self.telegram.add_user("Boris", "Operator", username="boris_ops"),
        ]
        self.group_chat_id = self.telegram.create_forum("Support operators", admins=self.operators)
        self.vk = FakeVK(
            group_id=SANDBOX_VK_GROUP_ID,
            token=SANDBOX_VK_TOKEN,
            time_scale=periods,
            chaos=self._chaos_for(1),
        )
        self.viber = FakeViber(
            token=SANDBOX_VIBER_TOKEN, time_scale=periods, chaos=self._chaos_for(2)
        )
        self.facebook = FakeFacebook(
            page_token=SANDBOX_FB_PAGE_TOKEN,
            app_secret=SANDBOX_FB_APP_SECRET,
            time_scale=periods,
            chaos=self._chaos_for(3),
        )

    def _chaos_for(self, index: int) -> ChaosSettings | None:
        return None if self.chaos is None else replace(self.chaos, seed=self.chaos.seed + index)

    def chaos_plans(self) -> dict[str, Chaos]:
        """Each fake's random fault plan, by platform (for counts and turning it off)."""
        return {
            "telegram": self.telegram.chaos,
            "vk": self.vk.chaos,
            "viber": self.viber.chaos,
            "facebook": self.facebook.chaos,
        }

    def build_app(self) -> web.Application:
        """One application with each fake mounted under its prefix."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.add_subapp(PREFIXES["telegram"], self.telegram.app)
        app.add_subapp(PREFIXES["vk"], self.vk.app)
        app.add_subapp(PREFIXES["viber"], self.viber.app)
        app.add_subapp(PREFIXES["facebook"], self.facebook.app)
        app.router.add_get("/", self._index)
        return app

    def config_snippet(self, base_url: str, bridge_url: str = DEFAULT_BRIDGE_URL) -> str:
        """A whole config that points a bridge at this sandbox; `check-config` passes it as is.

        `bridge_url` is `http.public_url`, where the fakes' webhooks reach the bridge (Viber and
        Facebook call it, so the config needs it); the default is the bridge's own default
        `http.port` on this machine.
        """
        return "\n".join(
            [
                "http:",
                f"  public_url: {bridge_url}",
                "telegram:",
                f"  token: {SANDBOX_TELEGRAM_TOKEN}",
                f"  api_url: {base_url}/telegram",
                "groups:",
                "  support:",
                f"    chat_id: {self.group_chat_id}",
                "    mode: topics",
                "channels:",
                "  telegram: {group: support}",
                f"  vk: {{group: support, token: {SANDBOX_VK_TOKEN}, "
                f"group_id: {SANDBOX_VK_GROUP_ID}, api_url: {base_url}/vk}}",
                f"  viber: {{group: support, token: {SANDBOX_VIBER_TOKEN}, name: Shop, "
                f"api_url: {base_url}/viber/pa}}",
                f"  facebook: {{group: support, page_token: {SANDBOX_FB_PAGE_TOKEN}, "
                f"app_secret: {SANDBOX_FB_APP_SECRET}, verify_token: sandbox, "
                f"graph_url: {base_url}/facebook/v21.0}}",
            ]
        )

    async def _index(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.Response(
            text="Talker Bridge sandbox: fake platforms.\n\n" + self.config_snippet(base) + "\n"
        )
