"""HTTP shaping, built once: the route decorator every room uses (authorize → parse →
call → shape, with idempotent creates), and the middleware that turns every failure into
Problem Details."""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from chalice import AuthResponse, Blueprint, Response
from chalice.app import AuthRequest, Request
from pydantic import BaseModel, ValidationError

from chalicelib.core.auth import Principal, authorize, require_current_user
from chalicelib.core.errors import (
    DomainError,
    FieldError,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    from_dynamodb,
    problem_for,
    problem_for_status,
    validation_error,
)
from chalicelib.core.events import acting_as, actor_of
from chalicelib.core.idempotency import run_once
from chalicelib.core.models import MAX_VERSION
from chalicelib.core.observability import logger, record_request
from chalicelib.core.pagination import lists_of_request
from chalicelib.core.permissions import RECHECKED, require
from chalicelib.core.scope import tenant_scope
from chalicelib.core.settings import AUTHORIZER_CACHE_SECONDS

MAX_BODY_BYTES = 256 * 1024
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"

# The authorizer's Lambda runs `chalicelib.authorizer.api_authorizer` (Chalice names a blueprint
# function's handler after the blueprint's import name): that entry-point module wires the
# process (the user check lives in the team room, which core must not import) and re-exports
# this function. Core itself imports no room, not even lazily.
AUTHORIZER_MODULE = "chalicelib.authorizer"
auth_bp = Blueprint(AUTHORIZER_MODULE)


@auth_bp.authorizer(ttl_seconds=AUTHORIZER_CACHE_SECONDS, name="api_authorizer")
def api_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """The authorizer (deployed as `chalicelib.authorizer.api_authorizer`, see above)."""
    return authorize(auth_request)


@dataclass(frozen=True)
class Accepted:
    """A view's answer when the work goes on after the response: `202 Accepted`, the body
    (the job as it stands) and a `Location` to poll. Stored like any answer, so a retry with
    the same Idempotency-Key gets the same job."""

    body: BaseModel
    location: str


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    operation: str
    summary: str
    tag: str
    permission: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    public: bool
    media_type: str = JSON
    accepted: type[BaseModel] | None = None  # the 202 body, when the route may answer with a job
    max_body_bytes: int = MAX_BODY_BYTES  # a larger body is a 413

    @property
    def idempotent(self) -> bool:
        return self.method == "POST" and self.body is not None and not self.public


ROUTES: dict[tuple[str, str], RouteSpec] = {}

_current_request: ContextVar[Request | None] = ContextVar("bluehill_request", default=None)
_current_request_id: ContextVar[str | None] = ContextVar("bluehill_request_id", default=None)


def request_id() -> str | None:
    return _current_request_id.get()


def client_ip() -> str:
    """The caller's address as API Gateway saw it (never a client-supplied header)."""
    request = _current_request.get()
    if request is None:
        return "unknown"
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def header(name: str) -> str | None:
    request = _current_request.get()
    return request.headers.get(name) if request is not None else None


_IF_MATCH_VERSION = re.compile(r"[0-9]{1,16}", re.ASCII)  # ASCII digits only: `²`.isdigit() too


def if_match_version() -> int | None:
    """The version an `If-Match` header carries (`"3"`, `W/"3"`, `3`); None without one. One that
    is not a version — not ASCII digits, or past MAX_VERSION — is a 422 naming If-Match."""
    raw = header("if-match")
    if raw is None or not raw.strip():
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not _IF_MATCH_VERSION.fullmatch(text) or int(text) > MAX_VERSION:
        raise validation_error("If-Match", f"must carry a version number from 0 to {MAX_VERSION}")
    return int(text)


def expected_version(body: BaseModel) -> int:
    """The version a PATCH was based on: the body's `version`, else the If-Match header."""
    version = getattr(body, "version", None)
    if version is None:
        version = if_match_version()
        if version is None:
            raise validation_error("version", "is required (in the body or as If-Match)")
    return version


