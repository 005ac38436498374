"""The room's settings (PUT /time/settings) and rate rules (PUT /rates), and the context every
entry write reads with them in one BatchGet: the tenant's timezone, week start and currency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.permissions import require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.table import Transaction, now_iso
from chalicelib.team import service as team

from . import rules
from .models import RateRules, TimeSettings

DEFAULTS: dict[str, Any] = {
    "default_billable": True,
    "task_types": {},  # task type -> {"billable": bool | None, "category": str | None}
    "projects": {},  # project id -> billable flag
    "customers": {},  # customer id -> billable flag (False: every entry on it is non-billable)
    "interaction_types": {},  # interaction type -> category
    "categories": [],  # the tenant's own categories, beside the built-in ones
    "self_approval": False,
    "rounding": {"increment": 1, "mode": "up"},
}


@dataclass
class Context:
    tenant_id: str
    timezone: str = "UTC"
    week_start: str = "monday"
    currency: str = "USD"
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    settings_version: int = 0
    rules: list[dict[str, Any]] = field(default_factory=list)
    rules_version: int = 0

    def categories(self) -> list[str]:
        return [*rules.BUILT_IN_CATEGORIES, *self.settings.get("categories", [])]

    def week_of(self, day: str) -> str:
        from datetime import date

        return rules.week_of(date.fromisoformat(day), self.week_start)


def context_for(plan: ReadPlan, tenant_id: str) -> Callable[[], Context]:
    """The room's settings, rate rules and the tenant's calendar, read as part of `plan`."""
    tenant = team.tenant_settings_for(plan, tenant_id)
    settings_key = plan.want(TimeSettings, TimeSettings.pk(tenant_id), TimeSettings.SORT)
    rules_key = plan.want(RateRules, RateRules.pk(tenant_id), RateRules.SORT)

    def answer() -> Context:
        fields = tenant()
        stored, rates = plan.item(settings_key), plan.item(rules_key)
        return Context(tenant_id, fields.get("timezone") or "UTC", fields.get("week_start") or "monday",
                       fields.get("default_currency") or "USD",
                       {**DEFAULTS, **(stored.settings if stored else {})}, stored.version if stored else 0,
                       list(rates.rules) if rates else [], rates.version if rates else 0)

    return answer


def context(tenant_id: str, user_id: str | None = None) -> Context:
    """The context; with `user_id`, a 404 unless the tenant has that user (one BatchGet)."""
    plan = ReadPlan()
    answer = context_for(plan, tenant_id)
    exists = team.user_exists_for(plan, tenant_id, user_id) if user_id else None
    plan.run()
    if exists is not None and not exists():
        raise NotFound(f"user {user_id} not found")
    return answer()


def rounding(tenant_id: str) -> tuple[int, rules.RoundingMode]:
    """The tenant's invoice rounding (increment in minutes, mode), for billing."""
    chosen = context(tenant_id).settings["rounding"]
    return int(chosen["increment"]), chosen["mode"]


def get_settings(principal: Principal) -> Context:
    require(principal, "time:read")
    return context(principal.tenant_id)


def _stale(kind: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"the {kind} changed meanwhile; read them again and send the version you read")


def _versioned_put(tx: Transaction, item: TimeSettings | RateRules, expected: int, kind: str) -> None:
    condition = item.__class__.PK.does_not_exist() if expected == 0 else item.__class__.version == expected
    tx.put(item, condition, _stale(kind))


def put_settings(principal: Principal, values: dict[str, Any], expected_version: int) -> Context:
    require(principal, "time:settings")
    now = now_iso()
    item = TimeSettings(TimeSettings.pk(principal.tenant_id), TimeSettings.SORT, type="TimeSettings",
                        tenant_id=principal.tenant_id, settings={**DEFAULTS, **values}, version=expected_version + 1,
                        created_at=now, updated_at=now)
    tx = Transaction()
    _versioned_put(tx, item, expected_version, "time settings")
    tx.commit()
    return context(principal.tenant_id)


def put_rates(principal: Principal, rate_rules: list[dict[str, Any]], expected_version: int) -> Context:
    require(principal, "rates:write")
    now = now_iso()
    item = RateRules(RateRules.pk(principal.tenant_id), RateRules.SORT, type="RateRules",
                     tenant_id=principal.tenant_id, rules=rate_rules, version=expected_version + 1,
                     created_at=now, updated_at=now)
    tx = Transaction()
    _versioned_put(tx, item, expected_version, "rate rules")
    tx.commit()
    return context(principal.tenant_id)


def get_rates(principal: Principal) -> Context:
    require(principal, "rates:read")
    return context(principal.tenant_id)
