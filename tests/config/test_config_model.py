"""The validated `BridgeConfig`: defaults, lookups, summary, and that it cannot be changed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import parse_config
from config import BridgeConfig, GroupConfig

SITE = {
    "widgets": {
        "shop": {"group": "support", "title": "Shop", "origins": ["HTTPS://Shop.Example.com"]},
        "blog": {"group": "sales", "title": "Blog", "origins": ["http://localhost:3000"]},
    }
}


def full(minimal):
    minimal["groups"]["sales"] = {"chat_id": -1002, "mode": "replies", "operators": [7, 8]}
    minimal["http"] = {"public_url": "https://support.example.com/"}
    minimal["channels"]["vk"] = {
        "group": "sales",
        "token": "t",
        "group_id": 5,
        "updates": "callback",
        "secret": "s",
        "confirmation": 12345678,
    }
    minimal["channels"]["site"] = SITE
    return parse_config(minimal, env={})


def test_defaults_follow_the_published_limits(minimal):
    config = parse_config(minimal, env={})
    assert isinstance(config, BridgeConfig)
    assert config.source == "<config>"
    assert (config.language, config.database) == ("ru", "sqlite:///talker-bridge.db")
    assert (config.http.host, config.http.port, config.http.public_url) == (
        "127.0.0.1",
        8080,
        None,
    )
    limits = config.telegram.limits
    assert (limits.per_chat_per_second, limits.per_group_per_minute) == (1, 20)
    assert limits.global_per_second == 30
    assert config.telegram.updates == "polling"
    assert config.telegram.api_url == "https://api.telegram.org"
    group = config.groups["support"]
    assert (group.mode, group.operators, group.notify_private) == ("topics", (), False)
    assert (group.incoming_topic, group.dashboard, group.dashboard_budget_share) == (
        None,
        True,
        0.1,
    )
    assert (config.outbox.max_backoff_seconds, config.outbox.alarm_after_seconds) == (60, 300)
    assert config.close.goodbye is True
    assert config.channels.vk is None and config.channels.site is None


def test_channel_defaults(minimal):
    config = full(minimal)
    assert config.channels.vk.api_url == "https://api.vk.ru"
    assert config.channels.vk.limits.requests_per_second == 20
    assert config.channels.vk.confirmation == "12345678"


def test_urls_lose_the_trailing_slash_and_origins_are_lowercased(minimal):
    config = full(minimal)
    assert config.http.public_url == "https://support.example.com"
    assert config.channels.site.widgets["shop"].origins == ("https://shop.example.com",)


def test_enabled_channels_lists_site_widgets_by_id(minimal):
    assert full(minimal).enabled_channels() == ["telegram", "vk", "site:shop", "site:blog"]


def test_group_for_channel_follows_the_channel_and_each_widget(minimal):
    config = full(minimal)
    assert config.group_for_channel("telegram").name == "support"
    assert config.group_for_channel("vk").chat_id == -1002
    assert config.group_for_channel("site:blog").name == "sales"
    assert config.group_name_for_channel("site:shop") == "support"


@pytest.mark.parametrize("channel", ["viber", "site:nope", "site", "mail"])
def test_group_for_an_off_channel_raises_key_error(minimal, channel):
    with pytest.raises(KeyError):
        full(minimal).group_for_channel(channel)


def test_group_for_chat_and_operator_rights(minimal):
    config = full(minimal)
    sales = config.group_for_chat(-1002)
    assert isinstance(sales, GroupConfig)
    assert sales.name == "sales"
    assert config.group_for_chat(-999) is None
    assert sales.allows(7) and not sales.allows(9)
    assert config.groups["support"].allows(9)


def test_summary_counts_groups_and_widgets(minimal):
    assert full(minimal).summary() == (
        "language ru, database sqlite, 2 groups (support: topics, sales: replies), "
        "channels: telegram, vk (callback), site (2 widgets)"
    )


def test_config_cannot_be_changed(minimal):
    config = full(minimal)
    with pytest.raises(ValidationError):
        config.language = "en"
    with pytest.raises(ValidationError):
        config.groups["support"].chat_id = -5
    with pytest.raises(TypeError):
        config.groups["other"] = config.groups["support"]
    with pytest.raises(TypeError):
        config.channels.site.widgets["x"] = config.channels.site.widgets["shop"]
    with pytest.raises(AttributeError):
        config.groups["sales"].operators.append(9)


def test_input_dict_is_not_modified(minimal):
    minimal["telegram"]["token"] = "${T}"
    parse_config(minimal, env={"T": "1:x"})
    assert minimal["telegram"]["token"] == "${T}"


def test_widget_signing_key_is_stable_and_overridable(minimal):
    derived = parse_config(minimal, env={}).widget_signing_key()
    assert derived == parse_config(minimal, env={}).widget_signing_key()
    assert len(derived) == 32
    minimal["telegram"]["token"] = "123456:another-token"
    assert parse_config(minimal, env={}).widget_signing_key() != derived
    minimal["http"] = {"widget_secret": "a" * 16}
    assert parse_config(minimal, env={}).widget_signing_key() == b"a" * 16


def test_short_widget_secret_is_refused(minimal):
    from config import ConfigError

    minimal["http"] = {"widget_secret": "short"}
    with pytest.raises(ConfigError, match=r"http\.widget_secret: must be at least 16 characters"):
        parse_config(minimal, env={})
