from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import (
    Id,
    Instant,
    ListOf,
    ListQuery,
    Out,
    SingleLine,
    Strict,
    Tag,
    TextBlock,
    Version,
    VersionFromZero,
    ordered_range,
)

from . import kinds, reading, service
from .shapes import Csv, HeatmapQuery

bp = Blueprint(__name__)

TypeKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Summary = Annotated[SingleLine, StringConstraints(min_length=1, max_length=300)]
Body = Annotated[TextBlock, StringConstraints(max_length=20_000)]
Direction = Literal["inbound", "outbound", "internal"]
Visibility = Literal["internal", "shared"]
Sentiment = Literal["positive", "neutral", "negative"]
DateOrInstant = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$")]


class FollowUp(Strict):
    title: Annotated[SingleLine, StringConstraints(min_length=1, max_length=200)]
    due_date: date
    assignee_id: Id | None = Field(None, description="default: the person logging")


class InteractionFields(Strict):
    occurred_at: Instant | None = Field(None, description="default: now")
    body: Body | None = None
    direction: Direction | None = None
    visibility: Visibility | None = Field(None, description="default internal; shared shows on the portal")
    contact_ids: list[Id] | None = Field(None, max_length=20)
    project_id: Id | None = None
    task_id: Id | None = None
    ticket_id: Id | None = None
    duration_minutes: int | None = Field(None, ge=0, le=100_000)
    sentiment: Sentiment | None = None
    tags: list[Tag] | None = Field(None, max_length=50)


class CreateInteraction(InteractionFields):
    type: TypeKey
    summary: Summary
    follow_up: FollowUp | None = Field(None, description="a follow-up to create with it (the follow-ups room)")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"type": "call", "summary": "Renewal call with Dana", "direction": "outbound", "duration_minutes": 30,
         "sentiment": "positive", "body": "Went well"}]}}


class UpdateInteraction(InteractionFields):
    version: Version | None = Field(None, description="the version you read; or send If-Match")
    type: TypeKey | None = None
    summary: Summary | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "summary": "Renamed"}]}}


class QuickInteraction(Strict):
    type: TypeKey
    summary: Summary | None = None
    body: Body | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"type": "note", "summary": "Quick"}]}}


class InteractionOut(Out):
    id: str
    customer_id: str
    type: str
    occurred_at: str
    summary: str
    body: str | None
    direction: str | None
    visibility: str
    contact_ids: list[str]
    project_id: str | None
    task_id: str | None
    ticket_id: str | None
    duration_minutes: int | None
    sentiment: str | None
    tags: list[str]
    author_id: str
    mention_ids: list[str] | None = None
    version: int
    created_at: str
    updated_at: str


class TypeIn(Strict):
    key: TypeKey
    label: Annotated[SingleLine, StringConstraints(min_length=1, max_length=60)]
    customer_facing: bool


class PutTypes(Strict):
    version: VersionFromZero = Field(description="the version you read (0 before any were set)")
    types: list[TypeIn] = Field(max_length=100)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"version": 0, "types": [{"key": "site_visit", "label": "Site visit", "customer_facing": True}]}]}}


class TypeOut(Out):
    key: str
    label: str
    customer_facing: bool
    built_in: bool


class TypesOut(Out):
    version: int
    types: list[TypeOut]


class EntryOut(Out):
    id: str
    kind: str
    type: str
    occurred_at: str
    actor: dict[str, Any]
    summary: str
    visibility: str
    system: bool
    customer_id: str | None
    project_id: str | None
    task_id: str | None
    ticket_id: str | None
    interaction_id: str | None
    contact_ids: list[str]


class _Range(ListQuery):
    from_: DateOrInstant | None = Field(None, alias="from")
    to: DateOrInstant | None = None
    types: Csv | None = None

    _ordered = ordered_range("from_", "to", "to")


class TimelineQuery(_Range):
    exclude_types: Csv | None = None
    system: bool | None = None
    customer_facing: bool | None = None
    project_id: Id | None = None
    ticket_id: Id | None = None
    contact_id: Id | None = None


class ActivityQuery(_Range):
    customer_id: Id | None = None
    actor_id: Id | None = None


class HeatmapRow(Out):
    id: str
    label: str
    total: int


class HeatmapOut(Out):
    scope: str
    rows_by: str
    bucket: str
    range: dict[str, str] = Field(description="from and to (dates)")
    buckets: list[str]
    rows: list[HeatmapRow]
    cells: list[list[int]]
    totals: dict[str, Any]


class QuietQuery(ListQuery):
    days: int = Field(14, ge=1, le=3650)


class QuietOut(Out):
    customer_id: str
    name: str | None
    owner_id: str | None
    last_interaction_at: str | None
    last_customer_touch_at: str | None


def _out(principal: Principal, item: Any) -> InteractionOut:
    return InteractionOut.model_validate(service.interaction_view(principal, item))


def _filters(query: Any) -> dict[str, Any]:
    return query.model_dump(exclude={"limit", "cursor"}, by_alias=True)


@route(bp, "/customers/{customer_id}/interactions", "POST", summary="Log an interaction on a customer",
       permission="interactions:write", body=CreateInteraction, response=InteractionOut, status=201)
