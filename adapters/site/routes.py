"""The HTTP and WebSocket endpoints of one widget (all under `/widget/<id>`).

    GET  /widget/<id>.js, .css        the embed script and its style (public)
    GET  /widget/<id>                 the standalone chat page (public)
    POST /widget/<id>/visitors        a new signed visitor token
    GET  /widget/<id>/history?after=N the visitor's messages newer than N
    POST /widget/<id>/messages        {id, text, name?, files?, lang?} → stored, then answered
    POST /widget/<id>/actions         {action} → a press of a button the bridge sent (a star)
    POST /widget/<id>/uploads?lang=L  raw bytes; Content-Type, X-File-Name (percent-encoded)
    GET  /widget/<id>/files/<visitor>/<file>/<signature>
    GET  /widget/<id>/ws?after=N      live messages; first {"type": "auth", "token": T}, then
                                      {"type": "auth", "ok": true, "token"?} and what is newer
                                      than N, "ready", and live messages

API calls carry `Authorization: Bearer <token>`; the WebSocket takes its token in its first
message, never in the URL (URLs end up in proxies' logs). `?token=T` is still accepted from
scripts cached before that change (then no `auth` message is expected or answered). A foreign
Origin or a forged token gets 403 before anything is read; an expired token 403 "expired"
(the widget starts a new visitor); over the limits, 429 with Retry-After. A token older than a
day is accepted and the answer carries a fresh one in `X-Visitor-Token` (tokens.py). Open
sockets are capped per visitor, per address and in all (sockets.py): over a cap the handshake
gets 429 with Retry-After, or, for the visitor's cap known only after `auth`, close 1013.
Refusals meant for the visitor's eyes (too many new conversations, upload quotas: quotas.py)
also carry `notice`, translated into `lang` (the widget page's language) or the config's
`language`.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from adapters.site import tokens
from adapters.site.limits import MAX_ATTACHMENTS, MAX_NAME, MAX_TEXT
from adapters.site.origins import cors_headers
from adapters.site.quotas import RESCAN, OverQuota, Scope
from adapters.site.sockets import CLOSE_TRY_LATER, Slot, SocketRefused, receive_auth
from adapters.site.uploads import UploadRefused
from bridge.core.texts import LANGUAGES, CustomerTexts
from bridge.events import ACTION_SHAPE, MAX_ACTION, Attachment, CustomerProfile, Inbound
from bridge.web.bodies import BodyTooLarge, body_limit, read_limited
from bridge.web.untrusted import NotJson, bearer_token, parse_json, same_secret
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from adapters.site.adapter import SiteAdapter

log = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_JSON = 64 * 1024
#: The largest `after=`: a message id is a 64-bit integer in PostgreSQL and SQLite alike.
MAX_ID = 2**63 - 1
Handler = Callable[[web.Request, "str | None"], Awaitable[web.StreamResponse]]
#: A fresh token for the visitor whose token `visitor_of` accepted but found old.
RENEWED = web.RequestKey("renewed_visitor_token", str)


@cache
def static_text(name: str) -> str:
    """A file of adapters/site/static as text (read once)."""
    return resources.files("adapters.site").joinpath("static", name).read_text("utf-8")


def _error(status: int, message: str, origin: str | None, **headers: str) -> web.Response:
    return web.json_response(
        {"error": message}, status=status, headers={**cors_headers(origin), **headers}
    )


def widget_routes(adapter: SiteAdapter) -> list[web.AbstractRouteDef]:
    """Every route of one widget."""
    base = adapter.base_path

    def api(handler: Handler, *, require_origin: bool, max_body: int = MAX_JSON) -> Callable:
        # The handler reads its own body (after the token check, errors with CORS headers).
        @body_limit(max_body, reads_itself=True)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            origin = request.headers.get("Origin")
            try:
                origin = adapter.origins.check(request, require=require_origin)
                response = await handler(request, origin)
            except web.HTTPException as exc:
                extra = {"Retry-After": exc.headers["Retry-After"]} if exc.status == 429 else {}
                allowed = origin if origin and adapter.origins.allows(request, origin) else None
                return _error(exc.status, exc.text or exc.reason, allowed, **extra)
            if not response.prepared:  # a WebSocket has sent its headers already
                response.headers.update(cors_headers(origin))
                if RENEWED in request:
                    response.headers[tokens.TOKEN_HEADER] = request[RENEWED]
                    response.headers["Access-Control-Expose-Headers"] = (
                        f"Retry-After, {tokens.TOKEN_HEADER}"
                    )
            return response

        return wrapped

    def check(token: str | None) -> tokens.TokenCheck:
        return tokens.check_token(adapter.key, adapter.widget_id, token)

    def renewal(checked: tokens.TokenCheck) -> str | None:
        """A fresh token when `checked` (accepted) is old or legacy, else None."""
        if checked.state is not tokens.TokenState.RENEW or checked.visitor is None:
            return None
        return tokens.issue_token(adapter.key, adapter.widget_id, checked.visitor)

    def visitor_of(request: web.Request, token: str | None = None) -> str:
        """The visitor of the request's bearer token (or `token`); 403 saying why if refused.
        An old token is accepted, and the answer will carry a fresh one (RENEWED)."""
        if token is None:
            token = bearer_token(request.headers)
        checked = check(token)
        if not checked.accepted or checked.visitor is None:
            raise web.HTTPForbidden(text=checked.refusal)
        fresh = renewal(checked)
        if fresh is not None:
            request[RENEWED] = fresh
        return checked.visitor

    async def read_body(request: web.Request, limit: int) -> bytes:
        """The whole body, or 413 (with the cap in words) as soon as it passes `limit`."""
        try:
            return await read_limited(request.content, limit, declared=request.content_length)
        except BodyTooLarge as exc:
            raise _too_large(exc) from None

    async def read_json(request: web.Request) -> dict[str, Any]:
        raw = await read_body(request, MAX_JSON)
        try:
            body = parse_json(raw or b"null")
        except NotJson:
            raise web.HTTPBadRequest(text="the body is not JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="the body must be a JSON object")
        return body

    # ---- public files -----------------------------------------------------------------------

    async def script(request: web.Request) -> web.Response:
        config = {"id": adapter.widget_id, "title": adapter.widget.title}
        body = static_text("widget.js").replace(
            "__TB_CONFIG__", json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
        )
        return web.Response(
            text=body,
            content_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def style(request: web.Request) -> web.Response:
        return web.Response(
            text=static_text("widget.css"),
            content_type="text/css",
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def page(request: web.Request) -> web.Response:
        lang = request.query.get("lang", adapter.language)
        lang = lang if lang in ("ru", "en") else adapter.language
        body = (
            static_text("page.html")
            .replace("{{lang}}", lang)
            .replace("{{title}}", html.escape(adapter.widget.title))
            .replace("{{script}}", html.escape(f"{base}.js"))
        )
        return web.Response(
            text=body,
            content_type="text/html",
            headers={
                "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                "style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:",
                "Referrer-Policy": "no-referrer",
            },
        )

    # ---- API --------------------------------------------------------------------------------

    async def preflight(request: web.Request) -> web.Response:
        origin = request.headers.get("Origin")
        if not adapter.origins.allows(request, origin):
            return _error(403, "this site may not use this chat widget", None)
        return web.Response(status=204, headers=cors_headers(origin))

    async def new_visitor(request: web.Request, origin: str | None) -> web.Response:
        await read_body(request, MAX_JSON)  # none is expected; a big one is 413, not ignored
        adapter.visitor_limit.check(adapter.client_address(request))
        visitor = tokens.new_visitor_id()
        return web.json_response(
            {"token": tokens.issue_token(adapter.key, adapter.widget_id, visitor)}
        )

    async def history(request: web.Request, origin: str | None) -> web.Response:
        visitor = visitor_of(request)
        after = _int(request.query.get("after", "0"), "after")
        messages = await adapter.history.since(visitor, after)
        return web.json_response({"messages": messages}, headers={"Cache-Control": "no-store"})

    async def post_message(request: web.Request, origin: str | None) -> web.Response:
        visitor = visitor_of(request)
        body = await read_json(request)
        client_id, text, name = body.get("id"), body.get("text", ""), body.get("name")
        file_ids = body.get("files") or []
        if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
            raise web.HTTPBadRequest(text="id must be 8-64 letters, digits, _ or -")
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise web.HTTPBadRequest(text=f"text must be a string of at most {MAX_TEXT} chars")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise web.HTTPBadRequest(text=f"name must be at most {MAX_NAME} characters")
        if not isinstance(file_ids, list) or len(file_ids) > MAX_ATTACHMENTS:
            raise web.HTTPBadRequest(text=f"at most {MAX_ATTACHMENTS} files per message")
        attachments = tuple(_attachment(adapter, visitor, f) for f in file_ids)
        if not text.strip() and not attachments:
            raise web.HTTPBadRequest(text="the message is empty")
        adapter.message_limit.check(visitor)
        if not await adapter.has_open_conversation(visitor):
            # Nothing is stored on a refusal: the widget sends the same id again later.
            wait = adapter.new_conversation_limit.wait_time(adapter.widget_id)
            if wait > 0:
                busy = adapter.texts(_language(adapter, body.get("lang")), "widget_busy")
                return _refusal(429, busy, retry_after=wait)
        external_id = f"{visitor}:{client_id}"
        event = Inbound(
            channel=adapter.channel,
            chat=visitor,
            user=visitor,
            external_id=external_id,
            text=text.strip(),
            attachments=attachments,
            profile=CustomerProfile(display_name=(name or "").strip() or None),
            sent_at=utcnow(),
        )
        try:
            is_new, view = await adapter.store_message(visitor, event)
        except Exception:
            log.exception("site: the core did not store a visitor's message")
            raise web.HTTPServiceUnavailable(text="not stored, please retry") from None
        if is_new:  # stored: its conversation is open now, new or not
            adapter.open_visitors.remember(visitor)
        if view is not None and is_new:
            await adapter.hub.push(visitor, {"type": "message", "message": view})
        return web.json_response({"message": view, "duplicate": not is_new})

    async def press(request: web.Request, origin: str | None) -> web.Response:
        """A press of a button the bridge sent (a rating's star): `{"action": "..."}`."""
        visitor = visitor_of(request)
        body = await read_json(request)
        action = body.get("action")
        if not isinstance(action, str) or not ACTION_SHAPE.fullmatch(action):
            raise web.HTTPBadRequest(text="action must be the action of a button")
        if len(action) > MAX_ACTION:
            raise web.HTTPBadRequest(text=f"action must be at most {MAX_ACTION} characters")
        adapter.message_limit.check(visitor)
        event = Inbound(
            channel=adapter.channel,
            chat=visitor,
            user=visitor,
            external_id=f"{visitor}:press:{action}",
            action=action,
        )
        try:
            await adapter.sink.inbound(event)
        except Exception:
            log.exception("site: the core did not take a visitor's press")
            raise web.HTTPServiceUnavailable(text="not stored, please retry") from None
        return web.json_response({"ok": True})

    async def upload(request: web.Request, origin: str | None) -> web.Response:
        visitor = visitor_of(request)
        limit = adapter.files.max_size
        if request.content_length is not None and request.content_length > limit:
            raise _too_large(BodyTooLarge(limit, request.content_length))
        adapter.upload_limit.check(visitor)
        address = adapter.client_address(request)
        language = _language(adapter, request.query.get("lang"))
        quotas = adapter.upload_quotas
        try:
            if request.content_length:  # refused before a byte is read
                await quotas.check(visitor, address, request.content_length)
            data = await read_body(request, limit)
            await quotas.check(visitor, address, len(data))
        except OverQuota as exc:
            return _over_quota(exc, language, adapter.texts)
        name = unquote(request.headers.get("X-File-Name", ""))
        try:  # no await from the last check to `add`: a concurrent upload cannot slip between
            stored = adapter.files.save(
                adapter.widget_id, visitor, data, name, request.headers.get("Content-Type", "")
            )
        except UploadRefused as exc:
            raise web.HTTPUnsupportedMediaType(text=str(exc)) from None
        quotas.add(visitor, address, stored.size)
        return web.json_response(
            {
                "file": {
                    "id": stored.id,
                    "name": stored.name,
                    "mime": stored.mime,
                    "size": stored.size,
                    "kind": stored.kind,
                    "url": adapter.file_link(visitor, stored.id),
                }
            }
        )

    async def file(request: web.Request, origin: str | None) -> web.StreamResponse:
        visitor, file_id = request.match_info["visitor"], request.match_info["file"]
        expected = tokens.file_signature(adapter.key, adapter.widget_id, visitor, file_id)
        found = None
        if tokens.VISITOR_ID.match(visitor) and same_secret(request.match_info["sig"], expected):
            found = adapter.files.find(adapter.widget_id, visitor, file_id)
        if found is None:
            raise web.HTTPNotFound(text="no such file")
        path, stored = found
        disposition = "inline" if stored.mime.startswith("image/") else "attachment"
        return web.FileResponse(
            path,
            headers={
                "Content-Type": stored.mime,
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(stored.name)}",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, max-age=86400",
            },
        )

    async def socket(request: web.Request, origin: str | None) -> web.StreamResponse:
        after = _int(request.query.get("after", "0"), "after")
        in_url = request.query.get("token")  # scripts cached before the `auth` message
        visitor = visitor_of(request, in_url) if in_url is not None else None
        try:
            slot = adapter.sockets.admit(adapter.client_address(request))
        except SocketRefused as exc:
            raise exc.http() from None
        try:
            if visitor is not None:
                try:
                    bind_visitor(slot, visitor)
                except SocketRefused as exc:
                    raise exc.http() from None
            ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
            await ws.prepare(request)
            visitor = visitor or await authenticate(ws, slot)
            if visitor is not None:
                await live(ws, visitor, after)
            return ws
        finally:
            slot.release()

    async def live(ws: web.WebSocketResponse, visitor: str, after: int) -> None:
        """What is newer than `after`, "ready", then live messages until the socket closes."""
        adapter.hub.add(visitor, ws)  # before reading history: nothing falls in between
        try:
            for message in await adapter.history.since(visitor, after):
                await ws.send_json({"type": "message", "message": message})
            await ws.send_json({"type": "ready"})
            async for incoming in ws:
                if incoming.type == WSMsgType.TEXT and incoming.data == '{"type":"ping"}':
                    await ws.send_json({"type": "pong"})
        finally:
            adapter.hub.remove(visitor, ws)

    def bind_visitor(slot: Slot, visitor: str) -> None:
        """Count the socket against its visitor: the tab cap, then the handshake rate."""
        slot.bind(f"{adapter.widget_id}/{visitor}")
        wait = adapter.connection_limit.wait_time(visitor)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise SocketRefused(seconds, f"too many connections, retry after {seconds}s")

    async def authenticate(ws: web.WebSocketResponse, slot: Slot) -> str | None:
        """The visitor of the socket's `auth` message, answered; None once it is closed."""
        checked = await receive_auth(ws, check, adapter.sockets.auth_timeout)
        if not checked.accepted or checked.visitor is None:
            return None
        try:
            bind_visitor(slot, checked.visitor)
        except SocketRefused as exc:
            await ws.close(code=CLOSE_TRY_LATER, message=exc.reason.encode())
            return None
        answer: dict[str, Any] = {"type": "auth", "ok": True}
        fresh = renewal(checked)
        if fresh is not None:
            answer["token"] = fresh
        await ws.send_json(answer)
        return checked.visitor

    return [
        web.get(f"{base}.js", script),
        web.get(f"{base}.css", style),
        web.get(base, page),
        web.options(base + "/{tail:.*}", preflight),
        web.post(f"{base}/visitors", api(new_visitor, require_origin=True)),
        web.get(f"{base}/history", api(history, require_origin=False)),
        web.post(f"{base}/messages", api(post_message, require_origin=True)),
        web.post(f"{base}/actions", api(press, require_origin=True)),
        web.post(
            f"{base}/uploads",
            api(upload, require_origin=True, max_body=adapter.files.max_size),
        ),
        web.get(base + "/files/{visitor}/{file}/{sig}", api(file, require_origin=False)),
        web.get(f"{base}/ws", api(socket, require_origin=True)),
    ]


