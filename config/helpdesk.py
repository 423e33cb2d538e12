"""The helpdesk settings (issue 15): working hours, SLA times, quick replies, text overrides.

`groups.NAME.hours`, `groups.NAME.sla` and `groups.NAME.auto_close_after` live on
`GroupConfig`; `templates` and `texts` at the top level (config/schema.py). The models here
validate the admin's YAML into normalized values: a week as seven tuples of (start, end)
minute ranges, holidays as dates, a zone as a `ZoneInfo` name that exists. The arithmetic of
opening times lives in bridge/hours.py.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BeforeValidator, field_validator

from config.fields import Duration, Section, fail

#: Days as the config writes them, Monday first (Python's `date.weekday()` order).
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
#: A day's ranges: (start, end) in minutes after local midnight; end may be 1440 ("24:00").
DayRanges = tuple[tuple[int, int], ...]


def _minutes(hours: str, minutes: str, *, end: bool) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m != 0) or (h == 24 and not end):
        raise ValueError
    return h * 60 + m


def _ranges(value: Any, where: str) -> DayRanges:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise fail(f'{where}: give "HH:MM-HH:MM" or a list of them, e.g. "09:00-18:00"')
    ranges: list[tuple[int, int]] = []
    for item in items:
        match = _RANGE.match(item) if isinstance(item, str) else None
        if match is None:
            raise fail(
                f'{where}: not a time range {item!r} (write "HH:MM-HH:MM", e.g. "09:00-18:00")'
            )
        try:
            start = _minutes(match.group(1), match.group(2), end=False)
            finish = _minutes(match.group(3), match.group(4), end=True)
        except ValueError:
            raise fail(f"{where}: not a time of day in {item!r} (00:00 to 24:00)") from None
        if finish <= start:
            raise fail(
                f"{where}: {item!r} ends before it starts (a range that runs past midnight is "
                'two ranges, e.g. fri: "22:00-24:00" and sat: "00:00-02:00")'
            )
        ranges.append((start, finish))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            raise fail(f"{where}: the ranges overlap")
    return tuple(ranges)


def _day_names(spec: str) -> list[int]:
    spec = spec.strip().lower()
    if "-" in spec:
        first, _, last = spec.partition("-")
        if first.strip() not in DAYS or last.strip() not in DAYS:
            raise ValueError
        a, b = DAYS.index(first.strip()), DAYS.index(last.strip())
        return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    if spec not in DAYS:
        raise ValueError
    return [DAYS.index(spec)]


def _week(value: Any) -> tuple[DayRanges, ...]:
    """`{mon-fri: "09:00-18:00", sat: [...]}` -> seven tuples of ranges, Monday first."""
    if isinstance(value, tuple) and len(value) == 7:
        return value
    if not isinstance(value, Mapping) or not value:
        raise fail('give days and their hours, e.g. {mon-fri: "09:00-18:00", sat: "10:00-14:00"}')
    week: list[DayRanges | None] = [None] * 7
    for spec, hours in value.items():
        try:
            days = _day_names(str(spec))
        except ValueError:
            raise fail(
                f"unknown day {spec!r}: write mon, tue, wed, thu, fri, sat, sun or a range "
                "such as mon-fri"
            ) from None
        ranges = _ranges(hours, str(spec))
        for day in days:
            if week[day] is not None:
                raise fail(f"{DAYS[day]} is given twice (in {spec!r} and an earlier key)")
            week[day] = ranges
    return tuple(w or () for w in week)


def _zone(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("give an IANA time zone name, e.g. Europe/Moscow or UTC")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib

        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else " (e.g. Europe/Moscow, UTC)"
        raise fail(f"unknown time zone {name!r}{hint}") from None
    return name


class HoursConfig(Section):
    """`groups.NAME.hours`: when the group answers. Outside them customers get `offline`."""

    timezone: Annotated[str, BeforeValidator(_zone)]
    week: Annotated[tuple[tuple[tuple[int, int], ...], ...], BeforeValidator(_week)]
    holidays: tuple[date, ...] = ()

    @field_validator("week")
    @classmethod
    def _open_some_time(cls, value: tuple[DayRanges, ...]) -> tuple[DayRanges, ...]:
        if not any(value):
            raise fail("the group is never open: give at least one day with hours")
        return value


class SlaConfig(Section):
    """`groups.NAME.sla`: how long a card may wait for Accept and a customer for an answer."""

    accept_within: Duration | None = None
    answer_within: Duration | None = None


#: Languages a per-language text may name.
TEXT_LANGUAGES = ("ru", "en")


def _per_language(value: Any) -> Any:
    """A text for all (`"..."`) or per language (`{ru: ..., en: ...}`) -> {language: text}."""
    if isinstance(value, str):
        if not value.strip():
            raise fail("empty text")
        return {language: value for language in TEXT_LANGUAGES}
    if isinstance(value, Mapping):
        unknown = [key for key in value if key not in TEXT_LANGUAGES]
        if unknown:
            raise fail(f"unknown language {unknown[0]!r}: write ru and/or en")
        if not value:
            raise fail("give a text, or {ru: ..., en: ...}")
        for language, item in value.items():
            if not isinstance(item, str) or not item.strip():
                raise fail(f"{language}: give a non-empty text")
        return dict(value)
    raise fail('give a text, or one per language: {ru: "...", en: "..."}')


#: A text for every language, or some languages (the rest fall back to the built-in text).
PerLanguage = Annotated[dict[str, str], BeforeValidator(_per_language)]


def placeholders(template: str) -> set[str]:
    """The `{name}` fields a template uses (ValueError when its braces are unbalanced)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def check_placeholders(template: str, allowed: set[str], where: str) -> None:
    """Refuse a template with unbalanced braces or a field not in `allowed`."""
    try:
        used = placeholders(template)
    except ValueError:
        raise fail(f"{where}: unbalanced {{ or }} (write {{{{ for a literal brace)") from None
    unknown = sorted(used - allowed)
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"
        raise fail(f"{where}: unknown placeholder {{{unknown[0]}}} (this text knows: {known})")


