"""Domain errors and the one table that maps them to RFC 9457 Problem Details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalice import ChaliceUnhandledError

from chalicelib.core.gateway_responses import error_type


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(ChaliceUnhandledError):
    """Base of every error a request can end in. Subclassing ChaliceUnhandledError lets the
    exception reach the HTTP middleware instead of being turned into a Chalice 500."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None,
                 extensions: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extensions = extensions or {}  # RFC 9457 extension members (e.g. a 409's `locked_by`)

    @property
    def headers(self) -> dict[str, str]:
        """Response headers this error calls for (none but Throttled's Retry-After)."""
        return {}


class MalformedRequest(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class PayloadTooLarge(DomainError):
    pass


class ValidationFailed(DomainError):
    pass


class Throttled(DomainError):
    retry_after_seconds = 1

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


@dataclass(frozen=True)
class ProblemKind:
    status: int
    code: str
    title: str


PROBLEM_KINDS: dict[type[DomainError], ProblemKind] = {
    MalformedRequest: ProblemKind(400, "bad_request", "Bad request"),
    Unauthenticated: ProblemKind(401, "unauthorized", "Unauthorized"),
    Forbidden: ProblemKind(403, "forbidden", "Forbidden"),
    NotFound: ProblemKind(404, "not_found", "Not found"),
    Conflict: ProblemKind(409, "conflict", "Conflict"),
    PayloadTooLarge: ProblemKind(413, "payload_too_large", "Payload too large"),
    ValidationFailed: ProblemKind(422, "validation_error", "Validation failed"),
    Throttled: ProblemKind(429, "throttled", "Too many requests"),
}

STATUS_KINDS: dict[int, ProblemKind] = {kind.status: kind for kind in PROBLEM_KINDS.values()}
STATUS_KINDS[405] = ProblemKind(405, "method_not_allowed", "Method not allowed")
STATUS_KINDS[415] = ProblemKind(415, "unsupported_media_type", "Unsupported media type")
STATUS_KINDS[500] = ProblemKind(500, "internal_error", "Internal server error")


@dataclass
class Problem:
    kind: ProblemKind
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)

    def body(self, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": error_type(self.kind.code),
            "title": self.kind.title,
            "status": self.kind.status,
            "detail": self.detail,
            "code": self.kind.code,
            "request_id": request_id,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return {**self.extensions, **body}


def problem_for(error: DomainError) -> Problem:
    for cls in type(error).__mro__:
        kind = PROBLEM_KINDS.get(cls)  # type: ignore[arg-type]
        if kind:
            return Problem(kind, error.detail, error.errors, dict(getattr(error, "extensions", {})))
    return Problem(STATUS_KINDS[500], "An internal error occurred.")


def problem_for_status(status: int, detail: str) -> Problem:
    kind = STATUS_KINDS.get(status) or ProblemKind(status, "error", "Error")
    return Problem(kind, detail)


def validation_error(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field_name}: {message}", [FieldError(field_name, message)])


# --- DynamoDB's own refusals, translated once (core.http's boundary asks) ---------------------

_THROTTLING_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "ThrottlingError",
})
# DynamoDB gives these no code of their own (a ValidationException): its message names the limit.
_SIZE_LIMIT_MESSAGES = (
    "Item size has exceeded the maximum allowed size",
    "Item size to update has exceeded the maximum allowed size",
    "Transaction request cannot be larger than 4 MB",
    "Member must have length less than or equal to 100",
)


def _aws_codes(error: BaseException) -> tuple[set[str], str]:
    """The error codes (a transaction's cancellation reasons included) and the message of a
    botocore ClientError or a PynamoDB error wrapping one."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        info = response["Error"]
        reasons = {reason.get("Code", "") for reason in response.get("CancellationReasons", []) or []}
        return {str(info.get("Code", "")), *reasons}, str(info.get("Message", ""))
    code = getattr(error, "cause_response_code", None)
    if code:
        reasons = {reason.code for reason in getattr(error, "cancellation_reasons", None) or [] if reason}
        return {code, *reasons}, str(getattr(error, "cause_response_message", "") or "")
    return set(), ""


def from_dynamodb(error: BaseException) -> DomainError | None:
    """The domain error a DynamoDB refusal stands for, if it stands for one: throttling is a 429
    with Retry-After (the request changed nothing and may be sent again), an item or a
    transaction over DynamoDB's limits is a 413, a write that met another's transaction a 409.
    Anything else (a malformed request is a bug) stays unknown."""
    seen: BaseException | None = error
    while seen is not None:
        codes, message = _aws_codes(seen)
        if codes & _THROTTLING_CODES:
            return Throttled("the service is busy; retry after the time given in Retry-After")
        if "ValidationException" in codes and any(limit in message for limit in _SIZE_LIMIT_MESSAGES):
            return PayloadTooLarge("this change would store a record larger than the database allows "
                                   "(400 KB a record, 4 MB and 100 records a change)")
        if codes & {"TransactionConflictException", "TransactionConflict"}:
            return Conflict("another change to the same records was in progress; retry")
        seen = seen.__cause__ or seen.__context__
    return None
