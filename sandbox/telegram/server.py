"""The fake Telegram Bot API server: `FakeTelegram(...).app` is an aiohttp application.

Routes are relative, so the app runs standalone or mounted under a prefix (e.g. `/telegram`):
`/bot{token}/{method}` (GET or POST; query string, urlencoded, JSON or multipart bodies),
`/file/bot{token}/{file_path}` (downloads) and `/_control/...` (see control.py). aiogram works
against it with `TelegramAPIServer.from_base(base_url)`.

Every call is checked against the spec (spec.py), logged (`calls()`), subject to injected faults
and to the published rate limits (limits.py), and answered in Telegram's envelope.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.chaos import ERROR, THROTTLE, Chaos, ChaosSettings, Injection, drop_connection
from sandbox.telegram import api_chats, api_edits, api_messages, api_topics, api_updates
from sandbox.telegram.actions import UserActions
from sandbox.telegram.clock import Clock, monotonic
from sandbox.telegram.control import add_control_routes
from sandbox.telegram.errors import (
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    bad_request,
    too_many_requests,
)
from sandbox.telegram.faults import Fault, FaultPlan
from sandbox.telegram.limits import RateCounters, RateLimiter, TelegramLimits
from sandbox.telegram.registry import HANDLERS, Call, unsupported
from sandbox.telegram.spec import ApiSpec, UploadedFile, load_spec
from sandbox.telegram.state import Bot, FakeUser, World
from sandbox.telegram.updates import UpdateFeed, WebhookSettings

_HANDLER_MODULES = (api_chats, api_edits, api_messages, api_topics, api_updates)
_ATTACH = re.compile(r"attach://([^\"',\s]+)")
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
MAX_BODY = 60 * 1024 * 1024
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One Bot API call as the fake saw it."""

    method: str
    params: dict[str, Any]
    status: int
    time: float  # the fake's clock
    bot_id: int | None
    description: str | None = None
    result: Any = None


