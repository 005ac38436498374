"""Make Chalice's local gateway answer the way the deployed API Gateway does.

In AWS, API Gateway's gateway responses (configured by the CDK stack from
`chalicelib.core.gateway_responses`) turn an unknown route, a denied or failed authorizer and a
throttle into Problem Details; an authorizer that raises "Unauthorized" is a 401. Chalice's
local gateway (used by `chalice local` and `chalice.test.Client`) answers with its own bodies
instead, so this module maps them through the same table. It is dev and test tooling only."""

from __future__ import annotations

import json
from typing import Any

from chalice import local
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.gateway_responses import PROBLEM_CONTENT_TYPE, problem_body

_ERROR_TYPES = {
    "UnauthorizedException": "UNAUTHORIZED",
    "AccessDeniedException": "ACCESS_DENIED",
    "AuthorizerConfigurationException": "AUTHORIZER_CONFIGURATION_ERROR",
}


def _mapped(error: local.LocalGatewayException, response_type: str) -> local.LocalGatewayException:
    request_id = error.headers.get("x-amzn-RequestId", "local")
    error.headers = {**error.headers, "Content-Type": PROBLEM_CONTENT_TYPE}
    error.body = json.dumps(problem_body(response_type, request_id)).encode()
    return error


class _NotFound(local.LocalGatewayException):
    CODE = 404


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    original_handle = local.LocalGateway.handle_request
    original_authorize = local.LocalGatewayAuthorizer.authorize

    def authorize(self: Any, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        try:
            return original_authorize(self, raw_path, lambda_event, lambda_context)
        except Unauthenticated as refused:
            raise local.NotAuthorizedError(
                {"x-amzn-RequestId": lambda_context.aws_request_id, "x-amzn-ErrorType": "UnauthorizedException"}
            ) from refused

    def handle_request(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            return original_handle(self, method, path, headers, body)
        except local.LocalGatewayException as error:
            if (isinstance(error, local.ForbiddenError) and error.body and b"Authorization header" in error.body) \
                    or (error.body and b"Missing Authentication Token" in error.body):
                raise _mapped(_NotFound(error.headers), "MISSING_AUTHENTICATION_TOKEN") from error
            kind = _ERROR_TYPES.get(error.headers.get("x-amzn-ErrorType", ""), "DEFAULT_4XX")
            raise _mapped(error, kind) from error

    local.LocalGatewayAuthorizer.authorize = authorize  # type: ignore[method-assign]
    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    _installed = True
