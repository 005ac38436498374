"""GET /reports/time: minutes, billable minutes, amount, billable utilisation (billable /
tracked) and estimate vs actual, grouped by customer, project, member, category, task type or
week — from the daily rollups (rollups.py), so a report's reads follow its rollup rows (days x
combinations), not the entries behind them. Estimates are the tasks' `time_estimate`, read
through the work room's service (one BatchGet per 100 distinct tasks)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.permissions import Reach, require, sees_financials
from chalicelib.work import service as work

from . import rollups
from .rules import week_of
from .settings import context

GROUPS = {"customer": "customer_id", "project": "project_id", "member": "user_id", "category": "category",
          "task_type": "task_type", "week": None}
NONE = "none"


def utilisation(billable: int, tracked: int) -> float | None:
    """Billable / tracked, to four places (None when nothing was tracked)."""
    return round(billable / tracked, 4) if tracked else None


def time_report(principal: Principal, group_by: str, date_from: str, date_to: str,
                billable: bool | None) -> dict[str, Any]:
    reach = require(principal, "reports:time")
    week_start = context(principal.tenant_id).week_start if group_by == "week" else "monday"
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"minutes": 0, "billable_minutes": 0,
                                                             "amounts": defaultdict(int), "tasks": defaultdict(int)})
    for row in rollups.rows(principal.tenant_id, date_from, date_to):
        if reach is not Reach.ALL and row.user_id != principal.user_id:
            continue
        minutes, billable_minutes, amount = int(row.minutes), int(row.billable_minutes), int(row.amount)
        if billable is True:
            minutes = billable_minutes
        elif billable is False:
            minutes, billable_minutes, amount = minutes - billable_minutes, 0, 0
        if not minutes and not amount:
            continue
        field = GROUPS[group_by]
        key = week_of(date.fromisoformat(row.date), week_start) if field is None else (getattr(row, field) or NONE)
        group = groups[key]
        group["minutes"] += minutes
        group["billable_minutes"] += billable_minutes
        group["amounts"][row.currency] += amount
        if row.task_id:
            group["tasks"][row.task_id] += minutes
    estimates = work.task_estimates(principal.tenant_id, {t for g in groups.values() for t in g["tasks"]})
    money = sees_financials(principal)
    out_rows = []
    for key, group in sorted(groups.items()):
        estimated = {t: m for t, m in group["tasks"].items() if estimates.get(t) is not None}
        row_out: dict[str, Any] = {
            "key": key, "minutes": group["minutes"], "billable_minutes": group["billable_minutes"],
            "billable_utilisation": utilisation(group["billable_minutes"], group["minutes"]),
            "estimate_minutes": sum(estimates[t] or 0 for t in estimated) if estimated else None,
            "actual_minutes_on_estimated_tasks": sum(estimated.values()) if estimated else None,
        }
        if money:
            row_out["amounts"] = [{"currency": c, "amount": a} for c, a in sorted(group["amounts"].items()) if a]
        out_rows.append(row_out)
    tracked = sum(r["minutes"] for r in out_rows)
    billed = sum(r["billable_minutes"] for r in out_rows)
    return {"group_by": group_by, "period": {"from": date_from, "to": date_to}, "rows": out_rows,
            "totals": {"minutes": tracked, "billable_minutes": billed,
                       "billable_utilisation": utilisation(billed, tracked)}}


def csv_rows(report: dict[str, Any], money: bool) -> tuple[list[str], list[list[Any]]]:
    columns = ["key", "minutes", "billable_minutes", "billable_utilisation", "estimate_minutes",
               "actual_minutes_on_estimated_tasks"]
    rows = []
    for row in report["rows"]:
        base = [row[c] for c in columns]
        if money:
            rows += [[*base, a["currency"], a["amount"]] for a in row.get("amounts") or []] or [[*base, None, 0]]
        else:
            rows.append(base)
    return (columns + (["currency", "amount"] if money else [])), rows