#: The customer-facing texts an admin may override under `texts:` (the key there is the
#: text's name here; bridge/core/texts.py keeps each as `customer.<name>`), with the
#: placeholders each may use. A test checks both sides agree.
CUSTOMER_TEXTS: dict[str, frozenset[str]] = {
    "offline": frozenset({"opens"}),
    "closed": frozenset(),
    "closed_inactive": frozenset(),
    "edited": frozenset({"text"}),
    "rating_ask": frozenset(),
    "rating_thanks": frozenset({"stars"}),
    "rating_comment_thanks": frozenset(),
    "widget_busy": frozenset(),
    "widget_upload_quota": frozenset(),
    "widget_storage_full": frozenset(),
}
#: What a quick reply (`templates:`) may use.
TEMPLATE_PLACEHOLDERS = frozenset({"name"})


def _fields_within(allowed: frozenset[str]) -> Any:
    def check(value: dict[str, str] | None) -> dict[str, str] | None:
        for language, template in (value or {}).items():
            check_placeholders(template, set(allowed), language)
        return value

    return AfterValidator(check)


#: A quick reply: one text, or one per customer language (`{name}` allowed).
Template = Annotated[
    dict[str, str], BeforeValidator(_per_language), _fields_within(TEMPLATE_PLACEHOLDERS)
]


class TextsConfig(Section):
    """`texts:`: the admin's wording of customer-facing texts, per language (or one for all).

    A language left out keeps the built-in text; `override(key, language)` is what the bridge
    asks (bridge/core/texts.py `CustomerTexts`)."""

    offline: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["offline"]),
    ] = None
    closed: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["closed"]),
    ] = None
    closed_inactive: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["closed_inactive"]),
    ] = None
    edited: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["edited"]),
    ] = None
    rating_ask: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["rating_ask"]),
    ] = None
    rating_thanks: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["rating_thanks"]),
    ] = None
    rating_comment_thanks: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["rating_comment_thanks"]),
    ] = None
    widget_busy: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["widget_busy"]),
    ] = None
    widget_upload_quota: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["widget_upload_quota"]),
    ] = None
    widget_storage_full: Annotated[
        dict[str, str] | None,
        BeforeValidator(_per_language),
        _fields_within(CUSTOMER_TEXTS["widget_storage_full"]),
    ] = None

    def override(self, key: str, language: str) -> str | None:
        """The admin's text `key` in `language`, or None (then the built-in one is used)."""
        texts: dict[str, str] | None = getattr(self, key, None)
        return (texts or {}).get(language)


__all__ = [
    "CUSTOMER_TEXTS",
    "DAYS",
    "TEMPLATE_PLACEHOLDERS",
    "TEXT_LANGUAGES",
    "DayRanges",
    "Duration",
    "HoursConfig",
    "PerLanguage",
    "SlaConfig",
    "Template",
    "TextsConfig",
    "check_placeholders",
    "placeholders",
    "timedelta",
]
