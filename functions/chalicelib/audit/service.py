"""The audit trail: every write adds its entry to its own transaction; owners and admins
read it by entity or by actor."""

from __future__ import annotations

from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.http import request_id
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
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
            changes=changes,
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
    return read_page([source], limit, cursor)
