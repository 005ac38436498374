"""SLA clock arithmetic: business calendars, business time between instants, due times
through pauses, and the explanation of how a due time was derived.

Plain functions over aware UTC datetimes and whole seconds — no I/O, no "now". A calendar is
either 24x7 or a weekly set of working windows (several per weekday allowed) in a timezone,
minus holidays (whole local dates). Windows are local wall-clock times, so a 09:00-17:00 day
stays 09:00-17:00 across daylight-saving changes.

The rules the property tests hold these functions to: splitting an interval never changes
its business time; on a 24x7 calendar business time is wall-clock time; pausing never moves
a due time earlier; adding a holiday never moves it earlier.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MINUTES_PER_DAY = 24 * 60
# A due time further out than this is a configuration error (e.g. a calendar whose every
# working day is a holiday), not something to search for forever.
SEARCH_LIMIT_DAYS = 366 * 5

Window = tuple[int, int]  # minutes after local midnight: [start, end), end may be 1440
PieceKind = Literal["running", "paused", "closed"]


class CalendarNeverOpen(ValueError):
    """The calendar has no working time within the search horizon."""


def parse_clock(text: str) -> int:
    """`HH:MM` → minutes after midnight; `24:00` is the end of the day."""
    hours, minutes = text.split(":")
    value = int(hours) * 60 + int(minutes)
    if not (0 <= int(minutes) < 60 and 0 <= value <= MINUTES_PER_DAY):
        raise ValueError(f"{text} is not a time of day")
    return value


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def merge_windows(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted, with overlapping or touching windows joined."""
    merged: list[Window] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True)
class Calendar:
    timezone: str = "UTC"
    hours: Mapping[int, tuple[Window, ...]] = field(default_factory=dict)  # weekday (Mon=0) → windows
    holidays: frozenset[date] = frozenset()
    always_open: bool = False

    @classmethod
    def twenty_four_seven(cls) -> Calendar:
        return cls(always_open=True)

    @classmethod
    def business(
        cls, timezone: str, hours: Mapping[int, Iterable[Window]], holidays: Iterable[date] = ()
    ) -> Calendar:
        ZoneInfo(timezone)  # fails early on an unknown zone
        normal = {day: merge_windows(windows) for day, windows in hours.items()}
        return cls(timezone, {d: w for d, w in normal.items() if w}, frozenset(holidays))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calendar:
        """The stored form: {"mode": "24x7"} or {"mode": "business_hours", "timezone",
        "hours": {"monday": [{"start": "09:00", "end": "17:00"}]}, "holidays": [{"date": ...}]}."""
        if data.get("mode") == "24x7":
            return cls.twenty_four_seven()
        hours = {
            WEEKDAYS.index(day): [(parse_clock(w["start"]), parse_clock(w["end"])) for w in windows]
            for day, windows in (data.get("hours") or {}).items()
        }
        holidays = [date.fromisoformat(h["date"]) for h in data.get("holidays") or []]
        return cls.business(data.get("timezone") or "UTC", hours, holidays)

    def with_holiday(self, day: date) -> Calendar:
        return Calendar(self.timezone, self.hours, self.holidays | {day}, self.always_open)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Piece:
    """One stretch of an explanation: `running` counts, `paused` and `closed` do not."""

    kind: PieceKind
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return seconds_between(self.start, self.end)


