"""The OpenAPI 3.1 document, generated from the route table and the Pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from chalicelib.core.http import ROUTES, RouteSpec
from chalicelib.core.permissions import roles_allowed

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

ERROR_STATUSES = {
    "400": "Malformed JSON or bad cursor",
    "401": "Missing or invalid token",
    "403": "The role may not do this",
    "404": "Absent, or another tenant's",
    "409": "Stale version, illegal transition or duplicate",
    "413": "Too large",
    "415": "The body is not JSON",
    "422": "Validation failed",
    "429": "Throttled; retry after Retry-After",
}
_AUTHENTICATED_ONLY = {"401", "403"}
_WITH_A_BODY_ONLY = {"413", "415"}


def _error_statuses(spec: RouteSpec) -> dict[str, str]:
    """The refusals an operation can answer, all Problem Details: every operation may be malformed,
    absent, in conflict, invalid or throttled; only one with a body may be too large or not JSON;
    only one behind the token may be unauthenticated or forbidden."""
    return {code: text for code, text in ERROR_STATUSES.items()
            if (code not in _AUTHENTICATED_ONLY or not spec.public) and (code not in _WITH_A_BODY_ONLY or spec.body)}


def _allows_null(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    if types is None and "enum" not in schema:
        return True  # a $ref or an untyped schema: leave its default alone
    if types == "null" or (isinstance(types, list) and "null" in types) or None in schema.get("enum", ()):
        return True
    return any(_allows_null(option) for option in schema.get("anyOf", []) + schema.get("oneOf", []))


def _without_impossible_defaults(node: Any) -> Any:
    """Pydantic writes `"default": null` for PATCH fields that may be omitted but not nulled
    (`name: Name = Field(None)`); a default the schema itself refuses makes the document invalid."""
    if isinstance(node, list):
        return [_without_impossible_defaults(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned = {key: _without_impossible_defaults(value) for key, value in node.items()}
    if "default" in cleaned and cleaned["default"] is None and not _allows_null(cleaned):
        del cleaned["default"]
    return cleaned


def _parameters(spec: RouteSpec, defs: dict[str, Any]) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_\\-]+$"}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    if spec.query is not None:
        schema = spec.query.model_json_schema(ref_template="#/components/schemas/{model}")
        defs.update(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if spec.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "maxLength": 255}})
    return params


def _operation(spec: RouteSpec, names: dict[Any, str], defs: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.operation,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": _parameters(spec, defs),
    }
    if spec.permission:
        operation["description"] = "Roles: " + ", ".join(sorted(roles_allowed(spec.permission)))
    if not spec.public:
        operation["security"] = [{"bearer": []}]
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": names[(spec.body, "validation")]}}},
        }
    success: dict[str, Any] = {"description": "OK"}
    if spec.response is not None:  # a route of another media type may also answer JSON (?format=)
        success["content"] = {"application/json": {"schema": {"$ref": names[(spec.response, "serialization")]}}}
    if spec.media_type != "application/json":
        success["content"] = {**success.get("content", {}), spec.media_type: {"schema": {"type": "string"}}}
    if spec.query is not None and "format" in spec.query.model_fields:  # `?format=csv`: a download beside the JSON
        success.setdefault("content", {})["text/csv"] = {"schema": {"type": "string"}}
    status = "204" if spec.response is None and spec.media_type == "application/json" and not spec.public \
        else str(spec.status)
    problem = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    errors = {code: {"description": text, **problem} for code, text in _error_statuses(spec).items()}
    operation["responses"] = {status: success, **errors}
    if spec.accepted is not None:
        operation["responses"]["202"] = {
            "description": "Accepted: too big for one request, it runs as a job; poll the Location",
            "headers": {"Location": {"description": "the job: GET /jobs/{job_id}", "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": names[(spec.accepted, "serialization")]}}},
        }
    return operation


def document(extra_routes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    specs = sorted(ROUTES.values(), key=lambda s: (s.path, s.method))
    models = {(s.body, "validation") for s in specs if s.body} | {
        (s.response, "serialization") for s in specs if s.response
    } | {(s.accepted, "serialization") for s in specs if s.accepted}
    names, schema = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])),
                                       ref_template="#/components/schemas/{model}")
    defs: dict[str, Any] = dict(schema.get("$defs", {}))
    refs = {key: value["$ref"] for key, value in names.items()}
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs, defs)
    defs["Problem"] = PROBLEM_SCHEMA
    return _without_impossible_defaults({
        "openapi": "3.1.0",
        "info": {"title": "BlueHill API", "version": "1.0.0",
                 "description": "The customer operations platform. Errors are RFC 9457 Problem Details."},
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    })
