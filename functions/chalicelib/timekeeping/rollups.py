"""Daily time rollups (what GET /reports/time reads): per day x user x customer x project x
task x task type x category x currency, the minutes, billable minutes, billable amount and
entry count. Moved by the room's own consumer of its entry events (consumers.py), never in the
entry's transaction: a Created adds, a Deleted subtracts, an Updated subtracts its `before` and
adds its `after` (nothing when neither moved a figure or a dimension). ADDs are commutative, so
any order of delivery gives the same figures; committed with the consumer's processed marker
(core.consumers.commit_once), so no copy of an event counts twice.

A report reads the rollup rows of its date range — one Query of the tenant's rollup partition
between the dates — so its cost follows the number of rows (distinct days x combinations),
never the number of entries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from chalicelib.core.consumers import commit_once
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction, query_reader

from .events import EntryData
from .models import END, TimeRollup, date_key

DIMENSIONS = ("date", "user_id", "customer_id", "project_id", "task_id", "task_type", "category", "currency")
FIGURES = ("minutes", "billable_minutes", "amount", "entries")


def _dimensions(entry: EntryData) -> tuple[str | None, ...]:
    return tuple(getattr(entry, name) for name in DIMENSIONS)


def _figures(entry: EntryData) -> dict[str, int]:
    return {"minutes": entry.minutes, "billable_minutes": entry.minutes if entry.billable else 0,
            "amount": entry.amount if entry.billable else 0, "entries": 1}


def row_key(dimensions: tuple[str | None, ...]) -> str:
    digest = hashlib.sha256("\x1f".join(value or "" for value in dimensions).encode()).hexdigest()[:20]
    return date_key(str(dimensions[0]), digest)


def apply(event: Event, *changes: tuple[EntryData, int]) -> bool:
    """Add each (entry, sign) to its day's row; False when nothing moved or this consumer counted
    the event before."""
    deltas: dict[tuple[str | None, ...], dict[str, int]] = {}
    for entry, sign in changes:
        row = deltas.setdefault(_dimensions(entry), dict.fromkeys(FIGURES, 0))
        for name, value in _figures(entry).items():
            row[name] += sign * value
    tx = Transaction()
    for dimensions, figures in deltas.items():
        actions = [getattr(TimeRollup, name).add(value) for name, value in figures.items() if value]
        if not actions:
            continue
        item = TimeRollup(TimeRollup.pk(event.tenant_id), row_key(dimensions))
        actions += [TimeRollup.type.set("TimeRollup"), TimeRollup.tenant_id.set(event.tenant_id)]
        actions += [getattr(TimeRollup, name).set(value) for name, value in zip(DIMENSIONS, dimensions, strict=True)
                    if value is not None]
        tx.update(item, actions)
    if not tx:
        return False
    return commit_once(tx, event)


def rows(tenant_id: str, date_from: str, date_to: str) -> Iterator[TimeRollup]:
    """The rollup rows of a date range (inclusive), by date."""
    reader = query_reader(TimeRollup, TimeRollup.pk(tenant_id),
                          TimeRollup.SK.between(date_key(date_from), date_key(date_to, END)))
    start = None
    while True:
        items, start = reader(1000, start)
        yield from items
        if start is None:
            return
