"""Hostile upload names: bidirectional controls that disguise an extension, undecodable
bytes, an extension that does not match the bytes. What the operators and the customer see is
a plain name ending with the extension of the checked type."""

from __future__ import annotations

from urllib.parse import quote

from adapters.site.uploads import clean_name
from tests.adapters.site.harness import WIDGET
from tests.adapters.site.test_widget_api import PNG, auth, new_token, say


async def test_a_disguised_name_reaches_the_operators_plain_and_with_the_real_extension(
    client, bridge
) -> None:
    token = await new_token(client)
    disguised = "invoice\u202egnp.exe"  # shows as "invoiceexe.png" in a bidi-aware view
    headers = {**auth(token), "Content-Type": "image/png", "X-File-Name": quote(disguised)}
    uploaded = await client.post(f"/widget/{WIDGET}/uploads", data=PNG, headers=headers)
    assert uploaded.status == 200
    file = (await uploaded.json())["file"]
    assert file["name"] == "invoicegnp.exe.png"
    said = await say(client, token, "the invoice", "bidi-name-1", files=[file["id"]])
    assert said.status == 200
    (event,) = bridge.sink.inbound_events
    (attachment,) = event.attachments
    assert attachment.file_name == "invoicegnp.exe.png"


def test_names_keep_a_matching_extension_and_lose_what_hides() -> None:
    assert clean_name("a\udcff\udcfe.png", "image/png") == "a_.png"  # undecodable header bytes
    assert clean_name("photo.JPG", "image/jpeg") == "photo.JPG"
    assert clean_name("report.pdf.exe", "application/pdf") == "report.pdf.exe.pdf"
    assert clean_name("\u200fnotes\u2066.txt", "text/plain") == "notes.txt"
    assert clean_name("", "application/pdf") == "file.pdf"
    long = clean_name("a" * 300 + ".pdf", "application/pdf")
    assert len(long) == 120 and long.endswith(".pdf")
