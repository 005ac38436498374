from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint
from pydantic import Field

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import ListOf, ListQuery, Name, Out, Strict, Version
from chalicelib.timeline.shapes import HeatmapFilters
from chalicelib.work.shapes import TaskFilters, TaskSort

from . import service

bp = Blueprint(__name__)

Kind = Literal["kanban", "gantt", "table", "heatmap"]
Visibility = Literal["personal", "shared"]


class ViewFields(Strict):
    filters: TaskFilters = Field(None, description="the table view's filters")
    heatmap: HeatmapFilters = Field(None, description="a heatmap view's scope, rows, bucket, range, types and "
                                    "system (kept as its filters)")
    sort: TaskSort = Field(None)
    visibility: Visibility = Field(None, description="personal (yours only) or shared with the team")
    is_default: bool = Field(None, description="your default view of this kind; only one per kind")

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(mode="json", exclude_unset=True, exclude={"version"})
        if self.filters is not None:
            values["filters"] = self.filters.model_dump(mode="json", exclude_defaults=True)
        if self.heatmap is not None:
            values["heatmap"] = self.heatmap.model_dump(mode="json", exclude_unset=True, by_alias=True)
        return values


class CreateView(ViewFields):
    name: Name
    kind: Kind

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"name": "My overdue", "kind": "table", "filters": {"assignee_id": "me", "overdue": True},
         "sort": "priority", "is_default": True}]}}


class UpdateView(ViewFields):
    version: Version = Field(None, description="the version you read; or send If-Match")
    name: Name = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "name": "Renamed"}]}}


class ViewOut(Out):
    id: str
    name: str
    kind: Kind
    filters: dict[str, Any]
    sort: TaskSort
    visibility: Visibility
    is_default: bool
    owner_id: str
    version: int
    created_at: str
    updated_at: str


class ViewQuery(ListQuery):
    kind: Kind | None = None


def _out(view: Any) -> ViewOut:
    return ViewOut.model_validate(service.view_view(view))


@route(bp, "/views", "POST", summary="Save a view", permission="views:write", body=CreateView, response=ViewOut,
       status=201)
def create_view(principal: Principal, body: CreateView) -> ViewOut:
    return _out(service.create_view(principal, {"name": body.name, "kind": body.kind, **body.changes()}))


@route(bp, "/views", "GET", summary="Your views and the team's shared ones", permission="views:read",
       query=ViewQuery, response=ListOf[ViewOut])
def list_views(principal: Principal, query: ViewQuery) -> ListOf[ViewOut]:
    page = service.list_views(principal, query.kind, query.limit, query.cursor)
    return ListOf[ViewOut](items=[_out(view) for view in page.items], next_cursor=page.next_cursor)


@route(bp, "/views/{view_id}", "PATCH", summary="Change a saved view", permission="views:write", body=UpdateView,
       response=ViewOut)
def update_view(principal: Principal, view_id: str, body: UpdateView) -> ViewOut:
    return _out(service.update_view(principal, view_id, body.changes(), expected_version(body)))


@route(bp, "/views/{view_id}", "DELETE", summary="Delete a saved view", permission="views:write")
def delete_view(principal: Principal, view_id: str) -> None:
    service.delete_view(principal, view_id)