_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def _require_well_formed_ids(path_params: dict[str, str]) -> None:
    """An id no record can have is simply absent (404) — and never reaches DynamoDB, whose key
    size limit would turn it into a 500."""
    for name, value in path_params.items():
        if name.endswith("_id") and not _WELL_FORMED_ID.fullmatch(value):
            raise NotFound(f"no {name.removesuffix('_id')} has the id given")


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _validation_failed(error: ValidationError, where: str) -> ValidationFailed:
    errors = [FieldError(_field_name(e["loc"]), e["msg"]) for e in error.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return ValidationFailed(f"invalid {where}: {detail}", errors)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _finite(text: str) -> float:
    """A number too large for a float would be stored and echoed back as Infinity, which is not JSON."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def parse_body(model: type[BaseModel], raw: bytes | None, limit: int = MAX_BODY_BYTES) -> BaseModel:
    raw = raw or b""
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        data = json.loads(raw, parse_constant=_not_json, parse_float=_finite) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise MalformedRequest("request body is not valid JSON") from error
    if not isinstance(data, dict):
        raise ValidationFailed("request body must be a JSON object", [FieldError("body", "must be an object")])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _validation_failed(error, "request body") from error


def parse_query(model: type[BaseModel], params: Any) -> BaseModel:
    values = dict(params or {})
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise _validation_failed(error, "query") from error


def json_response(body: Any, status: int = 200, content_type: str = JSON) -> Response:
    return Response(
        body=json.dumps(body, separators=(",", ":")), status_code=status, headers={"Content-Type": content_type}
    )


def _shape(result: Any, response_model: type[BaseModel] | None) -> Any:
    if result is None:
        return None
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if response_model is not None:
        return response_model.model_validate(result).model_dump(mode="json")
    return result


def idempotency_scope(principal: Principal, spec: RouteSpec, path_params: dict[str, str], key: str) -> str:
    """What an Idempotency-Key is bound to: the caller (tenant and user) and the route with its
    path parameters — Chalice's `request.path` is the route template, so the same key on
    another customer's `/customers/{customer_id}/contacts` must not replay the first one."""
    concrete = spec.path.format(**path_params)
    return json.dumps([principal.tenant_id, principal.user_id, spec.method, concrete, key], separators=(",", ":"))


def route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    permission: str | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    public: bool = False,
    media_type: str = JSON,
    accepted: type[BaseModel] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view. The view receives the principal (unless public), the path parameters,
    and `body=` / `query=` as validated Pydantic models; it returns a model (or None for 204),
    or `Accepted` (a route declaring `accepted=`, the model of its 202 body). `max_body_bytes`:
    a smaller body limit (413 past it), for public routes."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = RouteSpec(
            path=path,
            method=method,
            operation=view.__name__,
            summary=summary,
            tag=bp._import_name.split(".")[-2] if "." in bp._import_name else bp._import_name,
            permission=permission,
            body=body,
            query=query,
            response=response,
            status=status,
            public=public,
            media_type=media_type,
            accepted=accepted,
            max_body_bytes=max_body_bytes,
        )
        ROUTES[(path, method)] = spec

        @wraps(view)
        def handler(**path_params: str) -> Response:
            try:
                return serve(**path_params)
            except DomainError:
                raise
            except Exception as error:  # Chalice would answer anything but a DomainError with its own 500
                translated = from_dynamodb(error)
                if translated is None:
                    raise
                logger().warning("DynamoDB refused the request", extra={"refusal": type(translated).__name__})
                raise translated from error

        def serve(**path_params: str) -> Response:
            # The request the middleware was handed for this invocation; the blueprint's is one
            # attribute of the app object, which concurrent invocations in one process overwrite.
            request = _current_request.get() or bp.current_request
            principal = None if public else Principal.from_context(request.context["authorizer"])
            with (tenant_scope(principal.tenant_id) if principal else nullcontext(),
                  acting_as(actor_of(principal.user_id, principal.role)) if principal else nullcontext()):
                if principal is not None:
                    logger().append_keys(tenant_id=principal.tenant_id, user_id=principal.user_id)
                    if permission:
                        require(principal, permission)
                    if permission in RECHECKED:  # not on the authorizer's cached answer
                        require_current_user(principal)
                _require_well_formed_ids(path_params)
                kwargs: dict[str, Any] = dict(path_params)
                if query is not None:
                    kwargs["query"] = parse_query(query, request.query_params)
                if body is not None:
                    kwargs["body"] = parse_body(body, request.raw_body, max_body_bytes)
                args = () if principal is None else (principal,)
                # Every cursor a list hands out is bound to this request's whole query and caller.
                query_params = kwargs["query"].model_dump(mode="json") if query is not None else {}
                binding = lists_of_request(method, path, dict(path_params), query_params,
                                           principal.user_id if principal else None)

                def execute() -> dict[str, Any]:
                    result = view(*args, **kwargs)
                    if isinstance(result, Response):  # a download the route offers beside its JSON (?format=csv)
                        return {"status": result.status_code, "body": None, "response": result}
                    if isinstance(result, Accepted):
                        return {"status": 202, "body": _shape(result.body, None), "location": result.location}
                    return {"status": status, "body": _shape(result, response)}

                with binding:
                    if spec.media_type != JSON:
                        return view(*args, **kwargs)

                    key = request.headers.get("idempotency-key")
                    if spec.idempotent and key and principal is not None:
                        scope_key = idempotency_scope(principal, spec, path_params, key)
                        outcome = run_once(spec.operation, scope_key, kwargs["body"].model_dump(mode="json"),
                                           execute, lambda_context=request.lambda_context)
                    else:
                        outcome = execute()
            if outcome.get("response") is not None:
                return outcome["response"]
            if outcome["body"] is None:
                return Response(body="", status_code=204)
            answer = json_response(outcome["body"], outcome["status"])
            if outcome.get("location"):
                answer.headers["Location"] = outcome["location"]
            return answer

        bp.route(
            path,
            methods=[method],
            authorizer=None if public else api_authorizer,
            content_types=[JSON, PROBLEM_JSON, "text/plain"],
        )(handler)
        return view

    return decorate


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={"Content-Type": PROBLEM_JSON, **(headers or {})},
    )


