"""What the counters and touches answer: the activity heatmap, quiet customers and the Gantt's
activity overlay. Read from the daily counters (counters.py), never from events: a heatmap
reads the counter items of its scope x rows between its dates — rows x days x types, however
much happened."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.core.pagination import Page
from chalicelib.core.table import query_reader, read_items

from .feed import one_query_page
from .models import CustomerTouch, DayCounter

MAX_DAYS = 731  # a heatmap spans at most two years
STATUS_KINDS = frozenset({"Task.StatusChanged", "Project.StatusChanged"})


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if bucket == "month":
        return day.replace(day=1)
    if bucket == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day


def bucket_starts(start: date, end: date, bucket: str) -> list[date]:
    found: list[date] = []
    day = start
    while day <= end:
        first = bucket_start(day, bucket)
        if not found or found[-1] != first:
            found.append(first)
        day += timedelta(days=1)
    return found


def is_system(etype: str) -> bool:
    """Event kinds are `<Entity>.<Verb>`; interaction types never hold a dot."""
    return "." in etype


def counter_rows(tenant_id: str, scope: str, rows: str, start: date, end: date) -> list[DayCounter]:
    """The counter items of one scope x rows between two days: Query pages of one partition."""
    return list(DayCounter.query(DayCounter.pk(tenant_id, scope, rows),
                                 DayCounter.SK.between(start.isoformat(), end.isoformat() + "~")))


def heatmap(tenant_id: str, scope: str, rows: str, bucket: str, start: date, end: date,
            types: list[str] | None, system: bool | None) -> dict[str, Any]:
    buckets = bucket_starts(start, end, bucket)
    index = {first: position for position, first in enumerate(buckets)}
    cells: dict[str, list[int]] = defaultdict(lambda: [0] * len(buckets))
    for counter in counter_rows(tenant_id, scope, rows, start, end):
        if types is not None and counter.etype not in types:
            continue
        if system is not None and is_system(counter.etype) != system:
            continue
        cells[counter.row][index[bucket_start(date.fromisoformat(counter.day), bucket)]] += int(counter.count)
    ordered = sorted(((row, counts) for row, counts in cells.items() if any(counts)),
                     key=lambda pair: (-sum(pair[1]), pair[0]))
    labels = _labels(tenant_id, rows, [row for row, _ in ordered])
    return {
        "scope": scope, "rows_by": rows, "bucket": bucket, "range": {"from": start.isoformat(), "to": end.isoformat()},
        "buckets": [first.isoformat() for first in buckets],
        "rows": [{"id": row, "label": labels.get(row, row), "total": sum(counts)} for row, counts in ordered],
        "cells": [counts for _, counts in ordered],
        "totals": {"buckets": [sum(counts[n] for _, counts in ordered) for n in range(len(buckets))],
                   "total": sum(sum(counts) for _, counts in ordered)},
    }


def _labels(tenant_id: str, rows: str, ids: list[str]) -> dict[str, str]:
    if rows == "customer" and ids:
        touches = read_items([(CustomerTouch.pk(tenant_id, row), CustomerTouch.SORT) for row in ids], [CustomerTouch])
        return {touch.customer_id: touch.name for touch in touches if touch.name}
    if rows == "type":
        from . import kinds

        return {entry["key"]: entry["label"] for entry in kinds.all_types(tenant_id)}
    return {}


def activity_overlay(tenant_id: str, project_id: str, bucket: str, start: date, end: date) -> list[dict[str, Any]]:
    """For the Gantt: per bucket of the project, its interactions and status changes."""
    buckets = bucket_starts(start, end, bucket)
    figures = {first: {"interactions": 0, "status_changes": 0} for first in buckets}
    for counter in counter_rows(tenant_id, f"P#{project_id}", "type", start, end):
        first = bucket_start(date.fromisoformat(counter.day), bucket)
        if not is_system(counter.etype):
            figures[first]["interactions"] += int(counter.count)
        elif counter.etype in STATUS_KINDS:
            figures[first]["status_changes"] += int(counter.count)
    return [{"start": first.isoformat(), **counts} for first, counts in figures.items()]


def quiet_customers(tenant_id: str, days: int, member_id: str | None, limit: int,
                    cursor: str | None) -> Page[CustomerTouch]:
    """Customers whose last customer-facing interaction is older than `days` days (or never
    was), the quietest first: one Query of the touch index per page (a member's: their
    customers, a FilterExpression on the same Query)."""
    cutoff = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reach = None
    if member_id is not None:
        reach = (CustomerTouch.owner_id == member_id) | CustomerTouch.team_ids.contains(member_id)
    before_cutoff = CustomerTouch.GSI2SK < cutoff  # noqa: SIM300
    reader = query_reader(CustomerTouch.by_touch, CustomerTouch.index_pk(tenant_id), before_cutoff, reach)
    return one_query_page(reader, limit, cursor)


def touch_view(touch: CustomerTouch) -> dict[str, Any]:
    return {"customer_id": touch.customer_id, "name": touch.name, "owner_id": touch.owner_id,
            "last_interaction_at": touch.last_interaction_at,
            "last_customer_touch_at": touch.last_customer_touch_at}