def create_interaction(principal: Principal, customer_id: str, body: CreateInteraction) -> InteractionOut:
    fields = body.model_dump(mode="json", exclude={"follow_up"})
    follow_up = body.follow_up.model_dump(mode="json") if body.follow_up else None
    return _out(principal, service.create_interaction(principal, customer_id, fields, follow_up))


@route(bp, "/tasks/{task_id}/interactions", "POST", summary="Log an interaction from a task (linked for you)",
       permission="interactions:write", body=QuickInteraction, response=InteractionOut, status=201)
def log_on_task(principal: Principal, task_id: str, body: QuickInteraction) -> InteractionOut:
    return _out(principal, service.log_on_task(principal, task_id, body.model_dump(mode="json")))


@route(bp, "/tickets/{ticket_id}/interactions", "POST", summary="Log an interaction from a ticket (linked for you)",
       permission="interactions:write", body=QuickInteraction, response=InteractionOut, status=201)
def log_on_ticket(principal: Principal, ticket_id: str, body: QuickInteraction) -> InteractionOut:
    return _out(principal, service.log_on_ticket(principal, ticket_id, body.model_dump(mode="json")))


@route(bp, "/interactions/{interaction_id}", "GET", summary="An interaction", permission="interactions:read",
       response=InteractionOut)
def get_interaction(principal: Principal, interaction_id: str) -> InteractionOut:
    return _out(principal, service.get_interaction(principal, interaction_id))


@route(bp, "/interactions/{interaction_id}", "PATCH", summary="Change an interaction (version-checked)",
       permission="interactions:write", body=UpdateInteraction, response=InteractionOut)
def update_interaction(principal: Principal, interaction_id: str, body: UpdateInteraction) -> InteractionOut:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    return _out(principal, service.update_interaction(principal, interaction_id, changes, expected_version(body)))


@route(bp, "/interactions/{interaction_id}", "DELETE", summary="Delete an interaction (its audit trail stays)",
       permission="interactions:write", status=204)
def delete_interaction(principal: Principal, interaction_id: str) -> None:
    service.delete_interaction(principal, interaction_id)


@route(bp, "/tenant/interaction-types", "GET", summary="The interaction types: built-in and the tenant's own",
       permission="interactions:read", response=TypesOut)
def interaction_types(principal: Principal) -> TypesOut:
    return TypesOut(version=kinds.types_version(principal.tenant_id),
                    types=[TypeOut.model_validate(t) for t in kinds.all_types(principal.tenant_id)])


@route(bp, "/tenant/interaction-types", "PUT", summary="Replace the tenant's own interaction types",
       permission="interaction_types:write", body=PutTypes, response=TypesOut)
def put_interaction_types(principal: Principal, body: PutTypes) -> TypesOut:
    types = kinds.replace_types(principal, [t.model_dump(mode="json") for t in body.types], body.version)
    return TypesOut(version=kinds.types_version(principal.tenant_id), types=[TypeOut.model_validate(t) for t in types])


@route(bp, "/customers/{customer_id}/timeline", "GET", summary="Everything about a customer, newest first",
       permission="timeline:read", query=TimelineQuery, response=ListOf[EntryOut])
def customer_timeline(principal: Principal, customer_id: str, query: TimelineQuery) -> ListOf[EntryOut]:
    page = reading.customer_timeline(principal, customer_id, _filters(query), query.limit, query.cursor)
    return ListOf[EntryOut](items=[EntryOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor)


@route(bp, "/projects/{project_id}/timeline", "GET", summary="A project's feed, newest first",
       permission="timeline:read", query=ActivityQuery, response=ListOf[EntryOut])
def project_timeline(principal: Principal, project_id: str, query: ActivityQuery) -> ListOf[EntryOut]:
    page = reading.project_timeline(principal, project_id, _filters(query), query.limit, query.cursor)
    return ListOf[EntryOut](items=[EntryOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor)


@route(bp, "/activity", "GET", summary="The tenant's feed (what the caller reaches), newest first",
       permission="activity:read", query=ActivityQuery, response=ListOf[EntryOut])
def activity(principal: Principal, query: ActivityQuery) -> ListOf[EntryOut]:
    page = reading.activity(principal, _filters(query), query.limit, query.cursor)
    return ListOf[EntryOut](items=[EntryOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor)


@route(bp, "/reports/activity-heatmap", "GET", summary="Activity heatmap from the daily counters",
       permission="reports:activity", query=HeatmapQuery, response=HeatmapOut)
def activity_heatmap(principal: Principal, query: HeatmapQuery) -> HeatmapOut:
    return HeatmapOut.model_validate(reading.heatmap(principal, _filters(query)))


@route(bp, "/reports/quiet-customers", "GET", summary="Customers with no customer-facing interaction for N days",
       permission="reports:activity", query=QuietQuery, response=ListOf[QuietOut])
def quiet_customers(principal: Principal, query: QuietQuery) -> ListOf[QuietOut]:
    page = reading.quiet_customers(principal, query.days, query.limit, query.cursor)
    return ListOf[QuietOut](items=[QuietOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor)

