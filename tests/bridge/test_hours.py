"""Working hours: open or not, the next opening, across DST changes, midnight and holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.hours import WorkingHours
from config.helpdesk import HoursConfig

BERLIN = ZoneInfo("Europe/Berlin")
MOSCOW = ZoneInfo("Europe/Moscow")


def hours(zone: str, week: dict, holidays: tuple = ()) -> WorkingHours:
    return WorkingHours(HoursConfig(timezone=zone, week=week, holidays=holidays))


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_weekday_hours_and_the_next_opening_in_moscow() -> None:
    schedule = hours(
        "Europe/Moscow", {"mon-fri": "09:00-18:00", "sat": ["10:00-13:00", "14:00-16:00"]}
    )
    friday_evening = local(MOSCOW, 2027, 1, 15, 18, 0)  # a Friday, the minute it closes
    assert not schedule.is_open(friday_evening)
    assert schedule.is_open(friday_evening - timedelta(minutes=1))
    assert schedule.next_opening(friday_evening) == local(MOSCOW, 2027, 1, 16, 10, 0)
    lunch = local(MOSCOW, 2027, 1, 16, 13, 30)
    assert schedule.next_opening(lunch) == local(MOSCOW, 2027, 1, 16, 14, 0)
    sunday = local(MOSCOW, 2027, 1, 17, 12, 0)
    assert schedule.next_opening(sunday) == local(MOSCOW, 2027, 1, 18, 9, 0)
    assert schedule.last_closing(sunday) == local(MOSCOW, 2027, 1, 16, 16, 0)
    assert (
        schedule.describe(schedule.next_opening(sunday), "en")
        == "Mon 18 Jan, 09:00 (Europe/Moscow)"
    )
    assert (
        schedule.describe(schedule.next_opening(sunday), "ru")
        == "пн 18 янв, 09:00 (Europe/Moscow)"
    )


def test_holidays_are_closed_all_day() -> None:
    schedule = hours("Europe/Moscow", {"mon-sun": "09:00-18:00"}, ("2027-01-01", "2027-01-07"))
    new_year = local(MOSCOW, 2027, 1, 1, 12, 0)
    assert not schedule.is_open(new_year)
    assert schedule.next_opening(new_year) == local(MOSCOW, 2027, 1, 2, 9, 0)
    assert schedule.next_opening(local(MOSCOW, 2027, 1, 6, 19, 0)) == local(
        MOSCOW, 2027, 1, 8, 9, 0
    )


def test_opening_stays_at_nine_on_the_wall_across_a_dst_change() -> None:
    schedule = hours("Europe/Berlin", {"mon-fri": "09:00-17:00"})
    # Spring forward on Sunday 2027-03-28: 09:00 is 08:00 UTC on Friday, 07:00 UTC on Monday.
    assert schedule.next_opening(local(BERLIN, 2027, 3, 26, 18, 0)) == datetime(
        2027, 3, 29, 7, 0, tzinfo=UTC
    )
    assert schedule.next_opening(local(BERLIN, 2027, 3, 25, 18, 0)) == datetime(
        2027, 3, 26, 8, 0, tzinfo=UTC
    )
    # Fall back on Sunday 2027-10-31.
    assert schedule.next_opening(local(BERLIN, 2027, 10, 29, 18, 0)) == datetime(
        2027, 11, 1, 8, 0, tzinfo=UTC
    )


def test_a_night_shift_across_midnight_is_one_stretch() -> None:
    schedule = hours("UTC", {"fri": "22:00-24:00", "sat": "00:00-02:00"})
    at = datetime(2027, 1, 16, 0, 30, tzinfo=UTC)  # Saturday 00:30
    assert schedule.is_open(at)
    assert schedule.last_closing(at) == datetime(2027, 1, 9, 2, 0, tzinfo=UTC)
    assert schedule.next_opening(datetime(2027, 1, 16, 3, 0, tzinfo=UTC)) == datetime(
        2027, 1, 22, 22, 0, tzinfo=UTC
    )


def test_no_hours_is_always_open_and_the_clock_starts_at_once() -> None:
    always = WorkingHours.always()
    at = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    assert always.is_open(at)
    assert always.next_opening(at) == at
    assert always.clock_start(at) == at
    closed = hours("UTC", {"mon": "09:00-10:00"})
    assert closed.clock_start(datetime(2027, 1, 1, 3, 0, tzinfo=UTC)) == datetime(
        2027, 1, 4, 9, 0, tzinfo=UTC
    )