class FakeTelegram(UserActions):
    """An in-process Telegram Bot API with state, limits, updates and a control API."""

    def __init__(
        self,
        *,
        limits: TelegramLimits | None = None,
        clock: Clock | None = None,
        callback_query_timeout: float = 15.0,
        webhook: WebhookSettings | None = None,
        spec: ApiSpec | None = None,
        chaos: ChaosSettings | None = None,
    ) -> None:
        self.world = World()
        self.spec = spec or load_spec()
        self.limits = limits or TelegramLimits()
        self.clock: Clock = clock or monotonic
        self.callback_query_timeout = callback_query_timeout
        self.limiter = RateLimiter(self.limits, self.clock)
        self.faults = FaultPlan()
        #: Random 5xx, timeouts and 429s (off unless configured; see sandbox/chaos.py).
        self.chaos = Chaos(chaos)
        self._webhook_settings = webhook or WebhookSettings()
        self._feeds: dict[int, UpdateFeed] = {}
        self._calls: list[CallRecord] = []
        #: (chunk size, pause) of file downloads; None: the whole file at once.
        self.download_pace: tuple[int, float] | None = None
        self.app = self._build_app()

    # setup

    def add_bot(
        self,
        token: str,
        *,
        username: str = "fake_bot",
        first_name: str | None = None,
        topics_enabled: bool = False,
    ) -> FakeUser:
        """Register a bot; calls with its token are accepted. Returns the bot's User.
        `topics_enabled`: BotFather's threaded mode (topics in its private chats)."""
        if not _TOKEN.fullmatch(token):
            raise ValueError(f"token {token!r} is not shaped like a Bot API token (123:ABC)")
        if token in self.world.bots:
            raise ValueError("this token is already registered")
        bot_id = int(token.split(":", 1)[0])
        if bot_id in self.world.users:
            raise ValueError(f"user id {bot_id} is taken")
        user = FakeUser(
            id=bot_id, first_name=first_name or username, username=username, is_bot=True
        )
        self.world.users[bot_id] = user
        self.world.bots[token] = Bot(token=token, user=user, topics_enabled=topics_enabled)
        return user

    def set_topics_enabled(self, token: str, enabled: bool) -> None:
        """Switch a bot's threaded mode (topics in private chats), as in BotFather."""
        self.world.bots[token].topics_enabled = enabled

    def set_privacy(self, token: str, enabled: bool) -> None:
        """Switch a bot's group privacy (BotFather's /setprivacy); on hides group messages."""
        self.world.bots[token].privacy = enabled

    def webhook_failed(self, bot: Bot | int, message: str) -> None:
        """Record a failed delivery on the bot's webhook, as getWebhookInfo then reports it."""
        webhook = self.feed(bot).webhook
        if webhook is None:
            raise ValueError("the bot has no webhook set")
        webhook.last_error_date = int(time.time())
        webhook.last_error_message = message

    def feed(self, bot: Bot | int) -> UpdateFeed:
        bot_id = bot if isinstance(bot, int) else bot.id
        feed = self._feeds.get(bot_id)
        if feed is None:
            feed = UpdateFeed(settings=self._webhook_settings)
            feed.on_webhook_reply = self._webhook_reply_runner(bot_id)
            self._feeds[bot_id] = feed
        return feed

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        add_control_routes(app, self)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_cleanup(self, _app: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop webhook deliveries (also done when the app is cleaned up)."""
        for feed in self._feeds.values():
            await feed.stop()

    # the Bot API endpoint

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        bot = self.world.bots.get(token)
        name = request.match_info["method"]
        params: dict[str, Any] = {}
        injection: Injection | None = None
        try:
            if bot is None:
                # Telegram: 401 for a well-formed token it does not know, 404 for a malformed one.
                raise UNAUTHORIZED if _TOKEN.fullmatch(token) else NOT_FOUND
            params, files = await _read_params(request)
            method = self.spec.method_name(name)
            if method is None:
                raise NOT_FOUND
            name = method
            injection = self.chaos.draw(method)
            if injection is not None and not injection.after_effect:
                await self._inject(request, injection, params, bot)
            late = await self._apply_fault(method)
            result = await self.call(bot, method, params, files)
            if late:
                await asyncio.sleep(late)  # done, and shown to users, before the bot hears
        except ApiError as error:
            self._log(name, params, error.status, bot, error.description)
            return web.json_response(error.body(), status=error.status)
        self._log(name, params, 200, bot, None, result)
        if injection is not None:  # a timeout after the call took effect
            return await drop_connection(request, injection)
        return web.json_response({"ok": True, "result": result})

    async def _inject(
        self, request: web.Request, injection: Injection, params: dict[str, Any], bot: Bot
    ) -> None:
        """Answer a drawn fault as Telegram would: raises ApiError or drops the connection."""
        if injection.kind == ERROR:
            raise ApiError(injection.status, _REASONS[injection.status])
        if injection.kind == THROTTLE:
            raise too_many_requests(injection.retry_after)
        self._log(injection.endpoint, params, 0, bot, "connection dropped (injected timeout)")
        await drop_connection(request, injection)

    async def call(
        self,
        bot: Bot,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile] | None = None,
    ) -> Any:
        """Run one Bot API method for `bot` (spec name); raises ApiError like the server."""
        files = files or {}
        fields = self.spec.fields(method)
        attachments = {name: part for name, part in files.items() if name not in fields}
        params = {**params, **{n: p for n, p in files.items() if n in fields}}
        checked = self.spec.validate(method, params)
        referenced = set(_ATTACH.findall(repr(checked)))
        for name in attachments:
            if name not in referenced:
                raise bad_request(f'unknown parameter "{name}" for method {method}')
        handler = HANDLERS.get(method)
        if handler is None:
            raise unsupported(method)
        return await handler(Call(self, bot, method, checked, attachments))

    async def _apply_fault(self, method: str) -> float:
        """Apply the next fault for `method`; returns how long to hold the answer back after
        the call took effect (a "late" fault), else 0."""
        fault = self.faults.take(method)
        if fault is None:
            return 0.0
        if fault.kind == "late":
            return fault.seconds
        if fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "throttle":
            self.limiter.counters.forced += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        else:
            raise ApiError(fault.status, fault.error_description())
        return 0.0

    def _webhook_reply_runner(self, bot_id: int):
        async def run(method_name: str, params: dict[str, Any]) -> None:
            bot = self.world.bot_by_id(bot_id)
            method = self.spec.method_name(method_name)
            try:
                if method is None:
                    raise NOT_FOUND
                result = await self.call(bot, method, params)
            except ApiError as error:
                self._log(method or method_name, params, error.status, bot, error.description)
                return
            self._log(method, params, 200, bot, None, result)

        return run

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] not in self.world.bots:
            return web.json_response(UNAUTHORIZED.body(), status=401)
        path = request.match_info["path"]
        for stored in self.world.files.values():
            if stored.file_path == path:
                content_type = stored.mime_type or "application/octet-stream"
                if self.download_pace is None:
                    return web.Response(body=stored.data, content_type=content_type)
                return await self._trickle(request, stored.data, content_type)
        return web.json_response(NOT_FOUND.body(), status=404)

    def slow_downloads(self, chunk_size: int = 64 * 1024, pause: float = 0.005) -> None:
        """Serve file downloads chunked (no Content-Length), `chunk_size` bytes per write with
        `pause` seconds between writes, as a slow or distant file server does."""
        self.download_pace = (chunk_size, pause)

    async def _trickle(
        self, request: web.Request, data: bytes, content_type: str
    ) -> web.StreamResponse:
        assert self.download_pace is not None
        chunk_size, pause = self.download_pace
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(data), chunk_size):
            await response.write(data[start : start + chunk_size])
            await asyncio.sleep(pause)
        await response.write_eof()
        return response

    # call log, faults, counters

    def _log(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        bot: Bot | None,
        description: str | None,
        result: Any = None,
    ) -> None:
        shown = {
            k: f"<file {v.filename}>" if isinstance(v, UploadedFile) else v
            for k, v in params.items()
        }
        record = CallRecord(
            method=method,
            params=shown,
            status=status,
            time=self.clock(),
            bot_id=bot.id if bot else None,
            description=description,
            result=result,
        )
        self._calls.append(record)

    def calls(self, method: str | None = None, *, status: int | None = None) -> list[CallRecord]:
        """Logged calls, oldest first, optionally of one method and/or status."""
        return [
            c
            for c in self._calls
            if (method is None or c.method.lower() == method.lower())
            and (status is None or c.status == status)
        ]

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        method: str | None = None,
        description: str | None = None,
    ) -> None:
        """The next `n` calls (of `method`, if given) answer `status` without doing anything."""
        self.faults.add(Fault("error", n, method, status=status, description=description))

    def restart_update_ids(self, bot: Bot | int, first: int | None = None) -> int:
        """Restart `bot`'s update ids as Telegram does after a week without updates (the next
        id random and lower, or `first`); returns the next id."""
        return self.feed(bot).restart_ids(first)

    def hang_next(self, n: int = 1, seconds: float = 30.0, method: str | None = None) -> None:
        """The next `n` calls wait `seconds` before being processed (longer than a client's
        timeout: the client gives up, yet the call takes effect, as on a slow server)."""
        self.faults.add(Fault("hang", n, method, seconds=seconds))

    def answer_late_next(
        self, n: int = 1, seconds: float = 1.0, method: str | None = None
    ) -> None:
        """The next `n` calls take effect at once (users see the result) but are answered
        `seconds` later, as when Telegram's answer is slow to reach the bot."""
        self.faults.add(Fault("late", n, method, seconds=seconds))

    def throttle_next(self, n: int = 1, retry_after: int = 5, method: str | None = None) -> None:
        """The next `n` calls answer 429 with `retry_after`, whatever the real counters say."""
        self.faults.add(Fault("throttle", n, method, retry_after=retry_after))

    @property
    def too_many_requests(self) -> RateCounters:
        """How many 429s were sent, by limit (chat, group, global_, forced) and in total."""
        return self.limiter.counters

    def wall_time(self) -> int:
        return int(time.time())


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as error:
            raise bad_request("can't parse JSON request body") from error
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        params.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):  # a nested multipart
                continue
            name = part.name or ""
            if part.filename is not None:
                data = bytes(await part.read())
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files[name] = UploadedFile(name, part.filename, content_type, data)
            else:
                params[name] = await part.text()
    else:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params, files
