from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import Field

from chalicelib.core.auth import Principal
from chalicelib.core.http import route
from chalicelib.core.models import Id, ListOf, ListQuery, Out

from . import service

bp = Blueprint(__name__)


class AuditQuery(ListQuery):
    entity_id: Id | None = None
    actor_id: Id | None = None


class AuditEntryOut(Out):
    id: str
    actor_id: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, dict[str, Any]] = Field(description="field → {before, after}")
    request_id: str | None = None
    occurred_at: str


@route(bp, "/audit", "GET", summary="Read the audit trail", permission="audit:read", query=AuditQuery,
       response=ListOf[AuditEntryOut])
def list_audit(principal: Principal, query: AuditQuery) -> ListOf[AuditEntryOut]:
    page = service.list_entries(principal, query.entity_id, query.actor_id, query.limit, query.cursor)
    return ListOf[AuditEntryOut](
        items=[AuditEntryOut.model_validate(entry.attribute_values) for entry in page.items],
        next_cursor=page.next_cursor,
    )
