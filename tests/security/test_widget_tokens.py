"""Visitor tokens expire (issue 14), and active visitors never notice.

A token names its issue time under the signature; after `TOKEN_LIFETIME` it gets 403 saying it
expired, and after `RENEW_AFTER` every answer it gets carries a fresh token for the same
visitor (`X-Visitor-Token`, readable by the widget's origin; on the WebSocket, in the `auth`
answer). Tokens of earlier releases are accepted and renewed at once, so no visitor loses a
conversation on upgrade. The WebSocket takes its token in its first message, not in the URL.
Over real HTTP against the widget's routes.
"""

from __future__ import annotations

import time

from aiohttp import WSMsgType

from adapters.site.sockets import CLOSE_FORBIDDEN
from adapters.site.tokens import (
    RENEW_AFTER,
    TOKEN_HEADER,
    TOKEN_LIFETIME,
    issue_token,
    legacy_token,
    new_visitor_id,
)
from tests.adapters.site.harness import (
    SECRET,
    SHOP_ORIGIN,
    WIDGET,
)
from tests.adapters.site.test_widget_api import GOOD, auth, history, new_token, say
from tests.security.abuse import Ledger

KEY = SECRET.encode()
DAY = 24 * 3600
EXPIRED = "this visitor token has expired, start a new conversation"


def aged(visitor: str, seconds: float) -> str:
    """The token the widget would hold had it been issued `seconds` ago."""
    return issue_token(KEY, WIDGET, visitor, issued=time.time() - seconds)


async def test_an_expired_token_gets_403_saying_so_everywhere(client, bridge, ledger: Ledger):
    row = ledger.attack("expired visitor token")
    token = await new_token(client)
    visitor = token.split(".")[0]
    assert (await say(client, token, "my order", "order-msg-1")).status == 200
    old = aged(visitor, TOKEN_LIFETIME + 60)

    read = await client.get(f"/widget/{WIDGET}/history?after=0", headers=auth(old))
    row.count(read.status, succeeded=read.status == 200)
    assert read.status == 403 and (await read.json()) == {"error": EXPIRED}
    assert read.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN  # the widget reads why
    written = await say(client, old, "still me", "still-me-1")
    row.count(written.status, succeeded=written.status == 200)
    assert written.status == 403

    ws = await client.ws_connect(f"/widget/{WIDGET}/ws?after=0", headers=GOOD)
    await ws.send_json({"type": "auth", "token": old})
    closed = await ws.receive(timeout=5)
    row.count(403, succeeded=closed.type != WSMsgType.CLOSE)
    assert closed.type == WSMsgType.CLOSE
    assert ws.close_code == CLOSE_FORBIDDEN and closed.extra == EXPIRED
    assert row.succeeded == 0 and row.server_errors == 0
    assert [e.text for e in bridge.sink.inbound_events] == ["my order"]


async def test_a_day_old_token_is_answered_with_a_fresh_one_for_the_same_visitor(client):
    token = await new_token(client)
    visitor = token.split(".")[0]
    await say(client, token, "hello", "hello-msg-1")
    old = aged(visitor, RENEW_AFTER + 60)

    response = await client.get(f"/widget/{WIDGET}/history?after=0", headers=auth(old))
    assert response.status == 200
    fresh = response.headers[TOKEN_HEADER]
    assert fresh != old and fresh.split(".")[0] == visitor
    assert TOKEN_HEADER in response.headers["Access-Control-Expose-Headers"]
    assert [m["text"] for m in await history(client, fresh)] == ["hello"]
    # A fresh token is not renewed again, and a new one has no reason to be.
    again = await client.get(f"/widget/{WIDGET}/history?after=0", headers=auth(fresh))
    assert TOKEN_HEADER not in again.headers
    posted = await say(client, aged(visitor, 2 * DAY), "more", "more-msg-1")
    assert posted.status == 200 and posted.headers[TOKEN_HEADER].split(".")[0] == visitor

    ws = await client.ws_connect(f"/widget/{WIDGET}/ws?after=0", headers=GOOD)
    await ws.send_json({"type": "auth", "token": aged(visitor, 3 * DAY)})
    answer = await ws.receive_json(timeout=5)
    assert answer["type"] == "auth" and answer["ok"] is True
    assert answer["token"].split(".")[0] == visitor
    await ws.close()


async def test_a_token_of_the_previous_release_keeps_its_conversation_and_is_renewed(client):
    visitor = new_visitor_id()
    legacy = legacy_token(KEY, WIDGET, visitor)
    assert legacy.count(".") == 1  # `<visitor>.<signature>`, as browsers hold them today
    assert (await say(client, legacy, "from before the upgrade", "before-upgrade")).status == 200

    response = await client.get(f"/widget/{WIDGET}/history?after=0", headers=auth(legacy))
    assert response.status == 200
    assert [m["text"] for m in (await response.json())["messages"]] == ["from before the upgrade"]
    fresh = response.headers[TOKEN_HEADER]
    assert fresh.split(".")[0] == visitor and fresh.count(".") == 2
    assert [m["text"] for m in await history(client, fresh)] == ["from before the upgrade"]
    # Old scripts (cached for 5 minutes) still connect with the token in the URL.
    ws = await client.ws_connect(f"/widget/{WIDGET}/ws?token={legacy}&after=0", headers=GOOD)
    assert (await ws.receive_json(timeout=5))["message"]["text"] == "from before the upgrade"
    assert (await ws.receive_json(timeout=5)) == {"type": "ready"}
    await ws.close()


async def test_forged_and_future_tokens_are_refused(client):
    visitor = new_visitor_id()
    good = issue_token(KEY, WIDGET, visitor)
    _, issued, signature = good.split(".")
    stretched = f"{visitor}.{int(issued) + TOKEN_LIFETIME}.{signature}"  # a later date, same sig
    future = aged(visitor, -DAY)  # signed by us, but issued tomorrow: not a clock's drift
    other_widget = issue_token(KEY, "other", visitor)
    for token in (stretched, future, other_widget, f"{visitor}.{'A' * 32}"):
        response = await client.get(f"/widget/{WIDGET}/history?after=0", headers=auth(token))
        assert response.status == 403, token
        assert (await response.json()) == {"error": "this visitor token is not valid"}
