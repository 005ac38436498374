"""Relative-date arithmetic: template Days ↔ calendar dates, in calendar days or working days.

Day semantics (the contract):
- Day 1 is the anchor date itself; Day N (N ≥ 1) is N - 1 days after it; Day -N is N days
  before it; Day 0 does not exist.
- A task's due date is its start + (duration_days - 1).
- In working-days mode every count skips weekends and the tenant's holidays, and a Day that
  would land on a non-working day moves to the next working day — so Day 1 of an anchor that
  falls on a Saturday is the following Monday, and Day -1 is the Friday before.

Plain functions, no I/O: the conversions both ways are exact inverses on working dates, which
the property tests hold them to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

CalendarKind = Literal["calendar_days", "working_days"]
CALENDAR_DAYS: CalendarKind = "calendar_days"
WORKING_DAYS: CalendarKind = "working_days"
SATURDAY = 5
ONE_DAY = timedelta(days=1)


class OutOfCalendar(ValueError):
    """A Day that lands before 0001-01-01 or after 9999-12-31 (Python's dates, and ISO's)."""


class DayZero(ValueError):
    """Day 0 does not exist: Day 1 is the anchor, Day -1 the day before it."""


@dataclass(frozen=True)
class WorkCalendar:
    kind: CalendarKind = CALENDAR_DAYS
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, kind: CalendarKind, holidays: Iterable[date] = ()) -> WorkCalendar:
        return cls(kind, frozenset(holidays) if kind == WORKING_DAYS else frozenset())

    @property
    def counts_working_days(self) -> bool:
        return self.kind == WORKING_DAYS

    def is_working(self, day: date) -> bool:
        if not self.counts_working_days:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays

    def next_working(self, day: date) -> date:
        """The day itself if it counts, else the next day that does."""
        while not self.is_working(day):
            day += ONE_DAY
        return day

    def step(self, day: date, count: int) -> date:
        """`count` counted days after (or, negative, before) `day`, which must itself count."""
        if not self.counts_working_days:
            return day + timedelta(days=count)
        direction = ONE_DAY if count >= 0 else -ONE_DAY
        for _ in range(abs(count)):
            day += direction
            while not self.is_working(day):
                day += direction
        return day

    def between(self, start: date, end: date) -> int:
        """How many counted steps lead from `start` to `end` (negative when `end` is earlier).
        Both are taken as their next working day, so non-working dates count like the next one."""
        if not self.counts_working_days:
            return (end - start).days
        start, end = self.next_working(start), self.next_working(end)
        sign = 1 if end >= start else -1
        low, high = min(start, end), max(start, end)
        steps, cursor = 0, low
        while cursor < high:
            cursor = self.step(cursor, 1)
            steps += 1
        return sign * steps


def check_day(day: int) -> int:
    if day == 0:
        raise DayZero("Day 0 does not exist: Day 1 is the anchor date, Day -1 the day before it")
    return day


def days_between(earlier_day: int, later_day: int) -> int:
    """How many days separate two template Days (there is no Day 0 between Day -1 and Day 1)."""
    gap = later_day - earlier_day
    if earlier_day < 0 < later_day:
        return gap - 1
    if later_day < 0 < earlier_day:
        return gap + 1
    return gap


def date_of_day(anchor: date, day: int, calendar: WorkCalendar) -> date:
    """The date a template Day lands on for this anchor."""
    check_day(day)
    base = calendar.next_working(anchor)
    return calendar.step(base, day - 1 if day > 0 else day)


def day_of_date(anchor: date, when: date, calendar: WorkCalendar) -> int:
    """The template Day a date stands at relative to the anchor (the inverse of date_of_day)."""
    steps = calendar.between(anchor, when)
    return steps + 1 if steps >= 0 else steps


def due_date(start: date, duration_days: int, calendar: WorkCalendar) -> date:
    """A task's due date: its start + (duration_days - 1) counted days."""
    return calendar.step(calendar.next_working(start), max(duration_days, 1) - 1)


def duration_of(start: date, due: date | None, calendar: WorkCalendar) -> int:
    """Duration in days (inclusive of both ends) of a dated task; 1 when it has no later due date."""
    if due is None or due < start:
        return 1
    return calendar.between(start, due) + 1


@dataclass(frozen=True)
class Dates:
    start: date
    due: date


def schedule(anchor: date, day: int, duration_days: int, calendar: WorkCalendar) -> Dates:
    try:
        start = date_of_day(anchor, day, calendar)
        return Dates(start, due_date(start, duration_days, calendar))
    except OverflowError as beyond:
        raise OutOfCalendar(f"Day {day} of {duration_days} day(s) from {anchor.isoformat()} lands outside "
                            f"{date.min.isoformat()}..{date.max.isoformat()}") from beyond
