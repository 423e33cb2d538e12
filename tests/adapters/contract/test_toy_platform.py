"""Adding a platform is one folder and one registry line: a toy platform defined only in the tests
(tests/adapters/contract/toy.py) passes the whole contract suite through the real service.

The toy joins the registry the harness is given (`registry().with_platform(...)`) and brings its
section under `channels:`; no product file names it. The config tests below show the other side:
its section is validated like any other, and without the registry line `channels.toy` is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from app.config import parse_config
from app.platforms import registry
from config import ConfigError
from tests.adapters.contract.harness import Bridge, Customer, running_bridge
from tests.adapters.contract.test_contract import CONTRACT
from tests.adapters.contract.toy import ToyCustomer, ToyWorld, toy_platform, toy_section

Scenario = Callable[[Bridge, Customer], Awaitable[None]]


@pytest.mark.parametrize("scenario", CONTRACT, ids=lambda scenario: scenario.__name__)
async def test_the_toy_platform_passes_the_contract(sqlite_url: str, scenario: Scenario) -> None:
    world = ToyWorld()
    platforms = registry().with_platform(toy_platform(world))
    async with running_bridge(
        sqlite_url, platforms=platforms, extra_channels={"toy": toy_section()}
    ) as bridge:
        assert "toy" in bridge.config.enabled_channels()
        await scenario(bridge, ToyCustomer(bridge, world=world))


MINIMAL = {
    "telegram": {"token": "123456:real-token"},
    "groups": {"support": {"chat_id": -1001000000001}},
}


def test_the_toy_section_is_validated_with_the_usual_messages() -> None:
    platforms = registry().with_platform(toy_platform(ToyWorld()))
    data = {**MINIMAL, "channels": {"toy": {"group": "sales", "secrt": "x"}}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="cfg.yaml", env={}, platforms=platforms)
    assert caught.value.errors == [
        "cfg.yaml: channels.toy.group: unknown group 'sales' (known: support)",
        "cfg.yaml: channels.toy.secrt: unknown key 'secrt' (did you mean 'secret'?)",
        "cfg.yaml: channels.toy.secret: required key is missing",
    ]
    config = parse_config(
        {**MINIMAL, "channels": {"toy": toy_section()}}, env={}, platforms=platforms
    )
    assert config.enabled_channels() == ["toy"]
    assert config.group_for_channel("toy").name == "support"
    assert config.summary().endswith("channels: toy")


def test_without_its_registry_line_the_toy_section_is_an_unknown_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**MINIMAL, "channels": {"toy": toy_section()}}, source="cfg.yaml", env={})
    assert caught.value.errors == [
        "cfg.yaml: channels.toy: unknown key 'toy' "
        "(known keys here: telegram, vk, viber, facebook, site)"
    ]
