"""The Page itself in the fake Graph API: `GET /me`, and the apps subscribed to its webhook.

`GET /{page-id}/subscribed_apps` lists the app with the webhook fields the Page sends it;
`POST` subscribes it (`subscribed_fields=a,b`), `DELETE` unsubscribes it. A fake starts
subscribed to what the bridge handles; a test sets `FakeFacebook.subscribed_fields` to None
(not subscribed) or to fewer fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.facebook.send_rules import GraphError, param_error

if TYPE_CHECKING:
    from sandbox.facebook.fake import FakeFacebook

#: What a working installation subscribes the Page to (adapters/facebook/registration.py).
DEFAULT_FIELDS = ("messages", "messaging_postbacks", "message_deliveries", "message_reads")
APP_ID = "900800700"
APP_NAME = "Talker Bridge"


def page_json(fake: FakeFacebook) -> dict[str, Any]:
    """`GET /me` with a page token: the Page's id and name."""
    return {"id": fake.page_id, "name": fake.page_name}


def subscribed_apps_json(fake: FakeFacebook) -> dict[str, Any]:
    if fake.subscribed_fields is None:
        return {"data": []}
    app = {
        "category": "Business",
        "link": f"https://www.facebook.com/games/?app_id={APP_ID}",
        "name": APP_NAME,
        "id": APP_ID,
        "subscribed_fields": list(fake.subscribed_fields),
    }
    return {"data": [app]}


async def subscribed_apps(fake: FakeFacebook, request: web.Request) -> web.Response:
    """GET, POST or DELETE /{page-id}/subscribed_apps."""
    node = request.match_info["node"]
    shown = {"node": node, "method": request.method}
    try:
        await fake.check_token(request)
        fake.check_page(node)
        if request.method == "POST":
            raw = request.query.get("subscribed_fields") or (await request.post()).get(
                "subscribed_fields"
            )
            if not isinstance(raw, str) or not raw:
                raise param_error("(#100) The parameter subscribed_fields is required")
            fake.subscribed_fields = tuple(f for f in raw.split(",") if f)
            result: dict[str, Any] = {"success": True}
        elif request.method == "DELETE":
            fake.subscribed_fields = None
            result = {"success": True}
        else:
            result = subscribed_apps_json(fake)
    except GraphError as error:
        return fake.graph_error("subscribed_apps", shown, error)
    fake.calls.record("subscribed_apps", shown, fake.clock.now(), "ok")
    return web.json_response(result)
