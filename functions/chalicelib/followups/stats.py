"""The follow-up report's counters, kept as follow-ups move: every change adds its counts to
its follow-up's cohort rows (see models.py) in the change's own transaction (ADDs, on
core.counters shards), and the report sums the rows of a day range — it never reads a
follow-up.

Days late is a histogram: a late completion adds 1 to `late_<n>` (n = days late, 1..90; 91
holds everything later), so the median is read off the cumulative counts, exactly up to 90 days."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from chalicelib.core.counters import shard_sort_key
from chalicelib.core.pagination import PageReader
from chalicelib.core.table import Transaction, query_reader

from .models import COUNTERS, LATE_BUCKETS, LATE_DAYS_EXACT, FollowUp, FollowUpStat

DIMENSIONS = ("assignee", "customer", "weekday")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_RANGE_DAYS = 366


def late_bucket(days: int) -> str:
    return f"late_{min(days, LATE_DAYS_EXACT + 1)}"


def _values(follow_up: FollowUp) -> dict[str, str]:
    return {"assignee": follow_up.assignee_id, "customer": follow_up.customer_id, "weekday": follow_up.due_weekday}


class Tally:
    """The counts one transaction adds, gathered per row: one update per row, however many of
    the transaction's follow-ups share it (DynamoDB refuses two writes to one item in a
    transaction)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.rows: dict[tuple[str, str, str], Counter[str]] = {}

    def add(self, follow_up: FollowUp, *names: str) -> None:
        for dimension, value in _values(follow_up).items():
            self.rows.setdefault((dimension, follow_up.cohort_day, value), Counter()).update(names)

    def write(self, tx: Transaction) -> None:
        for (dimension, day, value), counts in sorted(self.rows.items()):
            item = FollowUpStat(FollowUpStat.pk(self.tenant_id, day[:7]), shard_sort_key(f"{dimension}#{day}#{value}"))
            actions = [getattr(FollowUpStat, name).add(number) for name, number in sorted(counts.items())]
            actions += [FollowUpStat.type.set("FollowUpStat"), FollowUpStat.tenant_id.set(self.tenant_id),
                        FollowUpStat.dimension.set(dimension), FollowUpStat.day.set(day),
                        FollowUpStat.value.set(value)]
            tx.update(item, actions)


def _months(start: date, end: date) -> list[str]:
    months, cursor = [], start.replace(day=1)
    while cursor <= end:
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def every_page(read: PageReader[Any]) -> list[Any]:
    """Everything a page reader finds, page after page (for partitions bounded by design)."""
    found: list[Any] = []
    last: dict[str, Any] | None = None
    while True:
        page, last = read(1000, last)
        found += page
        if last is None:
            return found


def _rows(tenant_id: str, dimension: str, start: date, end: date) -> list[FollowUpStat]:
    """The rows of one dimension in the range: one Query (and its pages) per month."""
    low, high = f"{dimension}#{start.isoformat()}", f"{dimension}#{end.isoformat()}#~"
    return [row for month in _months(start, end) for row in every_page(
        query_reader(FollowUpStat, FollowUpStat.pk(tenant_id, month), FollowUpStat.SK.between(low, high)))]


def median_late(histogram: dict[int, int]) -> float | None:
    """The median of the late completions' days late (None: none was late)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    wanted = sorted({(total - 1) // 2, total // 2})  # the middle one, or the middle two
    values, seen = [], 0
    for days in sorted(histogram):
        count = histogram[days]
        values += [days for position in wanted if seen <= position < seen + count]
        seen += count
    return sum(values) / len(values)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(key: str, counts: Counter[str]) -> dict[str, Any]:
    histogram = {int(name.removeprefix("late_")): counts[name] for name in LATE_BUCKETS if counts[name]}
    return {
        "key": key, **{name: counts[name] for name in COUNTERS},
        "completion_rate": _ratio(counts["completed"], counts["created"]),
        "on_time_rate": _ratio(counts["completed_on_time"], counts["completed"]),
        "median_days_late": median_late(histogram),
        "postponements_per_follow_up": _ratio(counts["postponements"], counts["created"]),
    }


def report(tenant_id: str, group_by: str, start: date, end: date) -> dict[str, Any]:
    dimension = {"assignee": "assignee", "customer": "customer", "weekday": "weekday"}[group_by]
    groups: dict[str, Counter[str]] = {}
    for row in _rows(tenant_id, dimension, start, end):
        total = groups.setdefault(row.value, Counter())
        for name in (*COUNTERS, *LATE_BUCKETS):
            total[name] += int(getattr(row, name, None) or 0)
    order = (lambda key: WEEKDAYS.index(key)) if group_by == "weekday" else (lambda key: key)
    overall: Counter[str] = Counter()
    for counts in groups.values():
        overall.update(counts)
    return {"group_by": group_by, "from": start.isoformat(), "to": end.isoformat(),
            "groups": [_figures(key, groups[key]) for key in sorted(groups, key=order)],
            "totals": _figures("all", overall)}
