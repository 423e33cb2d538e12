"""The scale-out benchmark's own tools (bench/_balancer.py, bench/_ingest.py): the balancer
sends requests in turn to each upstream, intact, and the lean load client counts what the
server refused, so that `--scale-out` measures the bridges and not its own tools."""

from __future__ import annotations

import pytest
from aiohttp import web

from bench._balancer import Balancer, _nginx
from bench._ingest import _batches, _post_lean


async def _upstream(name: str, seen: list[tuple[str, str, bytes, str | None]]) -> web.AppRunner:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((name, request.path_qs, body, request.headers.get("X-Secret")))
        if body == b"refuse":
            return web.json_response({"ok": False}, status=403)
        return web.json_response({"ok": True, "by": name})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _url(runner: web.AppRunner) -> str:
    port = runner.addresses[0][1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("kind", ["nginx", "python"])
async def test_the_balancer_sends_each_request_in_turn_intact(monkeypatch, kind) -> None:
    if kind == "nginx" and _nginx() is None:
        pytest.fail("nginx is not installed (.ci/run installs Debian's nginx-light)")
    monkeypatch.setenv("BENCH_BALANCER", kind)
    seen: list[tuple[str, str, bytes, str | None]] = []
    first, second = await _upstream("a", seen), await _upstream("b", seen)
    try:
        async with Balancer([_url(first), _url(second)]) as balancer:
            assert balancer.kind == kind
            deliveries = [(f'{{"n": {n}}}'.encode(), {"X-Secret": "s3"}) for n in range(40)]
            deliveries.append((b"refuse", {"X-Secret": "s3"}))
            result = await _post_lean(balancer.url + "/webhooks/telegram?x=1", deliveries, 8)
    finally:
        await first.cleanup()
        await second.cleanup()
    assert result["failures"] == 1 and result["statuses"] == [403]
    assert len(seen) == 41
    assert {name for name, *_ in seen} == {"a", "b"}
    assert abs(sum(name == "a" for name, *_ in seen) - 20.5) <= 4  # round robin, not one side
    assert {path for _, path, _, _ in seen} == {"/webhooks/telegram?x=1"}
    assert {secret for *_, secret in seen} == {"s3"}
    assert sorted(body for _, _, body, _ in seen if body != b"refuse") == sorted(
        f'{{"n": {n}}}'.encode() for n in range(40)
    )


async def test_the_lean_client_sends_every_delivery_once_and_waits_for_each_answer() -> None:
    seen: list[tuple[str, str, bytes, str | None]] = []
    server = await _upstream("only", seen)
    try:
        deliveries = [(f"{n}".encode(), {}) for n in range(100)]
        result = await _post_lean(_url(server) + "/x", deliveries, 7)
    finally:
        await server.cleanup()
    assert result["failures"] == 0 and result["seconds"] > 0
    assert sorted(int(body) for _, _, body, _ in seen) == list(range(100))


def test_a_bridges_batches_are_read_from_its_log(tmp_path) -> None:
    log = tmp_path / "bridge.log"
    log.write_text(
        "INFO vk inbound: 0 messages in 0 commits (largest 0); 0 batches redone alone\n"
        "INFO telegram inbound: 3400 messages in 221 commits (largest 57); 2 batches redone "
        "alone\n"
    )
    assert _batches(log) == {
        "messages": 3400,
        "commits": 221,
        "average": 15.4,
        "largest": 57,
        "redone_alone": 2,
    }
    log.write_text("nothing here\n")
    assert _batches(log) is None
