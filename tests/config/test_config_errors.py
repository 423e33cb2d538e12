"""Bad configs are refused with one clean line per problem: `FILE: key.path: message`."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import parse_config
from config import ConfigError


def errors_of(data: dict[str, Any], env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="cfg.yaml", env=env or {})
    return caught.value.errors


def test_missing_required_key_is_named(minimal):
    del minimal["telegram"]["token"]
    assert errors_of(minimal) == ["cfg.yaml: telegram.token: required key is missing"]


def test_missing_sections_are_each_reported():
    assert errors_of({"language": "en"}) == [
        "cfg.yaml: telegram: required key is missing",
        "cfg.yaml: groups: required key is missing",
        "cfg.yaml: channels: required key is missing",
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("http", "port"), "eighty", "http.port: must be a whole number, got 'eighty'"),
        (("groups", "support", "operators"), "1,2", "groups.support.operators: must be a list"),
        (("groups", "support", "dashboard"), "maybe", "groups.support.dashboard: must be true or"),
        (("telegram", "limits"), [20], "telegram.limits: must be a section of 'key: value' lines"),
        (("groups", "support", "operators"), [1, "x"], "groups.support.operators[1]: must be a"),
        (("http", "port"), 70000, "http.port: must be at most 65535, got 70000"),
        (("telegram", "token"), "", "telegram.token: must not be empty"),
        (
            ("http", "trusted_proxies"),
            ["10.0.0.0/8", "nginx"],
            "http.trusted_proxies[1]: not an IP address or network: 'nginx'",
        ),
        (("http", "internal"), {"host": "127.0.0.1"}, "http.internal.port: required key"),
        (("http", "metrics_token"), "short", "http.metrics_token: must be at least 16 characters"),
        (("groups", "support", "admins"), [0], "groups.support.admins[0]: must be greater"),
    ],
)
def test_wrong_type_or_range_names_the_key(minimal, path, value, expected):
    section = minimal
    for key in path[:-1]:
        section = section.setdefault(key, {})
    section[path[-1]] = value
    (line,) = errors_of(minimal)
    assert line.startswith(f"cfg.yaml: {expected}")


@pytest.mark.parametrize(
    ("where", "typo", "expected"),
    [
        ((), "databse", "databse: unknown key 'databse' (did you mean 'database'?)"),
        (("telegram",), "tokne", "telegram.tokne: unknown key 'tokne' (did you mean 'token'?)"),
        (("groups", "support"), "chatid", "(did you mean 'chat_id'?)"),
        (("channels",), "viberr", "channels.viberr: unknown key 'viberr' (did you mean 'viber'?)"),
        (("telegram",), "zzz", "telegram.zzz: unknown key 'zzz' (known keys here: token, api_url"),
    ],
)
def test_unknown_key_suggests_the_nearest_known_name(minimal, where, typo, expected):
    section = minimal
    for key in where:
        section = section[key]
    section[typo] = {"group": "support"} if where == ("channels",) else 1
    errors = errors_of(minimal)
    assert len(errors) == 1
    assert errors[0].startswith("cfg.yaml: ")
    assert expected in errors[0]


def test_unknown_key_inside_a_site_widget_is_found(minimal):
    minimal["channels"]["site"] = {
        "widgets": {"shop": {"group": "support", "title": "t", "origin": ["https://a.example"]}}
    }
    minimal["http"] = {"public_url": "https://support.example.com"}
    assert errors_of(minimal) == [
        "cfg.yaml: channels.site.widgets.shop.origin: unknown key 'origin' "
        "(did you mean 'origins'?)",
        "cfg.yaml: channels.site.widgets.shop.origins: required key is missing",
    ]


@pytest.mark.parametrize(
    ("path", "value", "allowed"),
    [
        (("language",), "fr", "ru, en"),
        (("telegram", "updates"), "pooling", "polling, webhook"),
        (("groups", "support", "mode"), "forum", "topics, replies, private"),
    ],
)
def test_bad_enum_value_lists_the_allowed_values(minimal, path, value, allowed):
    section = minimal
    for key in path[:-1]:
        section = section[key]
    section[path[-1]] = value
    assert errors_of(minimal) == [
        f"cfg.yaml: {'.'.join(path)}: must be one of: {allowed} (got {value!r})"
    ]


def test_vk_updates_enum_is_checked(minimal):
    minimal["channels"]["vk"] = {"group": "support", "token": "t", "group_id": 1, "updates": "lp"}
    assert errors_of(minimal) == [
        "cfg.yaml: channels.vk.updates: must be one of: longpoll, callback (got 'lp')"
    ]


@pytest.mark.parametrize("url", ["api.telegram.org", "ftp://api.telegram.org", "https://", "x"])
def test_bad_url_is_refused(minimal, url):
    minimal["telegram"]["api_url"] = url
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: telegram.api_url: not an http(s) URL")


def test_url_with_a_query_is_refused(minimal):
    minimal["http"] = {"public_url": "https://support.example.com/?a=1"}
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: http.public_url: the URL must not have a query")


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("shop.example.com", "an origin is scheme://host[:port], got 'shop.example.com'"),
        ("https://shop.example.com/", "did you mean 'https://shop.example.com'?"),
        ("https://shop.example.com/page", "did you mean 'https://shop.example.com'?"),
        ("https://*.example.com", "an origin is scheme://host[:port]"),
        ("https://shop.example.com:99999", "an origin is scheme://host[:port]"),
    ],
)
def test_widget_origin_must_be_scheme_host_port(minimal, origin, message):
    minimal["http"] = {"public_url": "https://support.example.com"}
    minimal["channels"]["site"] = {
        "widgets": {"shop": {"group": "support", "title": "Shop", "origins": [origin]}}
    }
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: channels.site.widgets.shop.origins[0]: ")
    assert message in line


@pytest.mark.parametrize("chat_id", [12345, 0])
def test_group_chat_id_must_be_negative(minimal, chat_id):
    minimal["groups"]["support"]["chat_id"] = chat_id
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: groups.support.chat_id: a group's chat_id is negative")


def test_channel_naming_an_unknown_group_lists_the_known(minimal):
    minimal["channels"]["telegram"]["group"] = "sales"
    assert errors_of(minimal) == [
        "cfg.yaml: channels.telegram.group: unknown group 'sales' (known: support)"
    ]


def test_widget_naming_an_unknown_group_is_refused(minimal):
    minimal["http"] = {"public_url": "https://support.example.com"}
    minimal["channels"]["site"] = {
        "widgets": {"shop": {"group": "sales", "title": "Shop", "origins": ["https://a.b"]}}
    }
    assert errors_of(minimal) == [
        "cfg.yaml: channels.site.widgets.shop.group: unknown group 'sales' (known: support)"
    ]


def test_telegram_webhook_needs_public_url_and_secret(minimal):
    minimal["telegram"]["updates"] = "webhook"
    assert errors_of(minimal) == [
        "cfg.yaml: telegram.webhook_secret: required when telegram.updates is webhook "
        "(proves a call comes from Telegram)",
        "cfg.yaml: http.public_url: required by telegram webhook: "
        "the address at which they reach the bridge",
    ]


def test_real_telegram_webhook_needs_https_on_an_allowed_port(minimal):
    minimal["telegram"].update(updates="webhook", webhook_secret="s3cret")
    minimal["http"] = {"public_url": "http://support.example.com:8080"}
    assert errors_of(minimal) == [
        "cfg.yaml: http.public_url: must be https: telegram webhook only call https addresses",
        "cfg.yaml: http.public_url: Telegram webhooks only go to ports 443, 80, 88, 8443, "
        "this URL uses 8080",
    ]


def test_webhook_against_a_local_fake_telegram_may_use_plain_http(minimal):
    minimal["telegram"].update(
        updates="webhook", webhook_secret="s3cret", api_url="http://127.0.0.1:8081"
    )
    minimal["http"] = {"public_url": "http://127.0.0.1:8080"}
    assert parse_config(minimal, env={}).http.public_url == "http://127.0.0.1:8080"


def test_telegram_webhook_secret_alphabet_is_checked(minimal):
    minimal["telegram"]["webhook_secret"] = "not allowed!"
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: telegram.webhook_secret: Telegram accepts 1-256 characters")


def test_vk_callback_needs_secret_and_confirmation(minimal):
    minimal["http"] = {"public_url": "https://support.example.com"}
    minimal["channels"]["vk"] = {
        "group": "support",
        "token": "t",
        "group_id": 1,
        "updates": "callback",
    }
    assert errors_of(minimal) == [
        "cfg.yaml: channels.vk.secret: required when updates is callback "
        "(proves a call comes from VK)",
        "cfg.yaml: channels.vk.confirmation: required when updates is callback "
        "(the string VK expects back when it checks the server)",
    ]


@pytest.mark.parametrize("channel", ["viber", "facebook"])
def test_webhook_platforms_need_public_url(minimal, channel):
    minimal["channels"] = {
        "viber": {"group": "support", "token": "t", "name": "Shop"},
        "facebook": {
            "group": "support",
            "page_token": "p",
            "app_secret": "a",
            "verify_token": "v",
        },
    }
    del minimal["channels"]["facebook" if channel == "viber" else "viber"]
    assert errors_of(minimal) == [
        f"cfg.yaml: http.public_url: required by {channel}: "
        "the address at which they reach the bridge"
    ]


def test_not_a_telegram_token_is_refused(minimal):
    minimal["telegram"]["token"] = "abc:def"
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: telegram.token: not a Telegram bot token")


def test_example_token_is_refused(minimal):
    minimal["telegram"]["token"] = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    assert errors_of(minimal) == [
        "cfg.yaml: telegram.token: still the sample value from example.yaml; put the bot's token "
        "here (the bridge does not start with an example secret)"
    ]


def test_example_secret_arriving_through_a_variable_is_refused(minimal):
    minimal["channels"]["vk"] = {"group": "support", "token": "${VK}", "group_id": 1}
    sample = "vk1.a.Tq2Wd8Lk4Ns6Xb0Pm3Rc7Vf1Hy5Jz9Ga2Ue6Oi0Kt4Sl8Qw3Er7Ty1Ui5Op9As3Df7Gh"
    (line,) = errors_of(minimal, env={"VK": sample})
    assert line.startswith("cfg.yaml: channels.vk.token: still the sample value")


def test_no_channel_on_is_refused(minimal):
    minimal["channels"] = {}
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: channels: no channel is on: add at least one of telegram")


def test_empty_channel_section_is_not_silently_off(minimal):
    minimal["channels"]["vk"] = None
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: channels.vk: empty section")


def test_two_groups_on_one_chat_are_refused(minimal):
    minimal["groups"]["sales"] = {"chat_id": -1001000000001}
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: groups.sales.chat_id: the same Telegram chat as group")


def test_incoming_topic_needs_a_forum_group(minimal):
    minimal["groups"]["support"].update(mode="replies", incoming_topic=7)
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: groups.support.incoming_topic: only a forum group")


def test_bad_group_name_is_refused(minimal):
    minimal["groups"]["my group"] = {"chat_id": -5}
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: groups.my group: 'my group' is not a valid name")


def test_viber_sender_name_over_28_characters_is_refused(minimal):
    minimal["http"] = {"public_url": "https://support.example.com"}
    minimal["channels"]["viber"] = {"group": "support", "token": "t", "name": "S" * 29}
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: channels.viber.name: Viber allows at most 28 characters")


def viber_with_greeting(minimal: dict[str, Any], greeting: object) -> dict[str, Any]:
    minimal["http"] = {"public_url": "https://support.example.com"}
    minimal["channels"]["viber"] = {
        "group": "support",
        "token": "t",
        "name": "Shop",
        "greeting": greeting,
    }
    return minimal


def test_viber_greeting_is_read_and_is_off_when_absent(minimal):
    greeting = "Привіт! " * 875  # exactly 7000 characters: Viber's limit
    assert len(greeting) == 7000
    config = parse_config(viber_with_greeting(minimal, greeting), env={})
    assert config.channels.viber.greeting == greeting
    del minimal["channels"]["viber"]["greeting"]
    assert parse_config(minimal, env={}).channels.viber.greeting is None


def test_viber_greeting_over_7000_characters_is_refused(minimal):
    (line,) = errors_of(viber_with_greeting(minimal, "x" * 7001))
    assert line == (
        "cfg.yaml: channels.viber.greeting: Viber allows at most 7000 characters "
        "in a welcome message, got 7001"
    )


@pytest.mark.parametrize("greeting", ["", "   "])
def test_an_empty_viber_greeting_is_refused(minimal, greeting):
    assert errors_of(viber_with_greeting(minimal, greeting)) == [
        "cfg.yaml: channels.viber.greeting: must not be empty"
    ]


def test_bad_database_url_does_not_echo_a_password(minimal):
    minimal["database"] = "postgresql:/user:hunter2@@"
    (line,) = errors_of(minimal)
    assert line.startswith("cfg.yaml: database: not a database URL")
    assert "hunter2" not in line


def test_every_problem_is_reported_at_once_in_file_order():
    data = {
        "language": "fr",
        "telegram": {"tokn": "x", "updates": "webhook", "webhook_secret": "ok"},
        "http": {"public_url": "https://support.example.com"},
        "groups": {"support": {"chat_id": 42}},
        "channels": {
            "vk": {"group": "sales", "token": "${VK_TOKEN}", "group_id": 1},
            "site": {"widgets": {"shop": {"group": "support", "title": "t", "origins": ["x"]}}},
        },
    }
    assert errors_of(data) == [
        "cfg.yaml: language: must be one of: ru, en (got 'fr')",
        "cfg.yaml: telegram.tokn: unknown key 'tokn' (did you mean 'token'?)",
        "cfg.yaml: telegram.token: required key is missing",
        "cfg.yaml: groups.support.chat_id: a group's chat_id is negative (supergroups look like "
        "-100...), got 42; a positive id is a user, not a group",
        "cfg.yaml: channels.vk.group: unknown group 'sales' (known: support)",
        "cfg.yaml: channels.vk.token: environment variable VK_TOKEN is not set",
        "cfg.yaml: channels.site.widgets.shop.origins[0]: an origin is scheme://host[:port], "
        "got 'x'",
    ]


def test_messages_never_leak_pydantic_wording(minimal):
    minimal["telegram"] = {"token": ["a"], "limits": {"global_per_second": "fast"}, "x": 1}
    minimal["groups"]["support"]["incoming_topic"] = -3
    minimal["close"] = "yes"
    errors = errors_of(minimal)
    assert len(errors) == 5
    for line in errors:
        assert "Input should" not in line
        assert "pydantic" not in line
        assert line.startswith("cfg.yaml: ")


def test_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError) as caught:
        parse_config(["a"], source="cfg.yaml", env={})
    assert str(caught.value) == (
        "cfg.yaml: the top level must be a section of 'key: value' lines, got a list"
    )


def test_config_error_str_is_the_lines_joined(minimal):
    minimal["language"] = "fr"
    minimal["http"] = {"port": "x"}
    with pytest.raises(ConfigError) as caught:
        parse_config(minimal, source="cfg.yaml", env={})
    assert str(caught.value) == "\n".join(caught.value.errors)
    assert len(caught.value.errors) == 2
