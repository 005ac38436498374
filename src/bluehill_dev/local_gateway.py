"""Make Chalice's local gateway answer the way the deployed API Gateway does.

In AWS, API Gateway's gateway responses (configured by the CDK stack from
`chalicelib.core.gateway_responses`) turn an unknown route, a denied or failed authorizer and a
throttle into Problem Details; an authorizer that raises "Unauthorized" is a 401. Chalice's
local gateway (used by `chalice local` and `chalice.test.Client`) answers with its own bodies
instead, so this module maps them through the same table. It is dev and test tooling only.

It also imitates three limits of the deployed API that Chalice's gateway does not have — the
fidelity switches, each read from an environment variable and switchable per test with
`fidelity(...)` (0 switches one off):

- the authorizer result cache, per token, for the TTL the authorizer declares (its
  `ttl_seconds`, which `chalice package` gives API Gateway as `authorizerResultTtlInSeconds`:
  `core.settings.AUTHORIZER_CACHE_SECONDS`) — `BLUEHILL_AUTHORIZER_CACHE_SECONDS` (a number of
  seconds overrides the TTL); on in `make dev`, off in the in-process tests;
- API Gateway's integration timeout: 504 at 29 s, while the handler runs on as the Lambda
  invocation would — `BLUEHILL_INTEGRATION_TIMEOUT_SECONDS`, on everywhere;
- Lambda's 6 MB response payload limit: 502 (the invocation fails and API Gateway answers) —
  `BLUEHILL_RESPONSE_LIMIT_BYTES`, on everywhere.

The in-process default leaves the authorizer cache off: a test that proves the cache window turns
it on with `fidelity(authorizer_cache_seconds=None)`."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from chalice import local
from chalice.app import ChaliceAuthorizer
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.gateway_responses import PROBLEM_CONTENT_TYPE, problem_body

AUTHORIZER_CACHE_VARIABLE = "BLUEHILL_AUTHORIZER_CACHE_SECONDS"
INTEGRATION_TIMEOUT_VARIABLE = "BLUEHILL_INTEGRATION_TIMEOUT_SECONDS"
RESPONSE_LIMIT_VARIABLE = "BLUEHILL_RESPONSE_LIMIT_BYTES"
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29.0
# Lambda's own figure, as its error names it: "Response payload size exceeded maximum allowed
# payload size (6291556 bytes)".
LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556
API_GATEWAY_DEFAULT_AUTHORIZER_TTL = 300  # what API Gateway applies when an authorizer declares none

_ERROR_TYPES = {
    "UnauthorizedException": "UNAUTHORIZED",
    "AccessDeniedException": "ACCESS_DENIED",
    "AuthorizerConfigurationException": "AUTHORIZER_CONFIGURATION_ERROR",
}


@dataclass(frozen=True)
class Fidelity:
    """`authorizer_cache_seconds`: None caches for the TTL the authorizer declares, a number for
    that many seconds, 0 not at all. `integration_timeout_seconds` / `response_limit_bytes`: 0 is off."""

    authorizer_cache_seconds: float | None = None
    integration_timeout_seconds: float = API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS
    response_limit_bytes: int = LAMBDA_RESPONSE_LIMIT_BYTES

    @classmethod
    def from_environment(cls, authorizer_cache: bool) -> Fidelity:
        """The switches from the environment; `authorizer_cache` is the default when its variable is unset."""
        cache = os.environ.get(AUTHORIZER_CACHE_VARIABLE, "").strip()
        return cls(
            authorizer_cache_seconds=float(cache) if cache else (None if authorizer_cache else 0),
            integration_timeout_seconds=float(os.environ.get(INTEGRATION_TIMEOUT_VARIABLE)
                                              or API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS),
            response_limit_bytes=int(os.environ.get(RESPONSE_LIMIT_VARIABLE) or LAMBDA_RESPONSE_LIMIT_BYTES),
        )


_fidelity = Fidelity(authorizer_cache_seconds=0)
clock: Callable[[], float] = time.monotonic  # the authorizer cache's clock (tests move it)


def current() -> Fidelity:
    return _fidelity


@contextlib.contextmanager
def fidelity(**switches: Any) -> Iterator[Fidelity]:
    """Change some switches for the duration (a test's), with an empty authorizer cache."""
    global _fidelity
    previous = _fidelity
    _fidelity = replace(previous, **switches)
    _authorizer_cache.clear()
    try:
        yield _fidelity
    finally:
        _fidelity = previous
        _authorizer_cache.clear()


class AuthorizerCache:
    """API Gateway's authorizer result cache: per authorizer and token (the identity source),
    the policy and context the authorizer returned, reused until the TTL passes. A refusal
    (the authorizer raising Unauthorized) is not a result and is not kept."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, authorizer: str, token: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get((authorizer, token))
            if entry is None or entry[0] <= clock():
                return None
            return copy.deepcopy(entry[1])

    def put(self, authorizer: str, token: str, result: dict[str, Any], seconds: float) -> None:
        with self._lock:
            now = clock()
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries = {key: entry for key, entry in self._entries.items() if entry[0] > now}
            self._entries[authorizer, token] = (now + seconds, copy.deepcopy(result))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_authorizer_cache = AuthorizerCache()


def authorizer_ttl(authorizer: ChaliceAuthorizer) -> float:
    """How long results are cached for this authorizer under the current switches."""
    if _fidelity.authorizer_cache_seconds is not None:
        return _fidelity.authorizer_cache_seconds
    declared = authorizer.config.ttl_seconds if authorizer.config else None
    return float(API_GATEWAY_DEFAULT_AUTHORIZER_TTL if declared is None else declared)


def _mapped(error: local.LocalGatewayException, response_type: str) -> local.LocalGatewayException:
    request_id = error.headers.get("x-amzn-RequestId", "local")
    error.headers = {**error.headers, "Content-Type": PROBLEM_CONTENT_TYPE}
    error.body = json.dumps(problem_body(response_type, request_id)).encode()
    return error


class _NotFound(local.LocalGatewayException):
    CODE = 404


class _IntegrationTimeout(local.LocalGatewayException):
    CODE = 504


class _IntegrationFailure(local.LocalGatewayException):
    CODE = 502


class _AuthorizerFailure(local.LocalGatewayException):
    """The authorizer itself failed (raised anything but Unauthorized): API Gateway answers its
    AUTHORIZER_FAILURE gateway response, and the request never reaches the function."""

    CODE = 500


T = TypeVar("T")


def _within(seconds: float, call: Callable[[], T]) -> T:
    """`call()` in a thread of its own, answered if it ends within `seconds`; TimeoutError
    otherwise, while it runs on (as the Lambda invocation does after API Gateway gave up)."""
    outcome: Future[T] = Future()
    context = contextvars.copy_context()

    def invoke() -> None:
        try:
            outcome.set_result(context.run(call))
        except BaseException as failure:
            outcome.set_exception(failure)

    threading.Thread(target=invoke, daemon=True, name="local-lambda-invocation").start()
    return outcome.result(timeout=seconds)


def _authorize(gateway_authorizer: Any, raw_path: str, lambda_event: Any, lambda_context: Any,
               original: Callable[..., Any]) -> Any:
    """Chalice's local authorizer for a built-in authorizer, with API Gateway's result cache."""
    route = gateway_authorizer._route_for_event(lambda_event)
    authorizer = route.authorizer if route else None
    if not isinstance(authorizer, ChaliceAuthorizer) or authorizer_ttl(authorizer) <= 0:
        return original(gateway_authorizer, raw_path, lambda_event, lambda_context)
    arn = gateway_authorizer._arn_builder.build_arn(lambda_event["requestContext"]["httpMethod"], raw_path)
    auth_event = gateway_authorizer._prepare_authorizer_event(arn, lambda_event, lambda_context)
    token = auth_event["authorizationToken"]
    result = _authorizer_cache.get(authorizer.name, token)
    if result is None:
        result = authorizer(auth_event, lambda_context)
        if result is None:
            return original(gateway_authorizer, raw_path, lambda_event, lambda_context)  # its configuration error
        _authorizer_cache.put(authorizer.name, token, result, authorizer_ttl(authorizer))
    if not gateway_authorizer._check_can_invoke_view_function(arn, result):
        raise local.ForbiddenError({"x-amzn-RequestId": lambda_context.aws_request_id,
                                    "x-amzn-ErrorType": "AccessDeniedException"})
    return gateway_authorizer._update_lambda_event(lambda_event, result), lambda_context


def _answer_within_limits(handle: Callable[[], Any], headers: dict[str, str]) -> Any:
    timeout = _fidelity.integration_timeout_seconds
    try:
        response = _within(timeout, handle) if timeout > 0 else handle()
    except TimeoutError as late:
        raise _mapped(_IntegrationTimeout(headers), "INTEGRATION_TIMEOUT") from late
    limit = _fidelity.response_limit_bytes
    if limit > 0 and isinstance(response, dict) and len(json.dumps(response, default=str).encode()) > limit:
        raise _mapped(_IntegrationFailure(headers), "INTEGRATION_FAILURE")
    return response


_installed = False


def install(settings: Fidelity | None = None) -> None:
    """Patch Chalice's local gateway (once per process) and set the fidelity switches:
    `settings`, else the environment's with the authorizer cache off (the in-process default)."""
    global _installed, _fidelity
    _fidelity = settings or Fidelity.from_environment(authorizer_cache=False)
    _authorizer_cache.clear()
    if _installed:
        return
    original_handle = local.LocalGateway.handle_request
    original_authorize = local.LocalGatewayAuthorizer.authorize

    def authorize(self: Any, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        try:
            return _authorize(self, raw_path, lambda_event, lambda_context, original_authorize)
        except Unauthenticated as refused:
            raise local.NotAuthorizedError(
                {"x-amzn-RequestId": lambda_context.aws_request_id, "x-amzn-ErrorType": "UnauthorizedException"}
            ) from refused
        except local.LocalGatewayException:
            raise
        except Exception as failed:  # e.g. its user check throttled past the SDK's retries
            print(f"authorizer failed: {failed!r}", file=sys.stderr)
            raise _mapped(_AuthorizerFailure({"x-amzn-RequestId": lambda_context.aws_request_id,
                                              "x-amzn-ErrorType": "AuthorizerFailureException"}),
                          "AUTHORIZER_FAILURE") from failed

    def handle_request(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        gateway_headers = {"x-amzn-RequestId": f"local-{time.time_ns():x}"}
        try:
            return _answer_within_limits(lambda: original_handle(self, method, path, headers, body), gateway_headers)
        except (_IntegrationTimeout, _IntegrationFailure, _AuthorizerFailure):
            raise
        except local.LocalGatewayException as error:
            if (isinstance(error, local.ForbiddenError) and error.body and b"Authorization header" in error.body) \
                    or (error.body and b"Missing Authentication Token" in error.body):
                raise _mapped(_NotFound(error.headers), "MISSING_AUTHENTICATION_TOKEN") from error
            kind = _ERROR_TYPES.get(error.headers.get("x-amzn-ErrorType", ""), "DEFAULT_4XX")
            raise _mapped(error, kind) from error

    local.LocalGatewayAuthorizer.authorize = authorize  # type: ignore[method-assign]
    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    _installed = True
