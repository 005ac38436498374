from __future__ import annotations

from functools import cache
from typing import Any

from chalice import Blueprint, Response

from chalicelib.core.auth import Principal
from chalicelib.core.events import catalog
from chalicelib.core.http import route
from chalicelib.core.models import Out

bp = Blueprint(__name__)

SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>BlueHill API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "openapi.json", dom_id: "#ui"});</script>
</body></html>"""


class Health(Out):
    status: str


@route(bp, "/health", "GET", summary="Liveness", public=True, response=Health)
def health() -> Health:
    return Health(status="ok")


@cache
def _document() -> dict[str, Any]:
    from .openapi import document

    return document()


@route(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3.1 document", public=True)
def openapi() -> dict[str, Any]:
    return _document()


@route(bp, "/docs", "GET", summary="Swagger UI for this API", public=True, media_type="text/html")
def docs() -> Response:
    return Response(body=SWAGGER_PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


class EventType(Out):
    type: str
    source: str
    schema_version: int
    description: str
    json_schema: dict[str, Any]


class EventCatalog(Out):
    items: list[EventType]


@route(bp, "/events/catalog", "GET", summary="Every domain event type: source, description, JSON Schema",
       permission="events:catalog", response=EventCatalog)
def event_catalog(principal: Principal) -> EventCatalog:
    return EventCatalog.model_validate({"items": catalog()})
