"""The Facebook page token never travels in a URL (issue 14), on the whole service.

URLs end up in proxies' and servers' access logs, in error messages and tracebacks; a page
token there lets anyone who reads them write as the Page. The Messenger adapter sends it in the
`Authorization: Bearer` header on every Graph API call; the fake Page records where each call
carried it (`FakeFacebook.token_arrivals`), which is what this test reads.
"""

from __future__ import annotations

import asyncio

from adapters.facebook.adapter import FacebookAdapter
from app.demo import DemoRunner
from bridge.events import Attachment, Outbound
from sandbox.facebook.fake import TOKEN_IN_HEADER
from tests.adapters.outbox_rows import reply_row
from tests.security.abuse import Ledger


def facebook_of(demo: DemoRunner) -> FacebookAdapter:
    assert demo.service is not None
    return next(c for c in demo.service.components if isinstance(c, FacebookAdapter))


async def test_no_graph_api_call_carries_the_page_token_in_its_url(
    demo: DemoRunner, ledger: Ledger
):
    row = ledger.attack("Facebook page token readable in request URLs")
    assert demo.sandbox is not None
    page = demo.sandbox.facebook
    adapter = facebook_of(demo)
    psid = page.add_user(first_name="Lea", last_name="Token")
    # A customer writes: the bridge looks up their profile (GET <PSID>) ...
    await page.customer_message(psid, "hello")
    for _ in range(100):
        if any(a.method == "GET" for a in page.token_arrivals):
            break
        await asyncio.sleep(0.05)
    # ... and replies, with text and with a file (POST me/messages).
    await adapter.sender.deliver(reply_row("facebook", Outbound("facebook", psid, "Hi Lea")))
    photo = Attachment("photo", url=f"{demo.base_url}/static/logo.png")
    await adapter.sender.deliver(reply_row("facebook", Outbound("facebook", psid, "", (photo,))))

    arrivals = page.token_arrivals
    assert {a.method for a in arrivals} == {"GET", "POST"}
    for arrival in arrivals:
        leaked = page.page_token in arrival.url or arrival.via != TOKEN_IN_HEADER
        row.count(200, succeeded=leaked)
    assert row.succeeded == 0, [a for a in arrivals if a.via != TOKEN_IN_HEADER]
    assert row.server_errors == 0
    texts = [m["message"].get("text") for m in page.received(psid)]
    # Both replies went out (the demo's group may be closed: its offline answer goes out too).
    assert [t for t in texts if t is None or "We are closed now" not in t] == ["Hi Lea", None]
