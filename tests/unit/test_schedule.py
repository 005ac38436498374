"""Relative-date arithmetic: Day semantics in calendar days and working days."""

from datetime import date, timedelta

import pytest
from chalicelib.templates.schedule import (
    CALENDAR_DAYS,
    WORKING_DAYS,
    DayZero,
    WorkCalendar,
    date_of_day,
    day_of_date,
    days_between,
    due_date,
    duration_of,
    schedule,
)
from hypothesis import given, settings
from hypothesis import strategies as st

CALENDAR = WorkCalendar.of(CALENDAR_DAYS)
FRIDAY_NEW_YEAR = date(2027, 1, 1)  # a Friday holiday straddling a year boundary


def working(*holidays: date) -> WorkCalendar:
    return WorkCalendar.of(WORKING_DAYS, holidays)


def test_day_one_is_the_anchor_and_day_n_is_n_minus_one_days_later():
    anchor = date(2026, 6, 12)
    assert date_of_day(anchor, 1, CALENDAR) == date(2026, 6, 12)
    assert date_of_day(anchor, 4, CALENDAR) == date(2026, 6, 15)
    # The example says Day 14 = 2026-06-26, which contradicts its own rule
    # (anchor + 13 days = 2026-06-25); the rule is the contract, so Day 15 is the 26th.
    assert date_of_day(anchor, 14, CALENDAR) == date(2026, 6, 25)
    assert date_of_day(anchor, 15, CALENDAR) == date(2026, 6, 26)


def test_day_minus_n_is_n_days_before_the_anchor():
    assert date_of_day(date(2026, 6, 12), -1, CALENDAR) == date(2026, 6, 11)
    assert date_of_day(date(2026, 3, 1), -1, CALENDAR) == date(2026, 2, 28)


def test_day_zero_does_not_exist():
    with pytest.raises(DayZero):
        date_of_day(date(2026, 6, 12), 0, CALENDAR)


def test_due_date_is_start_plus_duration_minus_one():
    assert due_date(date(2026, 6, 12), 1, CALENDAR) == date(2026, 6, 12)
    assert due_date(date(2026, 6, 12), 3, CALENDAR) == date(2026, 6, 14)


def test_crossing_month_and_year_boundaries_in_calendar_days():
    assert date_of_day(date(2026, 12, 30), 4, CALENDAR) == date(2027, 1, 2)
    assert date_of_day(date(2027, 1, 2), -3, CALENDAR) == date(2026, 12, 30)
    assert date_of_day(date(2028, 2, 27), 3, CALENDAR) == date(2028, 2, 29)


def test_working_days_skip_weekends():
    friday = date(2026, 6, 12)
    assert date_of_day(friday, 2, working()) == date(2026, 6, 15)  # Monday
    assert date_of_day(friday, 6, working()) == date(2026, 6, 19)
    assert date_of_day(friday, 14, working()) == date(2026, 7, 1)


def test_working_days_skip_holidays_across_a_year_boundary():
    calendar = working(FRIDAY_NEW_YEAR)
    thursday = date(2026, 12, 31)
    assert date_of_day(thursday, 2, calendar) == date(2027, 1, 4)  # Friday holiday, then weekend
    assert date_of_day(date(2027, 1, 4), -1, calendar) == thursday


def test_a_day_landing_on_a_non_working_day_moves_to_the_next_working_day():
    saturday = date(2026, 6, 13)
    assert date_of_day(saturday, 1, working()) == date(2026, 6, 15)
    assert date_of_day(saturday, -1, working()) == date(2026, 6, 12)
    assert date_of_day(saturday, 1, CALENDAR) == saturday


def test_working_day_duration_skips_the_weekend():
    assert due_date(date(2026, 6, 12), 2, working()) == date(2026, 6, 15)
    assert duration_of(date(2026, 6, 12), date(2026, 6, 15), working()) == 2


def test_days_between_skips_the_missing_day_zero():
    assert days_between(-1, 1) == 1
    assert days_between(1, -1) == -1
    assert days_between(7, 11) == 4


anchors = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
days = st.integers(min_value=-120, max_value=400).filter(lambda day: day != 0)
holiday_sets = st.sets(st.dates(min_value=date(2019, 6, 1), max_value=date(2037, 6, 30)), max_size=40)
calendars = st.one_of(st.just(CALENDAR), holiday_sets.map(lambda holidays: working(*holidays)))


@settings(max_examples=300, deadline=None)
@given(anchor=anchors, day=days, calendar=calendars)
def test_a_day_scheduled_then_read_back_is_the_same_day(anchor, day, calendar):
    assert day_of_date(anchor, date_of_day(anchor, day, calendar), calendar) == day


@settings(max_examples=300, deadline=None)
@given(anchor=anchors, day=days, duration=st.integers(min_value=1, max_value=60), calendar=calendars)
def test_a_scheduled_duration_reads_back_unchanged(anchor, day, duration, calendar):
    dates = schedule(anchor, day, duration, calendar)
    assert dates.due >= dates.start
    assert duration_of(dates.start, dates.due, calendar) == duration


@settings(max_examples=200, deadline=None)
@given(anchor=anchors, first=days, second=days, calendar=calendars)
def test_later_days_never_land_earlier(anchor, first, second, calendar):
    low, high = sorted((first, second))
    assert date_of_day(anchor, low, calendar) <= date_of_day(anchor, high, calendar)


@settings(max_examples=200, deadline=None)
@given(anchor=anchors, day=days, holidays=holiday_sets)
def test_working_days_always_land_on_a_working_day(anchor, day, holidays):
    calendar = working(*holidays)
    landed = date_of_day(anchor, day, calendar)
    assert landed.weekday() < 5 and landed not in holidays


@settings(max_examples=200, deadline=None)
@given(anchor=anchors, day=days)
def test_calendar_days_are_plain_offsets(anchor, day):
    expected = anchor + timedelta(days=day - 1 if day > 0 else day)
    assert date_of_day(anchor, day, CALENDAR) == expected
    assert days_between(1, day) == (expected - anchor).days