def _request_id(request: Request | None) -> str:
    context = getattr(request, "context", None) or {}
    return str(context.get("requestId") or uuid.uuid4())


def problem_details_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every failure leaves as Problem Details, whoever produced it (a domain error, Chalice's
    own 404/405/415, or a bug — a 500 whose body leaks nothing); every request leaves one
    access-log line and one metric."""
    started = time.perf_counter()
    request_id = _request_id(request)
    response = _answer(request, get_response, request_id)
    context = getattr(request, "context", None) or {}
    record_request(
        route=str(context.get("resourcePath", "unknown")),
        method=getattr(request, "method", ""),
        status=response.status_code,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
    return response


def _domain_problem(error: DomainError, request_id: str) -> Response:
    problem = problem_for(error)
    headers = {**error.headers, "X-Request-Id": request_id}
    return problem_response(problem.kind.status, problem.body(request_id), headers)


def _answer(request: Request, get_response: Callable[[Request], Response], request_id: str) -> Response:
    token = _current_request.set(request)
    id_token = _current_request_id.set(request_id)
    logger().append_keys(request_id=request_id)
    try:
        response = get_response(request)
    except DomainError as error:
        return _domain_problem(error, request_id)
    except Exception:
        logger().exception("unhandled error")
        problem = problem_for_status(500, "An internal error occurred.")
        return problem_response(500, problem.body(request_id), {"X-Request-Id": request_id})
    finally:
        _current_request.reset(token)
        _current_request_id.reset(id_token)
        logger().remove_keys(["tenant_id", "user_id"])
    if response.status_code >= 400 and isinstance(response.body, dict) and "Code" in response.body:
        problem = problem_for_status(response.status_code, str(response.body.get("Message", "")))
        headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
        return problem_response(response.status_code, problem.body(request_id), {**headers, "X-Request-Id": request_id})
    response.headers["X-Request-Id"] = request_id
    return response