def seconds_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    # Wall-clock arithmetic on the local date, then to UTC: 09:00 is 09:00 on DST days too.
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _windows_from(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open windows in UTC, in order, from the local day containing `start`."""
    zone = calendar.zone
    day = start.astimezone(zone).date() - timedelta(days=1)  # a window may straddle UTC midnight
    for _ in range(SEARCH_LIMIT_DAYS):
        if day not in calendar.holidays:
            for open_minute, close_minute in calendar.hours.get(day.weekday(), ()):
                opens, closes = _local_instant(day, open_minute, zone), _local_instant(day, close_minute, zone)
                if closes > start and closes > opens:
                    yield opens, closes
        day += timedelta(days=1)


def open_intervals(calendar: Calendar, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The parts of [start, end) during which the calendar is open."""
    if end <= start:
        return
    if calendar.always_open:
        yield start, end
        return
    for opens, closes in _windows_from(calendar, start):
        if opens >= end:
            return
        yield max(opens, start), min(closes, end)


def business_seconds(calendar: Calendar, start: datetime, end: datetime) -> int:
    return sum(seconds_between(a, b) for a, b in open_intervals(calendar, start, end))


def add_business_seconds(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    """The instant at which `seconds` of business time have passed since `start`."""
    if seconds <= 0:
        return start
    if calendar.always_open:
        return start + timedelta(seconds=seconds)
    remaining = seconds
    for opens, closes in _windows_from(calendar, start):
        begin = max(opens, start)
        available = seconds_between(begin, closes)
        if remaining <= available:
            return begin + timedelta(seconds=remaining)
        remaining -= available
    raise CalendarNeverOpen(f"no working time within {SEARCH_LIMIT_DAYS} days of {start.isoformat()}")


Pause = tuple[datetime, datetime | None]  # an open pause has no end yet


def _normal_pauses(start: datetime, pauses: Sequence[Pause]) -> list[Pause]:
    """Pauses clipped to begin no earlier than `start`, sorted, overlaps joined."""
    result: list[Pause] = []
    for begin, end in sorted(pauses, key=lambda p: p[0]):
        begin = max(begin, start)
        if end is not None and end <= begin:
            continue
        if result and (result[-1][1] is None or begin <= result[-1][1]):  # type: ignore[operator]
            last_begin, last_end = result[-1]
            joined_end = None if last_end is None or end is None else max(last_end, end)
            result[-1] = (last_begin, joined_end)
        else:
            result.append((begin, end))
    return result


def running_intervals(start: datetime, until: datetime, pauses: Sequence[Pause]) -> list[tuple[datetime, datetime]]:
    """[start, until) minus the pauses."""
    intervals, cursor = [], start
    for begin, end in _normal_pauses(start, pauses):
        if begin >= until:
            break
        if begin > cursor:
            intervals.append((cursor, begin))
        if end is None:
            return intervals
        cursor = max(cursor, end)
    if cursor < until:
        intervals.append((cursor, until))
    return intervals


def elapsed_seconds(calendar: Calendar, start: datetime, until: datetime, pauses: Sequence[Pause] = ()) -> int:
    """Business time on the clock between `start` and `until`, paused intervals excluded."""
    return sum(business_seconds(calendar, a, b) for a, b in running_intervals(start, until, pauses))


def due_at(calendar: Calendar, start: datetime, target_seconds: int, pauses: Sequence[Pause] = ()) -> datetime | None:
    """When `target_seconds` of business time will have run since `start`, the pauses skipped.
    None while an open pause holds the clock before the target is reached."""
    remaining, cursor = target_seconds, start
    for begin, end in _normal_pauses(start, pauses):
        if begin > cursor:
            available = business_seconds(calendar, cursor, begin)
            if remaining <= available:
                return add_business_seconds(calendar, cursor, remaining)
            remaining -= available
        if end is None:
            return None
        cursor = max(cursor, end)
    return add_business_seconds(calendar, cursor, remaining)


def explain(calendar: Calendar, start: datetime, until: datetime, pauses: Sequence[Pause] = ()) -> list[Piece]:
    """[start, until) as consecutive pieces: running (counted), paused, closed (outside hours)."""
    pieces: list[Piece] = []
    cursor = start
    for begin, end in running_intervals(start, until, pauses):
        if begin > cursor:
            pieces.append(Piece("paused", cursor, begin))
        inner = begin
        for opens, closes in open_intervals(calendar, begin, end):
            if opens > inner:
                pieces.append(Piece("closed", inner, opens))
            pieces.append(Piece("running", opens, closes))
            inner = closes
        if inner < end:
            pieces.append(Piece("closed", inner, end))
        cursor = end
    if cursor < until:
        pieces.append(Piece("paused", cursor, until))
    return pieces


def calendar_to_dict(calendar: Calendar) -> dict[str, Any]:
    if calendar.always_open:
        return {"mode": "24x7"}
    return {
        "mode": "business_hours",
        "timezone": calendar.timezone,
        "hours": {
            WEEKDAYS[day]: [{"start": format_clock(a), "end": format_clock(b)} for a, b in windows]
            for day, windows in sorted(calendar.hours.items())
        },
        "holidays": [{"date": day.isoformat()} for day in sorted(calendar.holidays)],
    }


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
