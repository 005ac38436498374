"""Approved, billable time for the billing tests. The time room's timesheet approval routes come
in their own branch; until they are merged these helpers write entries as that room's approval
leaves them (status approved, billable, on no invoice, indexed), through its own model."""

from __future__ import annotations

import itertools
from typing import Any

from chalicelib.core.ids import new_id
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import now_iso
from chalicelib.timekeeping.models import TimeEntry

from bluehill_dev.harness_env import TenantWorld

_day = itertools.count()


def approved_entries(world: TenantWorld, customer_id: str, count: int, *, day: str = "2026-06-10",
                     minutes: int = 50, rate: int = 12_000, project_id: str | None = "p1",
                     user: str = "member", currency: str = "USD", **extra: Any) -> list[str]:
    ids = []
    now = now_iso()
    with tenant_scope(world.tenant_id), TimeEntry.batch_write() as batch:
        for n in range(count):
            entry_id = new_id()
            user_id = world.users[user]
            entry = TimeEntry(TimeEntry.pk(world.tenant_id, entry_id), TimeEntry.SORT, type="TimeEntry",
                              tenant_id=world.tenant_id, id=entry_id, user_id=user_id, customer_id=customer_id,
                              project_id=project_id, date=day, minutes=minutes + n % 7, billable=True,
                              billable_source="customer", category=extra.get("category", "support"), rate=rate,
                              rate_source="customer", amount=0, currency=currency, status="approved",
                              timesheet_id=f"{user_id}--2026-W24", version=1, created_at=now, updated_at=now,
                              task_id=extra.get("task_id"))
            batch.save(entry.index())
            ids.append(entry_id)
    return ids


def new_customer(world: TenantWorld, name: str = "Billed Co", tier: str | None = None) -> str:
    body: dict[str, Any] = {"name": name}
    if tier:
        body["tier"] = tier
    response = world.as_("owner").post("/customers", body)
    assert response.status == 201, response.body
    return response.json["id"]


def draft(world: TenantWorld, customer_id: str, group_by: str = "project", role: str = "owner",
          period: tuple[str, str] = ("2026-06-01", "2026-06-30")) -> Any:
    return world.as_(role).post("/invoices", {"customer_id": customer_id, "from": period[0], "to": period[1],
                                              "group_by": group_by})
