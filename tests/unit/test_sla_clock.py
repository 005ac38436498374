"""The SLA clock: the examples a support lead checks by hand, and the properties that make the
arithmetic trustworthy on any calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from chalicelib.sla.clock import (
    Calendar,
    CalendarNeverOpen,
    add_business_seconds,
    business_seconds,
    due_at,
    elapsed_seconds,
    explain,
    parse_clock,
)
from hypothesis import given, reject, settings
from hypothesis import strategies as st

HOUR = 3600
NINE_TO_FIVE = Calendar.business("UTC", {day: [(9 * 60, 17 * 60)] for day in range(5)})
SPLIT_DAY = Calendar.business("Europe/Berlin", {day: [(9 * 60, 12 * 60), (13 * 60, 18 * 60)] for day in range(5)})
FRIDAY_1630 = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# ---------- what a support lead would check by hand ----------


def test_friday_1630_with_a_one_business_hour_target_is_due_monday_0930():
    assert due_at(NINE_TO_FIVE, FRIDAY_1630, HOUR) == at(23, 9, 30)


def test_the_explanation_shows_the_weekend_as_closed_and_counts_sixty_minutes():
    pieces = explain(NINE_TO_FIVE, FRIDAY_1630, at(23, 9, 30))
    assert [(p.kind, p.seconds // 60) for p in pieces] == [("running", 30), ("closed", 3840), ("running", 30)]


def test_three_hours_waiting_on_customer_do_not_count():
    start = at(23, 9)
    pause = (at(23, 10), at(23, 13))
    assert due_at(NINE_TO_FIVE, start, 4 * HOUR) == at(23, 13)
    assert due_at(NINE_TO_FIVE, start, 4 * HOUR, [pause]) == at(23, 16)


def test_pending_is_not_a_pause_so_the_due_time_stays():
    # Pending (the team is the blocker) runs the clock: no pause interval, same due time.
    assert due_at(NINE_TO_FIVE, at(23, 9), 4 * HOUR, []) == at(23, 13)


def test_an_open_pause_holds_the_due_time_until_it_ends():
    assert due_at(NINE_TO_FIVE, at(23, 9), 4 * HOUR, [(at(23, 10), None)]) is None


def test_a_target_met_before_an_open_pause_still_has_its_due_time():
    assert due_at(NINE_TO_FIVE, at(23, 9), HOUR // 2, [(at(23, 10), None)]) == at(23, 9, 30)


def test_two_windows_a_day_skip_the_lunch_break_in_the_calendar_timezone():
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 in Berlin (UTC+1)
    assert due_at(SPLIT_DAY, start, 2 * HOUR) == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 14:00 Berlin


def test_a_holiday_is_skipped_whole():
    calendar = NINE_TO_FIVE.with_holiday(date(2026, 11, 23))
    assert due_at(calendar, FRIDAY_1630, HOUR) == at(24, 9, 30)


def test_business_hours_keep_their_wall_clock_time_across_daylight_saving():
    calendar = Calendar.business("Europe/Berlin", {day: [(9 * 60, 17 * 60)] for day in range(7)})
    before = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # Saturday 09:00 CET
    after = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Monday 09:00 CEST
    assert add_business_seconds(calendar, before, 8 * HOUR) == datetime(2026, 3, 28, 16, 0, tzinfo=UTC)
    assert add_business_seconds(calendar, after, HOUR) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_a_window_may_run_to_midnight():
    calendar = Calendar.business("UTC", {0: [(parse_clock("20:00"), parse_clock("24:00"))]})
    assert business_seconds(calendar, at(23, 0), at(24, 0)) == 4 * HOUR


# ---------- properties ----------

zones = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
window_lists = st.lists(
    st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(lambda w: w[0] < w[1]), min_size=0, max_size=3
)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    hours = {day: draw(window_lists) for day in range(7)}
    if not any(hours.values()):
        hours[0] = [(540, 1020)]
    holidays = draw(st.lists(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=5))
    return Calendar.business(draw(zones), hours, holidays)


instants = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
targets = st.integers(1, 60 * HOUR)


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime) -> list[tuple[datetime, datetime | None]]:
    pauses: list[tuple[datetime, datetime | None]] = []
    for _ in range(draw(st.integers(0, 3))):
        begin = start + timedelta(seconds=draw(st.integers(0, 30 * 24 * HOUR)))
        pauses.append((begin, begin + timedelta(seconds=draw(st.integers(1, 5 * 24 * HOUR)))))
    return pauses


def due_or_reject(calendar, start, target, pauses):
    """due_at, where the calendar can hold the target at all: one open a minute a week cannot
    hold 60 hours within the search horizon (CalendarNeverOpen), so hypothesis draws again."""
    try:
        return due_at(calendar, start, target, pauses)
    except CalendarNeverOpen:
        reject()


def later_or_none(a: datetime | None, b: datetime | None) -> bool:
    """b is no earlier than a, treating None (held by a pause) as never."""
    return b is None or (a is not None and b >= a)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, st.integers(0, 20 * 24 * HOUR), st.integers(0, 20 * 24 * HOUR))
def test_splitting_an_interval_never_changes_the_total(calendar, start, first, second):
    middle, end = start + timedelta(seconds=first), start + timedelta(seconds=first + second)
    total = business_seconds(calendar, start, end)
    assert total == business_seconds(calendar, start, middle) + business_seconds(calendar, middle, end)


@settings(max_examples=150, deadline=None)
@given(instants, targets, st.integers(0, 30 * 24 * HOUR))
def test_a_24x7_calendar_is_plain_wall_clock_arithmetic(start, target, span):
    always = Calendar.twenty_four_seven()
    end = start + timedelta(seconds=span)
    assert business_seconds(always, start, end) == span
    assert add_business_seconds(always, start, target) == start + timedelta(seconds=target)
    assert due_at(always, start, target) == start + timedelta(seconds=target)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, targets)
def test_adding_business_time_and_measuring_it_back_agree(calendar, start, target):
    try:
        due = add_business_seconds(calendar, start, target)
    except CalendarNeverOpen:  # a calendar open a minute a week cannot hold 60 hours in five years
        reject()
    assert business_seconds(calendar, start, due) == target


@settings(max_examples=150, deadline=None)
@given(st.data(), calendars(), instants, targets)
def test_pausing_never_moves_a_due_time_earlier(data, calendar, start, target):
    pauses = data.draw(pause_lists(start))
    extra = data.draw(pause_lists(start))
    assert later_or_none(due_or_reject(calendar, start, target, pauses),
                         due_or_reject(calendar, start, target, pauses + extra))


@settings(max_examples=150, deadline=None)
@given(st.data(), calendars(), instants, targets, st.dates(date(2026, 1, 1), date(2026, 12, 31)))
def test_adding_a_holiday_never_moves_a_due_time_earlier(data, calendar, start, target, holiday):
    pauses = data.draw(pause_lists(start))
    before = due_or_reject(calendar, start, target, pauses)
    after = due_or_reject(calendar.with_holiday(holiday), start, target, pauses)
    assert later_or_none(before, after)


@settings(max_examples=100, deadline=None)
@given(st.data(), calendars(), instants, targets)
def test_the_explanation_covers_the_span_and_its_running_pieces_sum_to_the_elapsed_time(
    data, calendar, start, target
):
    pauses = data.draw(pause_lists(start))
    until = start + timedelta(seconds=data.draw(st.integers(1, 20 * 24 * HOUR)))
    pieces = explain(calendar, start, until, pauses)
    assert pieces[0].start == start and pieces[-1].end == until
    assert all(a.end == b.start for a, b in pairwise(pieces))
    running = sum(p.seconds for p in pieces if p.kind == "running")
    assert running == elapsed_seconds(calendar, start, until, pauses)


@settings(max_examples=100, deadline=None)
@given(st.data(), calendars(), instants, targets)
def test_at_the_due_time_exactly_the_target_has_elapsed(data, calendar, start, target):
    pauses = data.draw(pause_lists(start))
    due = due_or_reject(calendar, start, target, pauses)
    if due is not None:
        assert elapsed_seconds(calendar, start, due, pauses) == target
