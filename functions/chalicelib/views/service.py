"""Saved views: who sees which (a personal view its owner, a shared one the whole team), who
may change which (a personal view its owner; a shared one its owner, an owner or an admin),
and the rule that a person has at most one default view of each kind — setting a new default
takes it from the old one in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, validation_error
from chalicelib.core.events import Event
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version

from .events import ViewCreated, ViewDeleted, ViewUpdated
from .models import PERSONAL, SHARED, DefaultView, SavedView, views_pk

VIEW_FIELDS = ("name", "kind", "filters", "sort", "visibility", "is_default")
CURATORS = frozenset({"owner", "admin"})  # may change or delete anyone's shared view


def view_fields(view: SavedView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in VIEW_FIELDS}


def view_view(view: SavedView) -> dict[str, Any]:
    return {"id": view.id, **view_fields(view), "owner_id": view.owner_id, "version": int(view.version),
            "created_at": view.created_at, "updated_at": view.updated_at}


def _event(principal: Principal, kind: type[ViewCreated | ViewUpdated | ViewDeleted], view: SavedView) -> Event:
    return kind(view_id=view.id, kind=view.kind, visibility=view.visibility).event(principal.tenant_id)


def _stale(view_id: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"view {view_id} was changed by someone else; reload and retry")


def _check(principal: Principal, view: SavedView) -> None:
    if view.visibility == SHARED:
        require(principal, "views:share")
        if view.is_default:
            raise validation_error("is_default", "only a personal view can be a default")


def _load(principal: Principal, view_id: str, action: str) -> SavedView:
    require(principal, action)
    try:
        view = SavedView.get(SavedView.pk(principal.tenant_id, view_id), SavedView.SORT, consistent_read=True)
    except SavedView.DoesNotExist as missing:
        raise NotFound(f"view {view_id} not found") from missing
    if view.visibility == PERSONAL and view.owner_id != principal.user_id:
        raise NotFound(f"view {view_id} not found")
    return view


def _load_to_change(principal: Principal, view_id: str) -> SavedView:
    view = _load(principal, view_id, "views:write")
    if view.owner_id != principal.user_id and principal.role not in CURATORS:
        raise Forbidden("only its owner, an owner or an admin may change a shared view")
    return view


def _default_claim(principal: Principal, kind: str) -> DefaultView:
    return DefaultView(DefaultView.pk(principal.tenant_id, principal.user_id, kind), DefaultView.SORT,
                       type="DefaultView", tenant_id=principal.tenant_id, view_id="")


def _take_default(tx: Transaction, principal: Principal, view: SavedView) -> None:
    """Make `view` the person's default of its kind, and the previous default an ordinary view."""
    claim = _default_claim(principal, view.kind)
    try:
        previous = DefaultView.get(claim.PK, claim.SK, consistent_read=True).view_id
    except DefaultView.DoesNotExist:
        previous = None
    claim.view_id = view.id
    unchanged = DefaultView.PK.does_not_exist() if previous is None else DefaultView.view_id == previous
    tx.put(claim, unchanged, lambda: Conflict("your default view changed meanwhile; retry"))
    if previous and previous != view.id:
        tx.update(SavedView(SavedView.pk(principal.tenant_id, previous), SavedView.SORT),
                  [SavedView.is_default.set(False), SavedView.version.add(1), SavedView.updated_at.set(now_iso())],
                  SavedView.PK.exists(), lambda: Conflict("your default view changed meanwhile; retry"))


def _drop_default(tx: Transaction, principal: Principal, view: SavedView) -> None:
    claim = _default_claim(principal, view.kind)
    tx.delete(claim, DefaultView.view_id == view.id, lambda: Conflict("your default view changed meanwhile; retry"))


def _heatmap_filters(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A heatmap view keeps its heatmap's filters (`heatmap`) as its filters; other kinds keep
    task filters."""
    fields = dict(fields)
    if kind == "heatmap" and "filters" in fields:
        raise validation_error("filters", "a heatmap view's filters are sent as `heatmap`")
    if "heatmap" in fields:
        if kind != "heatmap":
            raise validation_error("heatmap", f"a {kind} view has no heatmap")
        fields["filters"] = fields.pop("heatmap")
    return fields


def create_view(principal: Principal, fields: dict[str, Any]) -> SavedView:
    require(principal, "views:write")
    fields = _heatmap_filters(fields["kind"], fields)
    now, view_id = now_iso(), new_id()
    view = SavedView(
        SavedView.pk(principal.tenant_id, view_id), SavedView.SORT, type="SavedView", tenant_id=principal.tenant_id,
        id=view_id, owner_id=principal.user_id, version=1, created_at=now, updated_at=now,
        **{"filters": {}, "sort": "due_date", "visibility": PERSONAL, "is_default": False, **fields},
    )
    _check(principal, view)
    view.index_keys()
    tx = Transaction()
    tx.create(view, lambda: Conflict("view already exists"))
    if view.is_default:
        _take_default(tx, principal, view)
    audit.record(tx, principal, "create", "view", view_id, audit.diff({}, view_fields(view)))
    tx.publish(_event(principal, ViewCreated, view))
    tx.commit()
    return view


def list_views(principal: Principal, kind: str | None, limit: int, cursor: str | None) -> Page[SavedView]:
    require(principal, "views:read")
    condition = SavedView.GSI1SK.startswith(f"{kind}#") if kind else None
    sources = [query_reader(SavedView.by_owner, views_pk(principal.tenant_id, principal.user_id, visibility),
                            condition) for visibility in (PERSONAL, SHARED)]
    return read_page(sources, limit, cursor)


def update_view(principal: Principal, view_id: str, changes: dict[str, Any], expected_version: int) -> SavedView:
    current = _load_to_change(principal, view_id)
    require_version(current, expected_version, "view")
    changes = _heatmap_filters(current.kind, changes)
    changed = audit.diff(view_fields(current), {**view_fields(current), **changes})
    if not changed:
        return current
    updated = SavedView(current.PK, current.SK, **{**current.attribute_values, **changes})
    _check(principal, updated)
    updated.version, updated.updated_at = int(current.version) + 1, now_iso()
    updated.index_keys()
    tx = Transaction()
    tx.put(updated, SavedView.version == current.version, _stale(view_id))
    if updated.is_default and not current.is_default:
        _take_default(tx, principal, updated)
    elif current.is_default and not updated.is_default:
        _drop_default(tx, principal, current)
    audit.record(tx, principal, "update", "view", view_id, changed)
    tx.publish(_event(principal, ViewUpdated, updated))
    tx.commit()
    return updated


def delete_view(principal: Principal, view_id: str) -> None:
    current = _load_to_change(principal, view_id)
    tx = Transaction()
    tx.delete(current, SavedView.version == current.version, _stale(view_id))
    if current.is_default:
        _drop_default(tx, principal, current)
    audit.record(tx, principal, "delete", "view", view_id, audit.diff(view_fields(current), {}))
    tx.publish(_event(principal, ViewDeleted, current))
    tx.commit()
