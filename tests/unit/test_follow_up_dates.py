"""Follow-up calendar rules (followups/dates.py) and the report's median from its histogram."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

from chalicelib.followups import dates
from chalicelib.followups.stats import late_bucket, median_late
from hypothesis import given
from hypothesis import strategies as st


def utc(text: str) -> datetime:
    return dates.parse_instant(text)


def test_a_day_ends_at_the_next_local_midnight_across_daylight_saving_changes() -> None:
    # Sydney leaves daylight saving on 2030-04-07 (03:00 AEDT → 02:00 AEST): that day has 25 hours.
    assert dates.format_instant(dates.end_of_day(date(2030, 4, 6), "Australia/Sydney")) == "2030-04-06T13:00:00Z"
    assert dates.format_instant(dates.end_of_day(date(2030, 4, 7), "Australia/Sydney")) == "2030-04-07T14:00:00Z"
    # Los Angeles springs forward on 2030-03-10: midnight after it is 07:00Z, the night before 08:00Z.
    assert dates.format_instant(dates.end_of_day(date(2030, 3, 9), "America/Los_Angeles")) == "2030-03-10T08:00:00Z"
    assert dates.format_instant(dates.end_of_day(date(2030, 3, 10), "America/Los_Angeles")) == "2030-03-11T07:00:00Z"


def test_an_instant_belongs_to_the_local_date_of_the_assignee() -> None:
    due = dates.due_at(utc("2030-05-10T20:00:00Z"), "Australia/Brisbane")
    assert (due.day, due.all_day, due.iso) == (date(2030, 5, 11), False, "2030-05-10T20:00:00Z")


def test_the_buckets_meet_without_gaps_or_overlaps() -> None:
    now = utc("2030-05-10T06:00:00Z")  # May 9, 23:00 in Los Angeles
    overdue = dates.bucket_window("overdue", now, "America/Los_Angeles", 14)
    today = dates.bucket_window("due_today", now, "America/Los_Angeles", 14)
    upcoming = dates.bucket_window("upcoming", now, "America/Los_Angeles", 14)
    assert overdue.high == today.low == now
    assert today.high == upcoming.low == utc("2030-05-10T07:00:00Z")
    assert upcoming.high == utc("2030-05-24T07:00:00Z")


def test_presets_count_calendar_days_from_the_assignees_today() -> None:
    now = utc("2030-05-10T06:00:00Z")  # still May 9 in Los Angeles, May 10 in Brisbane
    assert dates.postponed_to("tomorrow", now, "America/Los_Angeles").day == date(2030, 5, 10)
    assert dates.postponed_to("tomorrow", now, "Australia/Brisbane").day == date(2030, 5, 11)
    assert dates.postponed_to("2_weeks", now, "UTC").day == date(2030, 5, 24)


def test_days_late_counts_the_days_begun_after_the_due_instant() -> None:
    due = utc("2030-05-11T00:00:00Z")
    assert dates.days_late(due, due) == 0
    assert dates.days_late(due, due - timedelta(hours=5)) == 0
    assert dates.days_late(due, due + timedelta(minutes=1)) == 1
    assert dates.days_late(due, due + timedelta(days=1)) == 1
    assert dates.days_late(due, due + timedelta(days=1, seconds=1)) == 2


def test_late_buckets_stop_at_91() -> None:
    assert (late_bucket(1), late_bucket(90), late_bucket(91), late_bucket(400)) == ("late_1", "late_90", "late_91",
                                                                                   "late_91")


@given(st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=200))
def test_the_median_read_from_the_histogram_is_the_median_of_the_values(values: list[int]) -> None:
    histogram: dict[int, int] = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    assert median_late(histogram) == statistics.median(values)


def test_no_late_completion_has_no_median() -> None:
    assert median_late({}) is None


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
       st.sampled_from(["UTC", "America/Los_Angeles", "Australia/Brisbane", "Australia/Sydney", "Asia/Kolkata"]))
def test_a_date_only_follow_up_is_due_today_until_its_local_day_ends(now: datetime, timezone: str) -> None:
    today = dates.local_date(now, timezone)
    due = dates.due_on(today, timezone)
    window = dates.bucket_window("due_today", now, timezone, 14)
    assert window.low is not None and window.low < due.at <= window.high
