"""The tenant's SLA policy: business calendar (with the tenant's holidays), the target matrix
tier x priority, pausing statuses and warnings per target, escalation terms — and the terms a
ticket's clock runs on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso
from chalicelib.team import service as team

from .events import SlaPolicyUpdated
from .models import SlaPolicy
from .tracker import TARGETS

PRIORITIES = ("low", "normal", "high", "urgent")
DEFAULT_TIER = "default"
POLICY_FIELDS = ("calendar", "targets", "first_response", "resolution", "escalation_terms")
# Frappe Helpdesk's defaults (minutes: first response, resolution); enterprise gets half.
DEFAULT_MINUTES = {"low": (24 * 60, 72 * 60), "normal": (8 * 60, 24 * 60), "high": (60, 4 * 60), "urgent": (30, 120)}
DEFAULT_HOURS = [{"start": "09:00", "end": "17:00"}]
WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
DEFAULT_WARN_BEFORE = {"first_response": 15, "resolution": 60}
DEFAULT_ESCALATION_TERMS = ["furious", "cancel", "lawyer"]


def now() -> datetime:
    """The SLA engine's clock (tests move it; everything else reads it here)."""
    return datetime.now(UTC).replace(microsecond=0)


def _matrix(divisor: int) -> dict[str, dict[str, int]]:
    return {
        priority: {"first_response_minutes": first // divisor, "resolution_minutes": resolution // divisor}
        for priority, (first, resolution) in DEFAULT_MINUTES.items()
    }


def default_policy(tenant_id: str) -> dict[str, Any]:
    timezone = team.tenant_settings(tenant_id).get("timezone") or "UTC"
    target_settings = {
        target: {"business_hours": True, "pause_on": ["waiting_on_customer"],
                 "warn_before_minutes": DEFAULT_WARN_BEFORE[target]}
        for target in TARGETS
    }
    return {
        "calendar": {"mode": "business_hours", "timezone": timezone,
                     "hours": {day: DEFAULT_HOURS for day in WORKDAYS}, "holidays": []},
        "targets": {DEFAULT_TIER: _matrix(1), "enterprise": _matrix(2)},
        **target_settings,
        "escalation_terms": DEFAULT_ESCALATION_TERMS,
        "version": 0,
        "updated_at": None,
    }


def _stored(tenant_id: str) -> SlaPolicy | None:
    try:
        return SlaPolicy.get(SlaPolicy.pk(tenant_id), SlaPolicy.SORT)
    except SlaPolicy.DoesNotExist:
        return None


def current_policy(tenant_id: str) -> dict[str, Any]:
    """For the tickets room: the policy in force (the defaults until one is saved)."""
    stored = _stored(tenant_id)
    if stored is None:
        return default_policy(tenant_id)
    return {**{name: getattr(stored, name) for name in POLICY_FIELDS},
            "version": stored.version, "updated_at": stored.updated_at}


def policy_in_force(tenant_id: str) -> dict[str, Any]:
    """For the tickets room: the policy, its calendar closed also on the tenant's holidays
    (PUT /tenant/holidays) besides the SLA calendar's own."""
    policy = current_policy(tenant_id)
    own = list(policy["calendar"].get("holidays") or [])
    listed = {entry["date"] for entry in own}
    tenant = [{"date": day.isoformat(), "name": None} for day in team.tenant_holidays(tenant_id)
              if day.isoformat() not in listed]
    return {**policy, "calendar": {**policy["calendar"], "holidays": [*own, *tenant]}}


def terms(policy: dict[str, Any], tier: str | None, priority: str, target: str) -> dict[str, Any]:
    """What one target of one ticket runs on, as the tracker stores it."""
    row = policy["targets"].get(tier or DEFAULT_TIER) or policy["targets"][DEFAULT_TIER]
    settings = policy[target]
    return {
        "target_minutes": row[priority][f"{target}_minutes"],
        "business_hours": settings["business_hours"] and policy["calendar"].get("mode") != "24x7",
        "pause_on": sorted(settings["pause_on"]),
        "warn_before_minutes": settings["warn_before_minutes"],
        "calendar": policy["calendar"],
        "policy_version": policy["version"],
    }


class PolicyChanged(Conflict):
    """The policy moved since a ticket's clocks last read it: the change must read it again."""


def require_policy_version(tx: Transaction, tenant_id: str, version: int) -> None:
    """For the tickets room: commit only while the policy is still at `version` (0: never saved)."""
    condition = SlaPolicy.PK.does_not_exist() if version == 0 else SlaPolicy.version == version
    tx.check(SlaPolicy, SlaPolicy.pk(tenant_id), SlaPolicy.SORT, condition,
             lambda: PolicyChanged("the SLA policy changed while this ticket was being changed"))


def get_policy(principal: Principal) -> dict[str, Any]:
    require(principal, "sla:read")
    return current_policy(principal.tenant_id)


def put_policy(principal: Principal, fields: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
    require(principal, "sla:write")
    tenant = principal.tenant_id
    before = current_policy(tenant)
    if expected_version is not None and expected_version != before["version"]:
        raise Conflict(f"version {expected_version} is stale; the SLA policy is at version {before['version']}")
    changed = audit.diff({k: before[k] for k in POLICY_FIELDS}, fields)
    if not changed:
        return before
    stamp = now_iso()
    policy = SlaPolicy(
        SlaPolicy.pk(tenant), SlaPolicy.SORT, type="SlaPolicy", tenant_id=tenant, version=before["version"] + 1,
        created_at=stamp, updated_at=stamp, **fields,
    )
    stale = lambda: Conflict("the SLA policy was changed by someone else; reload and retry")  # noqa: E731
    condition = SlaPolicy.PK.does_not_exist() if before["version"] == 0 else SlaPolicy.version == before["version"]
    tx = Transaction()
    tx.put(policy, condition, stale)
    audit.record(tx, principal, "update", "sla_policy", tenant, changed)
    tx.publish(SlaPolicyUpdated(version=policy.version, changes=sorted(changed)).event(tenant))
    tx.commit()
    return current_policy(tenant)
