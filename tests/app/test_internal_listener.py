"""`http.internal`: /metrics and /healthz's details move to a second listener, started and
stopped with the service; the main listener keeps only /healthz's status and has no /metrics."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.app.test_service import (
    METRICS_TOKEN,
    SECRET_DETAIL,
    fetch,
    service_with_a_failed_channel,
)


async def test_the_internal_listener_serves_details_and_metrics_and_the_main_one_neither(
    tmp_path: Path,
) -> None:
    # The helper asks for internal_port=0: any free port, read back once started.
    service = service_with_a_failed_channel(
        tmp_path, internal={"host": "127.0.0.1", "port": 9999}, metrics_token=METRICS_TOKEN
    )
    await service.start()
    assert service.internal_port not in (None, 0, 9999, service.port)
    main = f"http://127.0.0.1:{service.port}"
    internal = f"http://127.0.0.1:{service.internal_port}"
    try:
        main_metrics = await fetch(f"{main}/metrics")
        # Not even the token opens it here: the internal listener is where monitoring goes.
        main_with_token = await fetch(
            f"{main}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        main_health = await fetch(f"{main}/healthz")
        internal_health = await fetch(f"{internal}/healthz")
        internal_metrics = await fetch(f"{internal}/metrics")
    finally:
        await service.stop()
    assert main_metrics[0] == 404 and main_with_token[0] == 404
    assert "talker_bridge" not in main_metrics[1] + main_with_token[1]
    assert (main_health[0], json.loads(main_health[1])) == (503, {"status": "degraded"})
    assert internal_health[0] == 503
    body = json.loads(internal_health[1])
    assert body["channels"]["viber"] == {"state": "failed", "detail": SECRET_DETAIL}
    assert body["database"] == {"ok": True, "backend": "sqlite"}
    assert internal_metrics[0] == 200 and "talker_bridge_up 1.0" in internal_metrics[1]
    # Stopped with the service.
    with pytest.raises(aiohttp.ClientConnectionError):
        await fetch(f"{internal}/healthz")
