"""An operator's photos and files in the widget: a working link live, after a reload, once."""

from __future__ import annotations

import pytest

from adapters.site.tokens import new_visitor_id
from bridge.errors import TransientError
from bridge.events import Attachment
from tests.adapters.site.harness import WIDGET
from tests.adapters.site.test_widget_api import GOOD, PNG, history, new_token, say

PDF = b"%PDF-1.4 invoice"
DOCX = b"PK\x03\x04" + b"\x00" * 32


async def visitor_with_socket(client, bridge):
    """A visitor who wrote once and keeps the widget open (a live socket)."""
    token = await new_token(client)
    await say(client, token, "can you send it?", "ask-for-file")
    ws = await client.ws_connect(f"/widget/{WIDGET}/ws?token={token}&after=999999", headers=GOOD)
    assert (await ws.receive_json(timeout=5))["type"] == "ready"
    return token, token.split(".")[0], ws


def kept_files(bridge, visitor: str) -> list[str]:
    folder = bridge.site.files.root / WIDGET / visitor
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".json"))


async def test_an_operators_telegram_photo_shows_as_an_image_live_and_after_a_reload(
    client, bridge
):
    token, visitor, ws = await visitor_with_socket(client, bridge)
    file_id = bridge.operator_files.add(PNG, "image/png")
    photo = Attachment(kind="photo", file_ref=file_id, size=len(PNG))
    await bridge.reply(visitor, "Here is the parcel", (photo,))

    (live,) = (await ws.receive_json(timeout=5))["message"]["attachments"]
    assert live["kind"] == "photo" and live["mime"] == "image/png"
    served = await client.get(live["url"])
    assert served.status == 200 and await served.read() == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Content-Disposition"].startswith("inline")

    reply = (await history(client, token))[-1]
    assert reply["text"] == "Here is the parcel"
    assert reply["attachments"] == [live]  # a reload shows the same working link
    await ws.close()


async def test_an_operators_file_is_a_download_only_its_visitor_can_fetch(client, bridge):
    _, visitor, ws = await visitor_with_socket(client, bridge)
    file_id = bridge.operator_files.add(PDF, "application/pdf")
    invoice = Attachment(kind="document", file_ref=file_id, file_name="invoice.pdf")
    await bridge.reply(visitor, "Your invoice", (invoice,))

    (shown,) = (await ws.receive_json(timeout=5))["message"]["attachments"]
    assert (shown["kind"], shown["name"]) == ("document", "invoice.pdf")
    served = await client.get(shown["url"])
    assert await served.read() == PDF
    assert served.headers["Content-Disposition"].startswith("attachment")
    stranger = shown["url"].replace(visitor, new_visitor_id())
    assert (await client.get(stranger)).status == 404
    await ws.close()


async def test_a_retried_reply_keeps_no_second_copy_and_fetches_once(client, bridge):
    token, visitor, ws = await visitor_with_socket(client, bridge)
    file_id = bridge.operator_files.add(PNG, "image/png")
    pdf = Attachment("document", file_name="invoice.pdf", mime_type="application/pdf", data=PDF)
    photo = Attachment(kind="photo", file_ref=file_id)
    item = await bridge.store_reply(visitor, "Both files", (pdf, photo))

    await bridge.site.sender.deliver(item)
    first = (await ws.receive_json(timeout=5))["message"]
    await bridge.site.sender.deliver(item)  # the outbox retries the row
    second = (await ws.receive_json(timeout=5))["message"]

    assert second == first  # the same message id, which the widget shows once
    assert len(kept_files(bridge, visitor)) == 2
    assert bridge.operator_files.fetches == [file_id]
    after_reload = (await history(client, token))[-1]["attachments"]
    assert [a["url"] for a in after_reload] == [a["url"] for a in first["attachments"]]
    assert [await (await client.get(a["url"])).read() for a in after_reload] == [PDF, PNG]
    await ws.close()


async def test_a_document_of_another_type_is_offered_as_an_opaque_download(client, bridge):
    _, visitor, ws = await visitor_with_socket(client, bridge)
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    file_id = bridge.operator_files.add(DOCX, docx)
    contract = Attachment(kind="document", file_ref=file_id, file_name="contract.docx")
    await bridge.reply(visitor, "Please sign", (contract,))

    (shown,) = (await ws.receive_json(timeout=5))["message"]["attachments"]
    assert shown["name"] == "contract.docx" and "url" in shown
    served = await client.get(shown["url"])
    assert await served.read() == DOCX
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    await ws.close()


async def test_a_photo_whose_bytes_are_no_image_is_not_rendered_as_one(client, bridge):
    _, visitor, ws = await visitor_with_socket(client, bridge)
    file_id = bridge.operator_files.add(b"<svg onload=alert(1)>", "image/svg+xml")
    await bridge.reply(visitor, "", (Attachment(kind="photo", file_ref=file_id),))

    (shown,) = (await ws.receive_json(timeout=5))["message"]["attachments"]
    assert shown["kind"] == "document" and shown["mime"] == "application/octet-stream"
    served = await client.get(shown["url"])
    assert served.headers["Content-Disposition"].startswith("attachment")
    await ws.close()


async def test_a_file_telegram_no_longer_has_is_shown_by_name_and_the_text_arrives(client, bridge):
    _, visitor, ws = await visitor_with_socket(client, bridge)
    gone = Attachment(kind="document", file_ref="AgACgone", file_name="old.pdf")
    result = await bridge.reply(visitor, "The old invoice", (gone,))

    message = (await ws.receive_json(timeout=5))["message"]
    assert result["sockets"] == 1 and message["text"] == "The old invoice"
    (shown,) = message["attachments"]
    assert shown["name"] == "old.pdf" and "url" not in shown
    await ws.close()


async def test_a_fetch_that_fails_for_now_is_retried_before_anything_is_pushed(client, bridge):
    _, visitor, ws = await visitor_with_socket(client, bridge)
    file_id = bridge.operator_files.add(PNG, "image/png")
    photo = Attachment(kind="photo", file_ref=file_id)
    item = await bridge.store_reply(visitor, "photo", (photo,))
    await bridge.operator_files.stop()  # the bridge's file route does not answer
    with pytest.raises(TransientError):
        await bridge.site.sender.deliver(item)

    await bridge.operator_files.start()  # back (on another port, which the links follow)
    await bridge.site.sender.deliver(item)
    (shown,) = (await ws.receive_json(timeout=5))["message"]["attachments"]
    assert await (await client.get(shown["url"])).read() == PNG
    await ws.close()
