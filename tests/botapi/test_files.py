"""Operators' Telegram files at `/files/telegram/...`: what VK, Viber and Facebook (and anyone
holding a link) get, over real HTTP against the fake Telegram.

Links expire after `LINK_LIFETIME`; a tampered link answers 403 and an expired one 410, both
without a call to Telegram. Only real JPEG/PNG/GIF/WebP bytes are shown inline; everything is
sent with nosniff and a sandboxing CSP; the file is piped through and cut off at the cap.
"""

from __future__ import annotations

import hashlib
import hmac
import tracemalloc

import aiohttp
import pytest
from aiohttp import web

from botapi.files import LEGACY_LINKS_UNTIL, LINK_LIFETIME, TelegramFiles
from botapi.sender import make_bot
from sandbox.runner import serving
from sandbox.telegram.actions import tiny_png
from tests.botapi.files_harness import KEY, Clock, served_files

pytestmark = pytest.mark.timeout(60)

CSP = "default-src 'none'; sandbox"


async def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, dict(response.headers), await response.read()


async def test_a_link_works_until_it_expires_then_410_without_asking_telegram():
    async with served_files() as h:
        file_id = h.store("document", b"%PDF-1.7 invoice", "invoice.pdf")
        link = h.files.link(file_id)
        assert link is not None
        h.clock.now += LINK_LIFETIME - 60
        status, headers, body = await fetch(link)
        assert (status, body) == (200, b"%PDF-1.7 invoice")
        assert headers["Content-Type"] == "application/pdf"
        calls = h.get_file_calls()
        h.clock.now += 61
        status, _, body = await fetch(link)
        assert (status, body) == (410, b"this link has expired")
        assert h.get_file_calls() == calls


async def test_a_tampered_link_is_refused_with_403_without_asking_telegram():
    async with served_files() as h:
        file_id = h.store("document", b"secret contract", "contract.pdf")
        other = h.store("document", b"other", "other.pdf")
        link = h.files.link(file_id)
        assert link is not None
        head, signature = link.rsplit("/", 1)
        expires, mac = signature.split(".")
        forged = [
            f"{head}/{int(expires) + 10 * LINK_LIFETIME}.{mac}",  # a longer life
            f"{head}/{expires}.{'0' * 32}",
            f"{head}/{mac}",  # the legacy shape with the new MAC
            link.replace(file_id, other),  # another file under this file's signature
            f"{head}/{expires}.{mac[:-1]}",
            f"{head}/-1.{mac}",
        ]
        for url in forged:
            status, _, body = await fetch(url)
            assert (status, body) == (403, b"bad signature"), url
        assert h.get_file_calls() == 0


async def test_legacy_links_are_accepted_only_until_the_transition_ends():
    clock = Clock(now=LEGACY_LINKS_UNTIL - 3600)
    async with served_files(clock) as h:
        file_id = h.store("document", b"old reply", "old.txt")
        legacy_key = hmac.new(KEY, b"talker-bridge telegram files", hashlib.sha256).digest()
        mac = hmac.new(legacy_key, file_id.encode(), hashlib.sha256).hexdigest()[:32]
        url = f"{h.base_url}/files/telegram/{file_id}/{mac}"
        assert (await fetch(url))[0] == 200
        h.clock.now = LEGACY_LINKS_UNTIL
        assert (await fetch(url))[0] == 410


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("page.html", b"<html><script>alert(document.cookie)</script></html>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("app.js", b"fetch('/widget').then(r => r.text())"),
        ("page.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>'),
        ("noext", b"<script>alert(1)</script>"),
    ],
)
async def test_hostile_files_are_downloads_of_an_inert_type(filename, data):
    async with served_files() as h:
        link = h.files.link(h.store("document", data, filename))
        assert link is not None
        status, headers, body = await fetch(link)
    assert (status, body) == (200, data)
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith("attachment; ")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == CSP


