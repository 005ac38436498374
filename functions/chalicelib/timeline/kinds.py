"""Interaction types: the built-in ones and a tenant's own (PUT /tenant/interaction-types)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, validation_error
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, require_version

from .models import InteractionTypes

# key → (label, customer_facing): customer-facing types are the ones that touch the customer.
BUILT_IN: dict[str, tuple[str, bool]] = {
    "email": ("Email", True), "call": ("Call", True), "meeting": ("Meeting", True), "note": ("Note", False),
    "chat": ("Chat", True), "training": ("Training", True), "check_in": ("Check-in", True),
    "follow_up": ("Follow-up", False), "feedback": ("Feedback", True), "issue_report": ("Issue report", True),
    "handoff": ("Handoff", False), "kickoff": ("Kickoff", True), "qbr": ("QBR", True), "ebr": ("EBR", True),
    "escalation": ("Escalation", False),
}


def _stored(tenant_id: str) -> InteractionTypes | None:
    try:
        return InteractionTypes.get(InteractionTypes.pk(tenant_id), InteractionTypes.SORT)
    except InteractionTypes.DoesNotExist:
        return None


def all_types(tenant_id: str) -> list[dict[str, Any]]:
    """Every type the tenant may log: built-in first, then its own."""
    stored = _stored(tenant_id)
    built_in = [{"key": key, "label": label, "customer_facing": facing, "built_in": True}
                for key, (label, facing) in BUILT_IN.items()]
    return built_in + [{**custom, "built_in": False} for custom in (stored.types if stored else [])]


def customer_facing_keys(tenant_id: str) -> set[str]:
    return {entry["key"] for entry in all_types(tenant_id) if entry["customer_facing"]}


def require_known(tenant_id: str, key: str, field: str = "type") -> dict[str, Any]:
    for entry in all_types(tenant_id):
        if entry["key"] == key:
            return entry
    raise validation_error(field, f"{key!r} is not an interaction type of this tenant (GET /tenant/interaction-types)")


def types_version(tenant_id: str) -> int:
    stored = _stored(tenant_id)
    return int(stored.version) if stored else 0


def replace_types(principal: Principal, types: list[dict[str, Any]], expected_version: int) -> list[dict[str, Any]]:
    """The tenant's own types, replaced whole (version-checked; 0 when none were set yet)."""
    require(principal, "interaction_types:write")
    keys = [entry["key"] for entry in types]
    for position, key in enumerate(keys):
        if key in BUILT_IN:
            raise validation_error(f"types.{position}.key", f"{key!r} is a built-in type")
        if key in keys[:position]:
            raise validation_error(f"types.{position}.key", f"{key!r} is listed twice")
    current = _stored(principal.tenant_id)
    now = now_iso()
    tx = Transaction()
    if current is None:
        if expected_version != 0:
            raise Conflict(f"version {expected_version} is stale; no types are set yet (version 0)")
        item = InteractionTypes(InteractionTypes.pk(principal.tenant_id), InteractionTypes.SORT,
                                type="InteractionTypes", tenant_id=principal.tenant_id, version=1, types=types,
                                created_at=now, updated_at=now)
        tx.create(item, _conflict)
    else:
        require_version(current, expected_version, "interaction types")
        item = InteractionTypes(current.PK, current.SK, **{**current.attribute_values, "types": types,
                                                            "version": current.version + 1, "updated_at": now})
        tx.put(item, InteractionTypes.version == current.version, _conflict)
    tx.commit()
    return all_types(principal.tenant_id)


def _conflict() -> Conflict:
    return Conflict("the interaction types were changed by someone else; reload and retry")
