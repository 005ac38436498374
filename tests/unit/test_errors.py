"""Domain errors become RFC 9457 Problem Details through one table: the status and code that
fit, a stable type URI, the fields a 422 names, and a 500 that says nothing about the bug."""

from __future__ import annotations

import pytest
from chalice import ChaliceUnhandledError
from chalicelib.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    Throttled,
    Unauthenticated,
    ValidationFailed,
    problem_for,
    problem_for_status,
    validation_error,
)

EXPECTED = [
    (MalformedRequest, 400, "bad_request", "bad-request"),
    (Unauthenticated, 401, "unauthorized", "unauthorized"),
    (Forbidden, 403, "forbidden", "forbidden"),
    (NotFound, 404, "not_found", "not-found"),
    (Conflict, 409, "conflict", "conflict"),
    (PayloadTooLarge, 413, "payload_too_large", "payload-too-large"),
    (ValidationFailed, 422, "validation_error", "validation"),
    (Throttled, 429, "throttled", "throttled"),
]
REQUIRED_MEMBERS = {"type", "title", "status", "detail", "code", "request_id"}


@pytest.mark.parametrize(("error", "status", "code", "slug"), EXPECTED, ids=[e[0].__name__ for e in EXPECTED])
def test_each_domain_error_maps_to_its_status_code_and_type(error: type[DomainError], status: int, code: str,
                                                            slug: str) -> None:
    body = problem_for(error("what happened")).body("req-1")
    assert set(body) == REQUIRED_MEMBERS
    assert (body["status"], body["code"], body["type"]) == (status, code, f"https://errors.bluehill.dev/{slug}")
    assert (body["detail"], body["request_id"]) == ("what happened", "req-1")
    assert body["title"]


def test_domain_errors_reach_the_middleware_instead_of_chalices_500() -> None:
    assert all(issubclass(error, ChaliceUnhandledError) for error, *_ in EXPECTED)


def test_a_validation_error_names_its_field() -> None:
    body = problem_for(validation_error("due_date", "must be on or after start_date")).body("req-2")
    assert body["status"] == 422
    assert body["errors"] == [{"field": "due_date", "message": "must be on or after start_date"}]
    assert "due_date" in body["detail"]


def test_several_field_errors_are_all_listed() -> None:
    error = ValidationFailed("two problems", [FieldError("name", "is required"), FieldError("tier", "unknown")])
    assert [e["field"] for e in problem_for(error).body("r")["errors"]] == ["name", "tier"]


def test_errors_without_field_errors_carry_no_errors_member() -> None:
    assert "errors" not in problem_for(Conflict("stale")).body("r")


def test_a_subclass_inherits_its_parents_status() -> None:
    class StaleVersion(Conflict):
        pass

    assert problem_for(StaleVersion("stale")).kind.status == 409


def test_an_unmapped_domain_error_is_a_500_that_reveals_nothing() -> None:
    body = problem_for(DomainError("secret table name and stack detail")).body("r")
    assert body["status"] == 500
    assert "secret" not in body["detail"]


@pytest.mark.parametrize(("status", "code"), [(405, "method_not_allowed"), (415, "unsupported_media_type"),
                                              (500, "internal_error"), (404, "not_found")])
def test_chalices_own_statuses_map_to_the_same_shape(status: int, code: str) -> None:
    body = problem_for_status(status, "from chalice").body("r")
    assert (body["status"], body["code"], set(body)) == (status, code, REQUIRED_MEMBERS)


def test_an_unexpected_status_still_gets_a_problem() -> None:
    body = problem_for_status(418, "teapot").body("r")
    assert (body["status"], set(body)) == (418, REQUIRED_MEMBERS)


@pytest.mark.parametrize(("response_type", "error"), [("MISSING_AUTHENTICATION_TOKEN", NotFound),
                                                      ("UNAUTHORIZED", Unauthenticated), ("ACCESS_DENIED", Forbidden)])
def test_the_gateway_and_the_app_spell_a_problem_type_the_same_way(response_type: str,
                                                                   error: type[DomainError]) -> None:
    from chalicelib.core.gateway_responses import problem_body

    app_body = problem_for(error("x")).body("r")
    gateway_body = problem_body(response_type, "r")
    assert (gateway_body["type"], gateway_body["code"], gateway_body["title"]) == (
        app_body["type"], app_body["code"], app_body["title"])


def test_every_status_the_gateway_and_the_app_both_answer_has_one_code_and_title() -> None:
    from chalicelib.core.errors import STATUS_KINDS
    from chalicelib.core.gateway_responses import GATEWAY_RESPONSES

    for response in GATEWAY_RESPONSES.values():
        kind = STATUS_KINDS.get(response.status)
        if kind is not None:
            assert (response.code, response.title) == (kind.code, kind.title), response


def client_error(code: str, message: str = "", reasons: list[str] | None = None) -> Exception:
    from botocore.exceptions import ClientError

    response: dict = {"Error": {"Code": code, "Message": message}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "expected"), [
    (client_error("ProvisionedThroughputExceededException"), Throttled),
    (client_error("ThrottlingException"), Throttled),
    (client_error("TransactionCanceledException", "", ["None", "ThrottlingError"]), Throttled),
    (client_error("ValidationException", "Item size has exceeded the maximum allowed size"), PayloadTooLarge),
    (client_error("ValidationException", "Item size to update has exceeded the maximum allowed size"),
     PayloadTooLarge),
    (client_error("TransactionConflictException"), Conflict),
    (client_error("ValidationException", "Invalid UpdateExpression: Syntax error"), type(None)),  # a bug: a 500
    (client_error("ConditionalCheckFailedException"), type(None)),
    (ValueError("not AWS"), type(None)),
])
def test_dynamodb_refusals_translate_to_the_domain_error_they_stand_for(error: Exception, expected: type) -> None:
    from chalicelib.core.errors import from_dynamodb

    assert isinstance(from_dynamodb(error), expected)


def test_a_refusal_wrapped_by_pynamodb_is_translated_through_its_cause() -> None:
    from chalicelib.core.errors import from_dynamodb
    from pynamodb.exceptions import UpdateError

    wrapped = UpdateError("Failed to update item", client_error("ProvisionedThroughputExceededException"))
    assert isinstance(from_dynamodb(wrapped), Throttled)
    assert from_dynamodb(wrapped).headers == {"Retry-After": "1"}
