from __future__ import annotations

from typing import Literal

from chalice import Blueprint
from pydantic import Field, field_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import Id, ListOf, ListQuery, Name, Out, Strict, Version

from . import service

bp = Blueprint(__name__)

Routing = Literal["manual", "round_robin", "least_open"]


class QueueFields(Strict):
    members: list[Id] = Field(None, max_length=100)
    routing: Routing = Field(None)

    @field_validator("members")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class CreateQueue(QueueFields):
    name: Name
    members: list[Id] = Field(default_factory=list, max_length=100)
    routing: Routing = "manual"

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"name": "Billing", "members": ["01hxagent"], "routing": "round_robin"}]}}


class UpdateQueue(QueueFields):
    version: Version = None
    name: Name = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "routing": "least_open"}]}}


class QueueOut(Out):
    id: str
    name: str
    members: list[str]
    routing: Routing
    open_counts: dict[str, int]
    version: int
    created_at: str
    updated_at: str


def _out(queue: object, loads: dict[str, dict[str, int]] | None = None) -> QueueOut:
    return QueueOut.model_validate(service.queue_view(queue, loads))  # type: ignore[arg-type]


@route(bp, "/queues", "POST", summary="Create a queue", permission="queues:write", body=CreateQueue,
       response=QueueOut, status=201)
def create_queue(principal: Principal, body: CreateQueue) -> QueueOut:
    return _out(service.create_queue(principal, body.model_dump(mode="json")))


@route(bp, "/queues", "GET", summary="List queues", permission="queues:read", query=ListQuery,
       response=ListOf[QueueOut])
def list_queues(principal: Principal, query: ListQuery) -> ListOf[QueueOut]:
    page = service.list_queues(principal, query.limit, query.cursor)
    loads = service.tenant_loads(principal.tenant_id) if page.items else {}
    return ListOf[QueueOut](items=[_out(q, loads) for q in page.items], next_cursor=page.next_cursor)


@route(bp, "/queues/{queue_id}", "GET", summary="Read a queue", permission="queues:read", response=QueueOut)
def get_queue(principal: Principal, queue_id: str) -> QueueOut:
    return _out(service.get_queue(principal, queue_id))


@route(bp, "/queues/{queue_id}", "PATCH", summary="Change a queue", permission="queues:write", body=UpdateQueue,
       response=QueueOut)
def update_queue(principal: Principal, queue_id: str, body: UpdateQueue) -> QueueOut:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    return _out(service.update_queue(principal, queue_id, changes, expected_version(body)))