async def test_real_images_are_inline_as_their_checked_type_with_a_matching_name():
    png = tiny_png()
    async with served_files() as h:
        photo = h.files.link(h.store("photo", png))
        # PNG bytes named .html (a polyglot): an inline PNG, saved as .png, never as .html.
        disguised = h.files.link(h.store("document", png + b"<script>1</script>", "x.html"))
        # A "JPEG" that is not one: a download, not an image.
        fake_jpeg = h.files.link(h.store("document", b"<html>not a jpeg</html>", "cat.jpg"))
        assert photo and disguised and fake_jpeg
        status, headers, _ = await fetch(photo)
        assert status == 200 and headers["Content-Type"] == "image/png"
        assert headers["Content-Disposition"].startswith('inline; filename="file_')
        assert headers["Content-Disposition"].endswith(".png")
        _, headers, _ = await fetch(disguised)
        assert headers["Content-Type"] == "image/png"
        assert headers["Content-Disposition"].endswith(".png")
        _, headers, _ = await fetch(fake_jpeg)
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Disposition"].startswith("attachment; ")
        assert headers["X-Content-Type-Options"] == "nosniff"


async def test_a_file_name_cannot_break_out_of_its_header():
    async with served_files() as h:
        # The fake keeps up to 8 characters of the name's extension in the file path.
        link = h.files.link(h.store("document", b"x", 'a.x";b=1é'))
        assert link is not None
        status, headers, _ = await fetch(link)
    assert status == 200
    disposition = headers["Content-Disposition"]
    assert disposition == (
        "attachment; filename=\"file_1.x_b_1\"; filename*=UTF-8''file_1.x%22%3Bb%3D1%C3%A9"
    )


async def test_a_file_over_the_cap_is_refused_with_413_before_any_byte():
    async with served_files(max_bytes=1000) as h:
        link = h.files.link(h.store("document", b"x" * 1001, "big.bin"))
        assert link is not None
        status, _, body = await fetch(link)
    assert status == 413 and body == b"larger than 1000 bytes"


async def test_a_file_of_unknown_size_is_cut_off_at_the_cap():
    """A Bot API that does not tell the size: the body ends early, the client sees it."""

    async def get_file(request: web.Request) -> web.Response:
        result = {"file_id": "BIG", "file_unique_id": "u1", "file_path": "documents/big.bin"}
        return web.json_response({"ok": True, "result": result})

    async def download(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"y" * 16 * 1024)
        await response.write_eof()
        return response

    telegram = web.Application()
    telegram.router.add_post("/bot1:T/getFile", get_file)
    telegram.router.add_get("/file/bot1:T/documents/big.bin", download)
    async with serving(telegram) as api:
        bot = make_bot("1:T", api.base_url)
        files = TelegramFiles(bot, KEY, None, max_bytes=100 * 1024)
        app = web.Application()
        app.add_routes(files.routes())
        async with serving(app) as bridge:
            files.base_url = bridge.base_url
            await files.start()
            link = files.link("BIG")
            assert link is not None
            received = 0
            async with aiohttp.ClientSession() as http, http.get(link) as response:
                assert response.status == 200
                with pytest.raises(aiohttp.ClientPayloadError):
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        received += len(chunk)
            await bot.session.close()
    assert received <= 100 * 1024


async def test_serving_a_20_mb_file_holds_a_few_chunks_not_the_file():
    size = 20 * 1024 * 1024
    async with served_files() as h:
        h.fake.slow_downloads(chunk_size=64 * 1024, pause=0)
        link = h.files.link(h.store("video", b"\0" * size, "talk.mp4"))
        assert link is not None
        peak = await peak_memory_of_download(link)
    assert peak.received == size
    assert peak.bytes < 4 * 1024 * 1024, f"peak {peak.bytes / 1e6:.1f} MB"


class Peak:
    received: int = 0
    bytes: int = 0


async def peak_memory_of_download(link: str) -> Peak:
    """Download `link` in pieces and return the peak of Python allocations meanwhile (the fake
    Telegram's stored copy is made before measuring)."""
    peak = Peak()
    async with aiohttp.ClientSession() as http:
        tracemalloc.start()
        try:
            async with http.get(link) as response:
                assert response.status == 200
                async for chunk in response.content.iter_chunked(64 * 1024):
                    peak.received += len(chunk)
            peak.bytes = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak
