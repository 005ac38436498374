"""API Gateway's own error responses, mapped to RFC 9457 Problem Details.

API Gateway answers some requests itself, before the Lambda handler runs: an unknown route, a
throttled client, a body that is too large, an integration that timed out. Those answers are
"gateway responses". The CDK stack turns every row of ``GATEWAY_RESPONSES`` into a gateway
response with this status and a ``application/problem+json`` body, and the local dev server
imports the same table so that it answers the same way. One table, one shape.

Standard library only: this module is imported by the CDK app, the local server and the Lambda.
"""

from __future__ import annotations

from typing import NamedTuple

PROBLEM_CONTENT_TYPE = "application/problem+json"
ERROR_TYPE_BASE = "https://errors.bluehill.dev"


class GatewayResponse(NamedTuple):
    status: int
    code: str
    title: str
    detail: str


_BAD_REQUEST = GatewayResponse(400, "bad_request", "Bad request", "The request could not be understood.")
_UNAUTHORIZED = GatewayResponse(401, "unauthorized", "Unauthorized", "A valid bearer token is required.")
_FORBIDDEN = GatewayResponse(403, "forbidden", "Forbidden", "You are not allowed to perform this action.")
_NOT_FOUND = GatewayResponse(404, "not_found", "Not found", "The requested resource does not exist.")
_THROTTLED = GatewayResponse(429, "throttled", "Too many requests", "Too many requests; retry after a short wait.")
_INTERNAL = GatewayResponse(500, "internal_error", "Internal server error", "An unexpected error occurred.")

# API Gateway response type -> what the client sees. Every type API Gateway defines is listed,
# so DEFAULT_4XX / DEFAULT_5XX only catch types AWS adds later.
GATEWAY_RESPONSES: dict[str, GatewayResponse] = {
    "DEFAULT_4XX": _BAD_REQUEST,
    "DEFAULT_5XX": _INTERNAL,
    "BAD_REQUEST_BODY": _BAD_REQUEST,
    "BAD_REQUEST_PARAMETERS": _BAD_REQUEST,
    "UNAUTHORIZED": _UNAUTHORIZED,
    "EXPIRED_TOKEN": _UNAUTHORIZED,
    "ACCESS_DENIED": _FORBIDDEN,
    "INVALID_SIGNATURE": _FORBIDDEN,
    "INVALID_API_KEY": _FORBIDDEN,
    "WAF_FILTERED": _FORBIDDEN,
    # API Gateway answers an unknown route with MISSING_AUTHENTICATION_TOKEN (403); to a client
    # it is simply a path that does not exist.
    "MISSING_AUTHENTICATION_TOKEN": _NOT_FOUND,
    "RESOURCE_NOT_FOUND": _NOT_FOUND,
    "REQUEST_TOO_LARGE": GatewayResponse(
        413, "payload_too_large", "Payload too large", "The request body is too large."
    ),
    "UNSUPPORTED_MEDIA_TYPE": GatewayResponse(
        415, "unsupported_media_type", "Unsupported media type", "The request content type is not supported."
    ),
    "THROTTLED": _THROTTLED,
    "QUOTA_EXCEEDED": _THROTTLED,
    "AUTHORIZER_FAILURE": _INTERNAL,
    "AUTHORIZER_CONFIGURATION_ERROR": _INTERNAL,
    "API_CONFIGURATION_ERROR": _INTERNAL,
    "INTEGRATION_FAILURE": GatewayResponse(
        502, "bad_gateway", "Bad gateway", "The service could not complete the request."
    ),
    "INTEGRATION_TIMEOUT": GatewayResponse(
        504, "gateway_timeout", "Gateway timeout", "The service did not answer in time."
    ),
}


def error_type(code: str) -> str:
    """The Problem Details ``type`` URI for an error code (`not_found` → `…/not-found`,
    `validation_error` → `…/validation`): one spelling for the app and the gateway."""
    return f"{ERROR_TYPE_BASE}/{code.removesuffix('_error').replace('_', '-')}"


def problem_body(response_type: str, request_id: str) -> dict[str, object]:
    """The Problem Details body for an API Gateway response type.

    The CDK stack passes ``request_id="$context.requestId"`` so that API Gateway fills it in.
    Raises ``KeyError`` for a response type that is not in the table.
    """
    response = GATEWAY_RESPONSES[response_type]
    return {
        "type": error_type(response.code),
        "title": response.title,
        "status": response.status,
        "detail": response.detail,
        "code": response.code,
        "request_id": request_id,
    }