def _attachment(adapter: SiteAdapter, visitor: str, file_id: Any) -> Attachment:
    found = (
        adapter.files.find(adapter.widget_id, visitor, file_id)
        if isinstance(file_id, str)
        else None
    )
    if found is None:
        raise web.HTTPBadRequest(text=f"no uploaded file {file_id!r}")
    path, stored = found
    link = adapter.file_link(visitor, stored.id)
    return Attachment(
        kind=stored.kind,
        url=f"{adapter.public_url}{link}" if adapter.public_url else None,
        file_ref=f"site-file:{visitor}/{stored.id}",
        file_name=stored.name,
        mime_type=stored.mime,
        size=stored.size,
        data=path.read_bytes(),
    )


def _language(adapter: SiteAdapter, requested: Any) -> str:
    """The language of the widget's page when it says one ("ru"/"en"), else the config's."""
    if isinstance(requested, str) and requested in LANGUAGES:
        return requested
    return adapter.language


def _refusal(status: int, message: str, *, retry_after: float | None = None) -> web.Response:
    """A refusal the widget shows to the visitor as it is (`notice`: already translated)."""
    headers = {} if retry_after is None else {"Retry-After": str(max(1, math.ceil(retry_after)))}
    return web.json_response({"error": message, "notice": message}, status=status, headers=headers)


def _over_quota(exc: OverQuota, language: str, texts: CustomerTexts) -> web.Response:
    if exc.scope is Scope.WIDGET:
        message = texts(language, "widget_storage_full")
        return _refusal(429, message, retry_after=RESCAN)
    message = texts(language, "widget_upload_quota")
    return _refusal(429, message, retry_after=exc.retry_after)


def _too_large(exc: BodyTooLarge) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(max_size=exc.limit, actual_size=exc.size, text=str(exc))


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from None
    if number < 0:
        raise web.HTTPBadRequest(text=f"{name} must not be negative")
    if number > MAX_ID:
        raise web.HTTPBadRequest(text=f"{name} must be at most {MAX_ID}")
    return number


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
