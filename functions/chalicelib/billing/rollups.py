"""The rollups the billing reports read (billing/reports.py), moved by the time room's entry
events: each TimeEntry.Created / Updated / Deleted carries the entry before and after, so the
change of each figure is the after's contribution minus the before's, added (ADD, sharded:
core.counters) to the rows of the day x customer x project each side belongs to, with this
consumer's marker (commit_once): any order, once per event.

- worked: billable entries (any status)
- uninvoiced: approved, billable, on no invoice (the time room's approval and billing's invoice
  events move entries in and out of it — each such change is a TimeEntry.Updated)
- invoiced: billable entries on an invoice"""

from __future__ import annotations

from collections import Counter
from typing import Any

from chalicelib.core.consumers import commit_once, consumer
from chalicelib.core.counters import shard_sort_key
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction
from chalicelib.timekeeping.events import EntryData, TimeEntryCreated, TimeEntryDeleted, TimeEntryUpdated

from .models import BillingRollup

Row = tuple[str, str, str, str]  # day, customer, project ("-": none), currency


def contribution(entry: EntryData | None) -> dict[Row, Counter[str]]:
    if entry is None or not entry.billable:
        return {}
    figures: Counter[str] = Counter(worked_minutes=entry.minutes, worked_amount=entry.amount)
    if entry.status == "approved" and not entry.invoice_id:
        figures.update(uninvoiced_minutes=entry.minutes, uninvoiced_amount=entry.amount)
    if entry.invoice_id or entry.status == "invoiced":
        figures.update(invoiced_minutes=entry.minutes, invoiced_amount=entry.amount)
    return {(entry.date, entry.customer_id, entry.project_id or "-", entry.currency): figures}


def change(before: EntryData | None, after: EntryData | None) -> dict[Row, dict[str, int]]:
    deltas: dict[Row, dict[str, int]] = {}
    for sign, side in ((-1, before), (1, after)):
        for row, figures in contribution(side).items():
            total = deltas.setdefault(row, {})
            for name, value in figures.items():
                total[name] = total.get(name, 0) + sign * value
    return {row: {k: v for k, v in figures.items() if v} for row, figures in deltas.items()
            if any(figures.values())}


def _sides(data: Any) -> tuple[EntryData | None, EntryData | None]:
    if isinstance(data, TimeEntryCreated):
        return None, data.entry
    if isinstance(data, TimeEntryDeleted):
        return data.entry, None
    return data.before, data.after


@consumer("billing_rollups", TimeEntryCreated, TimeEntryUpdated, TimeEntryDeleted)
def move_rollups(event: Event) -> bool:
    """A billable entry's change moves the billing rollups (worked, approved-uninvoiced, invoiced)."""
    deltas = change(*_sides(event.typed()))
    if not deltas:
        return False
    tx = Transaction()
    for (day, customer, project, currency), figures in sorted(deltas.items()):
        sort = shard_sort_key(f"{day}#{customer}#{project}#{currency}")
        item = BillingRollup(BillingRollup.pk(event.tenant_id), sort)
        tx.update(item, [*(getattr(BillingRollup, name).add(value) for name, value in sorted(figures.items())),
                         BillingRollup.type.set("BillingRollup"), BillingRollup.tenant_id.set(event.tenant_id),
                         BillingRollup.day.set(day), BillingRollup.customer_id.set(customer),
                         BillingRollup.project_id.set(project), BillingRollup.currency.set(currency)])
    return commit_once(tx, event)
