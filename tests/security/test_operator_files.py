"""Operators' Telegram files served from the bridge's origin (issue 14), on the whole service.

The bridge's `/files/telegram/...` route shares its origin with the site widget, so a file an
operator sent (or was tricked into forwarding) must never run there: HTML, SVG, JavaScript and
a name crafted to break the header are each fetched through the link the bridge hands to VK,
Viber and Facebook. And a link is only good as signed: tampered or expired links get nothing.
"""

from __future__ import annotations

import time

import aiohttp
from multidict import CIMultiDictProxy

from app.demo import DemoRunner
from botapi.files import TelegramFiles
from sandbox.telegram.files import store_file
from tests.security.abuse import Ledger

#: Types a browser runs (or parses as markup) when shown: none may be served.
EXECUTABLE_TYPES = (
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "text/xml",
    "application/xml",
)
CSP = "default-src 'none'; sandbox"

HOSTILE = [
    ("page.html", b"<html><script>fetch('/widget/x/messages')</script></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"/>'),
    ("worker.js", b"self.onmessage = () => fetch('/demo')"),
    ("page.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>'),
    ("card.svgz", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
    ('x.h";b=1', b"<script>alert(1)</script>"),  # a name that tries to end its header
    ("no-extension", b"<!DOCTYPE html><script>alert(1)</script>"),
]


def files_of(demo: DemoRunner) -> TelegramFiles:
    assert demo.service is not None
    return next(c for c in demo.service.components if isinstance(c, TelegramFiles))


def operator_file(demo: DemoRunner, filename: str, data: bytes) -> str:
    """A document an operator sent in the group, as the fake Telegram keeps it: its file_id."""
    assert demo.sandbox is not None
    return store_file(demo.sandbox.telegram.world, "document", data, filename).file_id


def runs_on_our_origin(status: int, headers: CIMultiDictProxy[str]) -> bool:
    """The attack worked: the file was served inline, as a type a browser runs, or without
    the headers that stop the browser from sniffing or running it."""
    if status // 100 != 2:
        return False
    content_type = str(headers.get("Content-Type", "")).split(";")[0].strip().lower()
    disposition = str(headers.get("Content-Disposition", "")).lower()
    return (
        content_type in EXECUTABLE_TYPES
        or not disposition.startswith("attachment;")
        or headers.get("X-Content-Type-Options") != "nosniff"
        or headers.get("Content-Security-Policy") != CSP
    )


async def test_hostile_operator_files_are_served_as_inert_downloads(
    demo: DemoRunner, ledger: Ledger
):
    row = ledger.attack("hostile operator file types (html, svg, js) served")
    files = files_of(demo)
    served: dict[str, tuple[int, str, bool]] = {}
    async with aiohttp.ClientSession() as http:
        for filename, data in HOSTILE:
            link = files.link(operator_file(demo, filename, data))
            assert link is not None and link.startswith(demo.base_url)
            async with http.get(link) as response:
                body = await response.read()
                worked = runs_on_our_origin(response.status, response.headers)
                row.count(response.status, succeeded=worked)
                served[filename] = (response.status, response.content_type, body == data)
    assert row.succeeded == 0, served
    assert row.server_errors == 0
    # Still delivered (VK downloads the file; Viber and Messenger fetch it), only inert.
    assert set(served.values()) == {(200, "application/octet-stream", True)}


async def test_tampered_or_expired_file_links_get_nothing(demo: DemoRunner, ledger: Ledger):
    row = ledger.attack("tampered or expired file links")
    files = files_of(demo)
    assert demo.sandbox is not None
    telegram = demo.sandbox.telegram
    file_id = operator_file(demo, "contract.pdf", b"%PDF-1.7 the customer's contract")
    other_id = operator_file(demo, "other.pdf", b"%PDF-1.7 someone else's file")
    link = files.link(file_id)
    assert link is not None
    head, signature = link.rsplit("/", 1)
    expires, mac = signature.split(".")
    past = int(time.time()) - 1
    attempts = [
        f"{head}/{files.signature(file_id, past)}",  # signed by the bridge, expired a second ago
        f"{head}/{files.signature(file_id, past - 30 * 86400)}",
        f"{head}/{int(expires) + 365 * 86400}.{mac}",  # its life stretched by a year
        f"{head}/{expires}.{'f' * 32}",
        f"{head}/{mac}",  # the MAC alone, in the shape of an old link
        f"{head}/{'0' * 32}",
        link.replace(file_id, other_id),  # this signature on another file
        f"{head}/{expires}.{mac.upper()}",
        f"{head}/{expires}.",
        f"{head}/.{mac}",
        f"{head}/99999999999999999999.{mac}",
    ]
    before = len(telegram.calls("getFile"))
    async with aiohttp.ClientSession() as http:
        for url in attempts:
            async with http.get(url) as response:
                row.count(response.status, succeeded=response.status // 100 == 2)
                assert response.status in (403, 410), url
        async with http.get(link) as response:  # the genuine link still works
            assert response.status == 200
    assert row.succeeded == 0
    assert row.server_errors == 0
    assert len(telegram.calls("getFile")) == before + 1  # only the genuine link reached Telegram
