from __future__ import annotations

from typing import Annotated

from chalice import Blueprint
from pydantic import Field, StringConstraints

from chalicelib.core.auth import Principal
from chalicelib.core.http import route
from chalicelib.core.models import ListOf, ListQuery, Name, Out, Strict, TextBlock

from . import service

bp = Blueprint(__name__)

Category = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
Body = Annotated[TextBlock, StringConstraints(min_length=1, max_length=10_000)]


class CreateCanned(Strict):
    name: Name
    body: Body
    category: Category | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"name": "Thanks", "body": "Hi {{contact.first_name}}, thanks for writing to us. - {{agent.name}}",
         "category": "general"}]}}


class CannedQuery(ListQuery):
    q: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    category: Category | None = None


class CannedOut(Out):
    id: str
    name: str
    body: str
    category: str | None
    placeholders: list[str]
    version: int
    created_at: str
    updated_at: str


@route(bp, "/canned-responses", "POST", summary="Create a canned response", permission="canned:write",
       body=CreateCanned, response=CannedOut, status=201)
def create_canned(principal: Principal, body: CreateCanned) -> CannedOut:
    return CannedOut.model_validate(service.canned_view(service.create_canned(principal, body.model_dump())))


@route(bp, "/canned-responses", "GET", summary="List canned responses", permission="canned:read",
       query=CannedQuery, response=ListOf[CannedOut])
def list_canned(principal: Principal, query: CannedQuery) -> ListOf[CannedOut]:
    page = service.list_canned(principal, query.q, query.category, query.limit, query.cursor)
    return ListOf[CannedOut](items=[CannedOut.model_validate(service.canned_view(c)) for c in page.items],
                             next_cursor=page.next_cursor)
