"""The billing reports, read from rollups this room keeps (never from all the entries): per
day x customer x project, billable minutes and amounts approved-not-invoiced, worked, invoiced.

Moved by consumers (billing/rollups.py) of the time room's entry and timesheet events and of
this room's invoice events; each read is one Query of the period's rows (sharded counters
summed), its cost proportional to the days x customers x projects that had billable time."""

from __future__ import annotations

from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.counters import summed
from chalicelib.core.permissions import require

from . import money
from .models import BillingRollup

FIGURES = ("uninvoiced_minutes", "uninvoiced_amount", "worked_minutes", "worked_amount", "invoiced_minutes",
           "invoiced_amount")


def _rows(tenant_id: str, date_from: str, date_to: str) -> dict[tuple[str, str, str], dict[str, int]]:
    rows = BillingRollup.query(BillingRollup.pk(tenant_id), BillingRollup.SK.between(date_from, f"{date_to}#~"))
    return summed(rows, lambda r: (r.customer_id, r.project_id, r.currency or ""), FIGURES)


def uninvoiced(principal: Principal, date_from: str, date_to: str) -> dict[str, Any]:
    require(principal, "reports:billing")
    items = [{"customer_id": customer, "project_id": None if project == "-" else project, "currency": currency,
              "minutes": figures["uninvoiced_minutes"], "amount": figures["uninvoiced_amount"]}
             for (customer, project, currency), figures in sorted(_rows(principal.tenant_id, date_from,
                                                                         date_to).items())
             if figures["uninvoiced_minutes"] or figures["uninvoiced_amount"]]
    totals: dict[str, Any] = {"minutes": sum(i["minutes"] for i in items), "amount": {}}
    for item in items:
        totals["amount"][item["currency"]] = totals["amount"].get(item["currency"], 0) + item["amount"]
    return {"items": items, "totals": totals}


def leakage(principal: Principal, date_from: str, date_to: str) -> dict[str, Any]:
    """Billable time worked vs billable time invoiced; leakage is the share worked but not
    invoiced (basis points, and as a percent text)."""
    require(principal, "reports:billing")
    by_customer: dict[tuple[str, str], dict[str, int]] = {}
    for (customer, _project, currency), figures in _rows(principal.tenant_id, date_from, date_to).items():
        total = by_customer.setdefault((customer, currency), dict.fromkeys(FIGURES, 0))
        for name in FIGURES:
            total[name] += figures[name]
    items = [_leak({"customer_id": customer, "currency": currency}, figures)
             for (customer, currency), figures in sorted(by_customer.items())]
    overall = {name: sum(f[name] for f in by_customer.values()) for name in ("worked_minutes", "invoiced_minutes")}
    return {"items": items, "totals": _leak({}, {**dict.fromkeys(FIGURES, 0), **overall})}


def _leak(head: dict[str, Any], figures: dict[str, int]) -> dict[str, Any]:
    worked, invoiced = figures["worked_minutes"], figures["invoiced_minutes"]
    points = (max(worked - invoiced, 0) * 10_000 // worked) if worked else 0
    return {**head, "worked_minutes": worked, "invoiced_minutes": invoiced, "worked_amount": figures["worked_amount"],
            "invoiced_amount": figures["invoiced_amount"], "leakage_bp": points,
            "leakage": f"{money.percent_text(points)}%"}
