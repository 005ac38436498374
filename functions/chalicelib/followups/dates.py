"""Follow-up calendar rules, as plain functions: when a follow-up is due (an instant in UTC,
fixed from the assignee's timezone when the date is set), which bucket it falls in from where
the assignee stands, what a postponement preset means, and how late a completion was.

A follow-up given a calendar date (`due_date`) is due at the end of that day where its
assignee lives: it passes at the next local midnight. One given an instant (`due_at`) is due
then; its `due_date` is that instant's local date. Buckets are windows of due instants,
computed from the assignee's local "today":

  overdue    due_at <= now
  due_today  now < due_at <= end of today (local)
  upcoming   end of today < due_at <= end of today + upcoming_days
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRESET_DAYS = {"tomorrow": 1, "3_days": 3, "1_week": 7, "2_weeks": 14}


def format_instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def end_of_day(day: date, timezone: str) -> datetime:
    """The instant (UTC) a local calendar day ends: the next local midnight."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone)).astimezone(UTC)


def local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Due:
    """When a follow-up is due: the instant (UTC) the sweep and the buckets use, and the
    local calendar date (in the assignee's timezone when it was set)."""

    at: datetime
    day: date
    timezone: str
    all_day: bool  # given as a date: due at the end of that local day

    @property
    def iso(self) -> str:
        return format_instant(self.at)


def due_on(day: date, timezone: str) -> Due:
    return Due(end_of_day(day, timezone), day, timezone, True)


def due_at(instant: datetime, timezone: str) -> Due:
    return Due(instant.astimezone(UTC), local_date(instant, timezone), timezone, False)


@dataclass(frozen=True)
class Window:
    """A bucket's due instants: low < due_at <= high (low None: from the beginning)."""

    low: datetime | None
    high: datetime


def bucket_window(bucket: str, now: datetime, timezone: str, upcoming_days: int) -> Window:
    today = local_date(now, timezone)
    tonight = end_of_day(today, timezone)
    if bucket == "overdue":
        return Window(None, now)
    if bucket == "due_today":
        return Window(now, tonight)
    if bucket == "upcoming":
        return Window(tonight, end_of_day(today + timedelta(days=upcoming_days), timezone))
    raise ValueError(f"unknown bucket {bucket}")


def postponed_to(preset: str, now: datetime, timezone: str) -> Due:
    """A preset counts calendar days from the assignee's today; the follow-up is then due at
    the end of that day."""
    return due_on(local_date(now, timezone) + timedelta(days=PRESET_DAYS[preset]), timezone)


def days_late(due: datetime, done: datetime) -> int:
    """0 when done at or before the due instant; otherwise the days begun since (an hour
    late is a day late; an all-day follow-up done the next day is one day late)."""
    late = (done - due).total_seconds()
    return 0 if late <= 0 else int(-(-late // 86400))
