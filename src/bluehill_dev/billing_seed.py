"""Approved, billable time entries for billing's tests and bench, written as the time room's
timesheet approval leaves them (status approved, billable, on no invoice, indexed), through
its own model, in BatchWrites — until that room's approval routes are merged to build them
through the API."""

from __future__ import annotations

from chalicelib.core.ids import new_id
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import now_iso
from chalicelib.timekeeping.models import TimeEntry


def approved_entries(tenant_id: str, user_id: str, customer_id: str, count: int, *, day: str = "2026-06-10",
                     minutes: int = 50, rate: int = 12_000, project_id: str | None = "p1", currency: str = "USD",
                     category: str = "support", task_id: str | None = None) -> list[str]:
    ids, now = [], now_iso()
    with tenant_scope(tenant_id), TimeEntry.batch_write() as batch:
        for n in range(count):
            entry_id = new_id()
            batch.save(TimeEntry(
                TimeEntry.pk(tenant_id, entry_id), TimeEntry.SORT, type="TimeEntry", tenant_id=tenant_id,
                id=entry_id, user_id=user_id, customer_id=customer_id, project_id=project_id, task_id=task_id,
                date=day, minutes=minutes + n % 7, billable=True, billable_source="customer", category=category,
                rate=rate, rate_source="customer", amount=0, currency=currency, status="approved",
                timesheet_id=f"{user_id}--2026-W24", version=1, created_at=now, updated_at=now).index())
            ids.append(entry_id)
    return ids
