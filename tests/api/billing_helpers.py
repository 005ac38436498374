"""Approved billable time (bluehill_dev.billing_seed), customers and drafts for the billing tests."""

from __future__ import annotations

from typing import Any

from bluehill_dev import billing_seed
from bluehill_dev.harness_env import TenantWorld


def approved_entries(world: TenantWorld, customer_id: str, count: int, *, user: str = "member",
                     **fields: Any) -> list[str]:
    return billing_seed.approved_entries(world.tenant_id, world.users[user], customer_id, count, **fields)


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
