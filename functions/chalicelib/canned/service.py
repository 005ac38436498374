"""Canned responses: create, find by name or category, and render for a ticket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, query_reader

from . import render
from .events import CannedResponseCreated
from .models import CannedResponse

CANNED_FIELDS = ("name", "body", "category")


def canned_view(canned: CannedResponse) -> dict[str, Any]:
    return {"id": canned.id, **{name: getattr(canned, name) for name in CANNED_FIELDS},
            "placeholders": render.placeholders_in(canned.body), "version": canned.version,
            "created_at": canned.created_at, "updated_at": canned.updated_at}


def create_canned(principal: Principal, fields: dict[str, Any]) -> CannedResponse:
    require(principal, "canned:write")
    unknown = render.unknown_placeholders(fields["body"])
    if unknown:
        allowed = ", ".join(f"{{{{{name}}}}}" for name in render.PLACEHOLDERS)
        raise validation_error("body", f"unknown placeholder {{{{{unknown[0]}}}}}; allowed: {allowed}")
    now, canned_id, tenant = now_iso(), new_id(), principal.tenant_id
    canned = CannedResponse(CannedResponse.pk(tenant, canned_id), CannedResponse.SORT, type="CannedResponse",
                            tenant_id=tenant, id=canned_id, version=1, created_at=now, updated_at=now,
                            **{k: v for k, v in fields.items() if v is not None})
    canned.index_keys()
    tx = Transaction()
    tx.create(canned, lambda: Conflict("canned response already exists"))
    audit.record(tx, principal, "create", "canned_response", canned_id, audit.diff({}, fields))
    tx.publish(CannedResponseCreated(canned_response_id=canned_id).event(tenant))
    tx.commit()
    return canned


def list_canned(principal: Principal, q: str | None, category: str | None, limit: int,
                cursor: str | None) -> Page[CannedResponse]:
    require(principal, "canned:read")
    index = CannedResponse.by_category if category else CannedResponse.by_name
    sort_key = CannedResponse.GSI2SK if category else CannedResponse.GSI1SK
    condition = sort_key.startswith(q.casefold()) if q else None
    source = query_reader(index, CannedResponse.list_pk(principal.tenant_id, category), condition)
    return read_page("canned", [source], limit, cursor)


def render_for(principal: Principal, canned_id: str, values: Mapping[str, str | None]) -> tuple[str, str]:
    """For the tickets room: the canned response's body with the ticket's values (422 on a
    placeholder the ticket cannot fill, or on an unknown response)."""
    require(principal, "canned:read")
    try:
        canned = CannedResponse.get(CannedResponse.pk(principal.tenant_id, canned_id), CannedResponse.SORT)
    except CannedResponse.DoesNotExist as missing:
        raise validation_error("canned_response_id", f"canned response {canned_id} does not exist") from missing
    try:
        return canned.id, render.render(canned.body, values)
    except render.MissingPlaceholder as missing:
        raise validation_error("canned_response_id", str(missing)) from missing
