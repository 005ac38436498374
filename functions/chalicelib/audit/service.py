"""The audit trail: every write adds its entry to its own transaction; owners and admins
read it by entity or by actor."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.http import request_id
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, list_name, read_page
from chalicelib.core.table import Transaction, now_iso, query_reader

from .models import AuditEntry

Changes = dict[str, dict[str, Any]]


def diff(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    """Field → {before, after} for every field whose value differs."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


# DynamoDB refuses items over 400 KB. An entry's changes keep their values whole up to this
# budget (leaving room for the entry's other attributes); past it, the largest values are
# replaced by a summary — their size, length and digest — until the entry fits.
CHANGES_BUDGET_BYTES = 200_000


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def summary(value: Any) -> dict[str, Any]:
    """What an audit entry keeps of a value too large to store whole."""
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str).encode()
    described: dict[str, Any] = {"summarised": True, "bytes": len(encoded),
                                 "sha256": hashlib.sha256(encoded).hexdigest()}
    if isinstance(value, list | dict | str):
        described["length"] = len(value)
    return described


def bounded(changes: Changes, budget: int = CHANGES_BUDGET_BYTES) -> Changes:
    """`changes` as stored: whole when it fits the budget, else with its largest values summarised."""
    total = _size(changes)
    if total <= budget:
        return changes
    kept = {name: dict(change) for name, change in changes.items()}
    largest_first = sorted(((_size(value), name, side) for name, change in changes.items()
                            for side, value in change.items()), reverse=True)
    for size, name, side in largest_first:
        if total <= budget:
            break
        kept[name][side] = summary(changes[name][side])
        total += _size(kept[name][side]) - size
    return kept


def record(
    transaction: Transaction,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: str,
    changes: Changes,
) -> None:
    entry_id = new_id()
    tenant = actor.tenant_id
    transaction.put(
        AuditEntry(
            AuditEntry.entity_pk(tenant, entity_id),
            entry_id,
            type="AuditEntry",
            tenant_id=tenant,
            id=entry_id,
            actor_id=actor.user_id,
            actor_role=actor.role,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes=bounded(changes),
            request_id=request_id(),
            occurred_at=now_iso(),
            GSI1PK=AuditEntry.actor_pk(tenant, actor.user_id),
            GSI1SK=entry_id,
            GSI2PK=AuditEntry.tenant_pk(tenant),
            GSI2SK=entry_id,
        )
    )


def list_entries(
    principal: Principal, entity_id: str | None, actor_id: str | None, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    tenant = principal.tenant_id
    if entity_id:
        actor_filter = AuditEntry.actor_id == actor_id if actor_id else None
        source = query_reader(AuditEntry, AuditEntry.entity_pk(tenant, entity_id), None, actor_filter, True)
    elif actor_id:
        source = query_reader(AuditEntry.by_actor, AuditEntry.actor_pk(tenant, actor_id), newest_first=True)
    else:
        source = query_reader(AuditEntry.by_tenant, AuditEntry.tenant_pk(tenant), newest_first=True)
    return read_page(list_name("audit", entity_id=entity_id, actor_id=actor_id), [source], limit, cursor)
