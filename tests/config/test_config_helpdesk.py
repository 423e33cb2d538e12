"""Issue 15's keys: working hours, SLA times, auto-close, quick replies, texts, rating.

Mistakes name the key path and what is wrong, as an admin editing the file at night needs.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.config import parse_config
from config import ConfigError
from config.helpdesk import CUSTOMER_TEXTS


def errors_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="cfg.yaml", env={})
    return caught.value.errors


def with_group(minimal: dict, **keys: object) -> dict:
    minimal["groups"]["support"].update(keys)
    return minimal


def test_the_issue_example_parses_into_normalized_values(minimal) -> None:
    data = with_group(
        minimal,
        hours={
            "timezone": "Europe/Moscow",
            "week": {"mon-fri": "09:00-18:00", "sat": ["10:00-13:00", "14:00-16:00"]},
            "holidays": ["2027-01-01", "2027-01-07"],
        },
        sla={"accept_within": "5m", "answer_within": "15m"},
        auto_close_after="24h",
    )
    data["templates"] = {
        "delivery": "Your order ships within 2 days, {name}.",
        "hello": {"ru": "Здравствуйте, {name}!", "en": "Hello, {name}!"},
    }
    data["texts"] = {"offline": {"en": "We are closed now and will answer at {opens}."}}
    data["close"] = {"goodbye": True, "rating": True}
    config = parse_config(data, source="cfg.yaml", env={})
    group = config.groups["support"]
    assert group.hours is not None
    assert group.hours.timezone == "Europe/Moscow"
    assert group.hours.week[0] == ((540, 1080),)  # monday
    assert group.hours.week[4] == ((540, 1080),)  # friday
    assert group.hours.week[5] == ((600, 780), (840, 960))
    assert group.hours.week[6] == ()
    assert group.hours.holidays == (date(2027, 1, 1), date(2027, 1, 7))
    assert group.sla.accept_within == timedelta(minutes=5)
    assert group.sla.answer_within == timedelta(minutes=15)
    assert group.auto_close_after == timedelta(hours=24)
    assert config.templates["delivery"] == {
        "ru": "Your order ships within 2 days, {name}.",
        "en": "Your order ships within 2 days, {name}.",
    }
    assert config.templates["hello"]["ru"] == "Здравствуйте, {name}!"
    assert (
        config.texts.override("offline", "en") == "We are closed now and will answer at {opens}."
    )
    assert config.texts.override("offline", "ru") is None
    assert config.close.rating is True


def test_without_the_keys_the_group_is_always_open_and_nothing_is_scheduled(minimal) -> None:
    config = parse_config(minimal, source="cfg.yaml", env={})
    group = config.groups["support"]
    assert group.hours is None
    assert group.sla.accept_within is None and group.sla.answer_within is None
    assert group.auto_close_after is None
    assert config.close.rating is False
    assert dict(config.templates) == {} and config.texts.override("offline", "en") is None


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"hours": {"timezone": "Europe/Moskow", "week": {"mon": "09:00-18:00"}}},
            "groups.support.hours.timezone: unknown time zone 'Europe/Moskow' "
            "(did you mean 'Europe/Moscow'?)",
        ),
        (
            {"hours": {"timezone": "UTC", "week": {"monday": "09:00-18:00"}}},
            "groups.support.hours.week: unknown day 'monday': write mon, tue, wed, thu, fri, "
            "sat, sun or a range such as mon-fri",
        ),
        (
            {"hours": {"timezone": "UTC", "week": {"mon": "9-18"}}},
            "groups.support.hours.week: mon: not a time range '9-18' "
            '(write "HH:MM-HH:MM", e.g. "09:00-18:00")',
        ),
        (
            {"hours": {"timezone": "UTC", "week": {"mon": "18:00-09:00"}}},
            "groups.support.hours.week: mon: '18:00-09:00' ends before it starts",
        ),
        (
            {"hours": {"timezone": "UTC", "week": {"mon": "09:00-25:00"}}},
            "groups.support.hours.week: mon: not a time of day in '09:00-25:00' (00:00 to 24:00)",
        ),
        (
            {
                "hours": {
                    "timezone": "UTC",
                    "week": {"mon-fri": "09:00-18:00", "fri": "10:00-11:00"},
                }
            },
            "groups.support.hours.week: fri is given twice",
        ),
        (
            {"hours": {"timezone": "UTC", "week": {"mon": ["09:00-13:00", "12:00-18:00"]}}},
            "groups.support.hours.week: mon: the ranges overlap",
        ),
        (
            {"hours": {"timezone": "UTC", "week": {"mon": "9:00-18:00"}, "holidays": ["1 Jan"]}},
            "groups.support.hours.holidays[0]: input should be a valid date",
        ),
        (
            {"sla": {"accept_within": "5 minutes"}},
            "groups.support.sla.accept_within: not a duration",
        ),
        ({"sla": {"answer_in": "5m"}}, "groups.support.sla.answer_in: unknown key 'answer_in'"),
        ({"auto_close_after": 0}, "groups.support.auto_close_after: must be a positive duration"),
    ],
)
def test_group_mistakes_name_the_key(minimal, keys, expected) -> None:
    errors = errors_of(with_group(minimal, **keys))
    assert any(error.startswith("cfg.yaml: " + expected) for error in errors), errors


@pytest.mark.parametrize(
    ("section", "value", "expected"),
    [
        (
            "templates",
            {"hi": "Hello, {nmae}!"},
            "templates.hi: ru: unknown placeholder {nmae} (this text knows: {name})",
        ),
        ("templates", {"hi": {"de": "Hallo"}}, "templates.hi: unknown language 'de'"),
        ("templates", {"hi": "Hello {"}, "templates.hi: ru: unbalanced { or }"),
        (
            "texts",
            {"ofline": {"en": "Closed"}},
            "texts.ofline: unknown key 'ofline' (did you mean 'offline'?)",
        ),
        (
            "texts",
            {"offline": {"en": "Back at {open}"}},
            "texts.offline: en: unknown placeholder {open} (this text knows: {opens})",
        ),
        ("texts", {"offline": ""}, "texts.offline: empty text"),
    ],
)
def test_template_and_text_mistakes_name_the_key(minimal, section, value, expected) -> None:
    minimal[section] = value
    errors = errors_of(minimal)
    assert any(error.startswith("cfg.yaml: " + expected) for error in errors), errors


def test_every_overridable_text_exists_in_both_languages_with_its_placeholders() -> None:
    from bridge.core.texts import _TEXTS, LANGUAGES
    from config.helpdesk import placeholders

    for key, allowed in CUSTOMER_TEXTS.items():
        for language in LANGUAGES:
            assert placeholders(_TEXTS[language][f"customer.{key}"]) == allowed, (language, key)
