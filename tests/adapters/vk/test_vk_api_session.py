"""VkApiSession sends vk_api's hard-coded method URLs to the configured API URL, with a timeout."""

from __future__ import annotations

import pytest
import vk_api

from adapters.vk.session import VkApiSession, set_community_pace


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.vk.ru/method/users.get", "http://127.0.0.1:9/vk/method/users.get"),
        ("https://api.vk.com/method/messages.send", "http://127.0.0.1:9/vk/method/messages.send"),
        ("http://127.0.0.1:9/vk/_lp/abc", "http://127.0.0.1:9/vk/_lp/abc"),
        ("https://pu.vk.com/upload", "https://pu.vk.com/upload"),
    ],
)
def test_only_vk_method_urls_are_rewritten(url: str, expected: str) -> None:
    assert VkApiSession("http://127.0.0.1:9/vk/").method_url(url) == expected


def test_the_prefix_vk_api_hard_codes_is_one_the_session_rewrites() -> None:
    import inspect

    source = inspect.getsource(vk_api.VkApi.method)
    assert "https://api.vk.ru/method/" in source


@pytest.mark.parametrize(("api_url", "timeout"), [("api.vk.ru", 30), ("https://api.vk.ru", 0)])
def test_bad_settings_are_refused(api_url: str, timeout: float) -> None:
    with pytest.raises(ValueError):
        VkApiSession(api_url, timeout)


def test_community_pace_is_20_requests_a_second() -> None:
    client = vk_api.VkApi(token="t", session=VkApiSession("https://api.vk.ru"))
    assert client.RPS_DELAY == pytest.approx(0.34)
    set_community_pace(client)
    assert client.RPS_DELAY == pytest.approx(0.05)
