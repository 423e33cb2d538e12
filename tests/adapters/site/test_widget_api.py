"""The widget's HTTP and WebSocket API against real storage and a recording core."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from adapters.site.sockets import CLOSE_FORBIDDEN
from adapters.site.tokens import issue_token, new_visitor_id
from bridge.errors import PermanentError
from bridge.events import Attachment
from storage.models import OutboxItem
from tests.adapters.site.harness import SECRET, SHOP_ORIGIN, WIDGET

GOOD = {"Origin": SHOP_ORIGIN}
EVIL = {"Origin": "https://evil.test"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def new_token(client) -> str:
    response = await client.post(f"/widget/{WIDGET}/visitors", headers=GOOD)
    assert response.status == 200
    return (await response.json())["token"]


def auth(token: str) -> dict[str, str]:
    return {**GOOD, "Authorization": f"Bearer {token}"}


async def say(client, token: str, text: str, message_id: str = "", **extra):
    body = {"id": message_id or f"m{abs(hash(text)):012d}", "text": text, **extra}
    return await client.post(f"/widget/{WIDGET}/messages", json=body, headers=auth(token))


async def live_socket(client, token: str, after: int = 0):
    """A socket as the widget opens it: `?after=` in the URL, the token in the first message."""
    ws = await client.ws_connect(f"/widget/{WIDGET}/ws?after={after}", headers=GOOD)
    await ws.send_json({"type": "auth", "token": token})
    assert (await ws.receive_json(timeout=5)) == {"type": "auth", "ok": True}
    return ws


async def history(client, token: str, after: int = 0) -> list[dict]:
    response = await client.get(f"/widget/{WIDGET}/history?after={after}", headers=auth(token))
    assert response.status == 200, await response.text()
    return (await response.json())["messages"]


async def test_visitor_message_reaches_the_core_as_inbound_of_the_widget_channel(client, bridge):
    token = await new_token(client)
    visitor = token.split(".")[0]
    response = await say(client, token, "Where is my order?", "order-question-1", name=" Kate ")
    assert response.status == 200
    body = await response.json()
    (event,) = bridge.sink.inbound_events
    assert event.channel == "site:shop"
    assert (event.chat, event.user) == (visitor, visitor)
    assert event.external_id == f"{visitor}:order-question-1"
    assert event.text == "Where is my order?"
    assert event.profile.display_name == "Kate"
    assert body["message"]["id"] > 0 and body["message"]["text"] == "Where is my order?"
    assert body["message"]["client"] == "order-question-1"


async def test_a_retried_post_is_a_duplicate_and_stored_once(client, bridge):
    token = await new_token(client)
    first = await say(client, token, "hello", "same-id-123")
    again = await say(client, token, "hello", "same-id-123")
    assert (await again.json())["duplicate"] is True
    assert len(bridge.sink.inbound_events) == 1
    assert [m["id"] for m in await history(client, token)] == [
        (await first.json())["message"]["id"]
    ]


async def test_an_unstored_message_is_not_acknowledged(client, bridge):
    token = await new_token(client)
    bridge.sink.fail_next = 1
    response = await say(client, token, "lost?", "not-stored-1")
    assert response.status == 503
    assert (await say(client, token, "lost?", "not-stored-1")).status == 200
    assert [m["text"] for m in await history(client, token)] == ["lost?"]


async def test_a_forged_token_gets_403_and_reads_nothing(client, bridge):
    victim = await new_token(client)
    await say(client, victim, "my secret address", "secret-msg-1")
    attacker = await new_token(client)
    forged = victim.split(".")[0] + "." + attacker.split(".")[1]
    other_widget = issue_token(SECRET.encode(), "other", victim.split(".")[0])
    for bad in (forged, other_widget, "garbage", victim + "x"):
        response = await client.get(f"/widget/{WIDGET}/history", headers=auth(bad))
        assert response.status == 403
        assert "secret" not in await response.text()
        assert (await say(client, bad, "hi", "forged-msg-1")).status == 403
        ws = await client.ws_connect(f"/widget/{WIDGET}/ws?after=0", headers=GOOD)
        await ws.send_json({"type": "auth", "token": bad})
        closed = await ws.receive(timeout=5)
        assert closed.type == WSMsgType.CLOSE and ws.close_code == CLOSE_FORBIDDEN
        assert closed.extra == "this visitor token is not valid"
        with pytest.raises(WSServerHandshakeError) as refused:  # an old script's URL token
            await client.ws_connect(f"/widget/{WIDGET}/ws?token={bad}", headers=GOOD)
        assert refused.value.status == 403
    assert len(bridge.sink.inbound_events) == 1


async def test_a_foreign_origin_gets_403_everywhere(client, bridge):
    token = await new_token(client)
    assert (await client.post(f"/widget/{WIDGET}/visitors", headers=EVIL)).status == 403
    headers = {**EVIL, "Authorization": f"Bearer {token}"}
    response = await client.get(f"/widget/{WIDGET}/history", headers=headers)
    assert response.status == 403 and "Access-Control-Allow-Origin" not in response.headers
    body = {"id": "evil-message", "text": "hi"}
    post = await client.post(f"/widget/{WIDGET}/messages", json=body, headers=headers)
    assert post.status == 403
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(f"/widget/{WIDGET}/ws", headers=EVIL)
    assert refused.value.status == 403
    # A POST without any Origin is refused too (browsers always send one).
    no_origin = {"Authorization": f"Bearer {token}"}
    post = await client.post(f"/widget/{WIDGET}/messages", json=body, headers=no_origin)
    assert post.status == 403
    # Another widget's origins are not this widget's.
    other = {"Origin": "https://other.test"}
    assert (await client.post(f"/widget/{WIDGET}/visitors", headers=other)).status == 403
    assert bridge.sink.inbound_events == []


async def test_cors_preflight_names_only_the_allowed_origin(client):
    good = await client.options(
        f"/widget/{WIDGET}/messages",
        headers={**GOOD, "Access-Control-Request-Method": "POST"},
    )
    assert good.status == 204
    assert good.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    evil = await client.options(f"/widget/{WIDGET}/messages", headers=EVIL)
    assert evil.status == 403 and "Access-Control-Allow-Origin" not in evil.headers


async def test_a_visitor_reads_only_their_own_conversation(client, bridge):
    alice, bob = await new_token(client), await new_token(client)
    await say(client, alice, "Alice here", "alice-msg-1")
    await say(client, bob, "Bob here", "bob-msg-001")
    await bridge.reply(alice.split(".")[0], "Hello Alice")
    assert [m["text"] for m in await history(client, alice)] == ["Alice here", "Hello Alice"]
    assert [m["text"] for m in await history(client, bob)] == ["Bob here"]
    alice_reply = (await history(client, alice))[-1]
    assert alice_reply["from"] == "operator" and alice_reply["author"] == "Anna"


async def test_too_many_messages_get_429_with_retry_after(client, bridge):
    token = await new_token(client)
    statuses = []
    for number in range(12):
        response = await say(client, token, f"spam {number}", f"spam-message-{number}")
        statuses.append(response.status)
    assert statuses[:8] == [200] * 8
    assert 429 in statuses
    refused = response if response.status == 429 else None
    assert refused is not None and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert len(bridge.sink.inbound_events) == statuses.count(200)


async def test_oversized_and_empty_messages_are_refused_with_a_reason(client, bridge):
    token = await new_token(client)
    too_long = await say(client, token, "x" * 4001, "too-long-msg")
    assert too_long.status == 400 and "4000" in (await too_long.json())["error"]
    assert (await say(client, token, "   ", "empty-message")).status == 400
    assert (await say(client, token, "ok", "bad id!")).status == 400
    assert bridge.sink.inbound_events == []


async def test_a_reply_is_pushed_live_to_every_open_socket(client, bridge):
    token = await new_token(client)
    await say(client, token, "anyone there?", "anyone-there")
    visitor = token.split(".")[0]
    tabs = [await live_socket(client, token) for _ in range(2)]
    for tab in tabs:
        first = await tab.receive_json(timeout=5)
        assert first["message"]["text"] == "anyone there?"
        assert (await tab.receive_json(timeout=5))["type"] == "ready"
    result = await bridge.reply(visitor, "Yes, how can I help?")
    assert result["sockets"] == 2
    for tab in tabs:
        pushed = await tab.receive_json(timeout=5)
        assert pushed["message"]["text"] == "Yes, how can I help?"
        assert pushed["message"]["from"] == "operator"
        await tab.close()


async def test_a_reconnecting_socket_misses_nothing(client, bridge):
    token = await new_token(client)
    visitor = token.split(".")[0]
    await say(client, token, "first", "first-message")
    ws = await live_socket(client, token)
    last = (await ws.receive_json(timeout=5))["message"]["id"]
    await ws.close()
    await asyncio.sleep(0.05)
    offline = await bridge.reply(visitor, "reply one")
    await bridge.reply(visitor, "reply two")
    assert offline["sockets"] == 0
    ws = await live_socket(client, token, after=last)
    got = [(await ws.receive_json(timeout=5))["message"]["text"] for _ in range(2)]
    assert got == ["reply one", "reply two"]
    assert (await ws.receive_json(timeout=5))["type"] == "ready"
    await ws.close()


async def test_an_image_travels_with_the_message_and_only_its_owner_can_fetch_it(client, bridge):
    token = await new_token(client)
    headers = {**auth(token), "Content-Type": "image/png", "X-File-Name": "photo%201.png"}
    uploaded = await client.post(f"/widget/{WIDGET}/uploads", data=PNG, headers=headers)
    assert uploaded.status == 200
    file = (await uploaded.json())["file"]
    assert file["name"] == "photo 1.png" and file["kind"] == "photo"
    assert (await say(client, token, "see photo", "photo-msg-1", files=[file["id"]])).status == 200
    (event,) = bridge.sink.inbound_events
    (attachment,) = event.attachments
    assert attachment.kind == "photo" and attachment.data == PNG
    assert attachment.url == "http://bridge.test" + file["url"]
    served = await client.get(file["url"])
    assert served.status == 200 and await served.read() == PNG
    assert served.headers["Content-Type"] == "image/png"
    stranger = new_visitor_id()
    forged = file["url"].replace(token.split(".")[0], stranger)
    assert (await client.get(forged)).status == 404
    (shown,) = (await history(client, token))[0]["attachments"]
    assert shown["url"] == file["url"]
    # Another visitor cannot attach someone else's file to their own message.
    other = await new_token(client)
    assert (await say(client, other, "mine", "steal-file-1", files=[file["id"]])).status == 400


async def test_uploads_are_limited_in_type_and_size(client, bridge):
    token = await new_token(client)
    fake_png = await client.post(
        f"/widget/{WIDGET}/uploads",
        data=b"<script>alert(1)</script>",
        headers={**auth(token), "Content-Type": "image/png"},
    )
    assert fake_png.status == 415
    html = await client.post(
        f"/widget/{WIDGET}/uploads",
        data=b"<b>hi</b>",
        headers={**auth(token), "Content-Type": "text/html"},
    )
    assert html.status == 415
    huge = await client.post(
        f"/widget/{WIDGET}/uploads",
        data=PNG + b"\x00" * (5 * 1024 * 1024),
        headers={**auth(token), "Content-Type": "image/png"},
    )
    assert huge.status == 413


async def test_an_operators_file_with_bytes_is_stored_for_the_visitor(client, bridge):
    token = await new_token(client)
    visitor = token.split(".")[0]
    await say(client, token, "send me the invoice", "invoice-ask")
    ws = await live_socket(client, token, after=999999)
    assert (await ws.receive_json(timeout=5))["type"] == "ready"
    pdf = Attachment(
        kind="document",
        file_name="invoice.pdf",
        mime_type="application/pdf",
        data=b"%PDF-1.4 test",
    )
    await bridge.reply(visitor, "Here it is", (pdf,))
    (shown,) = (await ws.receive_json(timeout=5))["message"]["attachments"]
    assert shown["name"] == "invoice.pdf"
    served = await client.get(shown["url"])
    assert await served.read() == b"%PDF-1.4 test"
    assert served.headers["Content-Disposition"].startswith("attachment")
    await ws.close()


async def test_the_embed_script_and_the_standalone_page_are_served(client):
    script = await client.get(f"/widget/{WIDGET}.js")
    assert script.status == 200 and script.content_type == "application/javascript"
    text = await script.text()
    assert '"title": "Shop support"' in text and "__TB_CONFIG__" not in text
    page = await client.get(f"/widget/{WIDGET}?lang=ru")
    assert '<html lang="ru">' in await page.text()
    assert (await client.get(f"/widget/{WIDGET}.css")).status == 200


async def test_the_sender_refuses_a_row_for_an_unknown_widget(bridge):
    item = OutboxItem(
        id=1,
        platform="site",
        destination="x",
        lane="x",
        kind="reply",
        payload={"channel": "site:nope", "chat": "abc", "text": "hi"},
    )
    with pytest.raises(PermanentError):
        await bridge.site.sender.deliver(item)
