"""The daily activity counters the heatmaps read: per scope (the tenant, a customer, a project,
a member) x rows (customer, task, member, type) x UTC day x row x entry type, how many feed
entries there are. Moved by the feed consumer in the entry's own transaction (feed.apply):
a new entry adds 1 under each of its keys, a replaced one takes its old keys' 1 back first, a
removed one takes it back. Counters are ADDs: any order of events gives the same figures."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from chalicelib.core.table import Transaction

from .models import DayCounter

if TYPE_CHECKING:
    from .registry import Entry

ROWS = ("customer", "task", "member", "type")
Key = list[str]  # [scope, rows, day, row, entry type]


def scopes_of(entry: Entry) -> list[str]:
    found = ["ORG"]
    if entry.customer_id:
        found.append(f"C#{entry.customer_id}")
    if entry.project_id:
        found.append(f"P#{entry.project_id}")
    if entry.actor_id:
        found.append(f"M#{entry.actor_id}")
    return found


def rows_of(entry: Entry) -> dict[str, str | None]:
    return {"customer": entry.customer_id, "task": entry.task_id, "member": entry.actor_id, "type": entry.etype}


def keys_of(entry: Entry) -> list[Key]:
    """Every counter this entry adds 1 to."""
    day = entry.occurred_at[:10]
    return [[scope, rows, day, row, entry.etype] for scope in scopes_of(entry)
            for rows, row in rows_of(entry).items() if row]


def move(tx: Transaction, tenant_id: str, old: list[Key], new: list[Key]) -> None:
    """Take back 1 under each old key and add 1 under each new one (one ADD per counter that moves)."""
    delta: Counter[tuple[str, ...]] = Counter()
    for key in old:
        delta[tuple(key)] -= 1
    for key in new:
        delta[tuple(key)] += 1
    for (scope, rows, day, row, etype), number in sorted(delta.items()):
        if number == 0:
            continue
        item = DayCounter(DayCounter.pk(tenant_id, scope, rows), DayCounter.sort(day, row, etype))
        tx.update(item, [DayCounter.count.add(number), DayCounter.type.set("DayCounter"),
                         DayCounter.tenant_id.set(tenant_id), DayCounter.day.set(day), DayCounter.row.set(row),
                         DayCounter.etype.set(etype)])
