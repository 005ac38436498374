"""DynamoDB's refusals reach the client as Problem Details from one boundary (core.http, through
core.errors.from_dynamodb), never as a 500: throttling is a 429 with Retry-After, a record over
DynamoDB's size limit a 413, and nothing is written. The fidelity layer injects each refusal;
each test's control shows the same request was a 500 without the translation."""

from __future__ import annotations

from typing import Any

import pytest
from chalicelib.core import http, table

from bluehill_dev import fidelity as layer

TRANSACTIONS = frozenset({"TransactWriteItems"})
QUERIES = frozenset({"Query"})


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's and the commit's own pauses between attempts, shortened (their number stays)."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    monkeypatch.setattr(table, "COMMIT_BACKOFF_SECONDS", 0.001)


def untranslated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "from_dynamodb", lambda error: None)


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.body["code"] == code and "Traceback" not in str(response.body)


def names(acme: Any) -> list[str]:
    with layer.configured(throttle_rate=0.0):
        return [customer["name"] for customer in acme.as_("owner").get("/customers?limit=200").body["items"]]


@pytest.mark.fidelity(throttle_rate=1.0, throttle_operations=TRANSACTIONS)
def test_a_write_dynamodb_keeps_throttling_is_a_429_with_retry_after_and_writes_nothing(
        acme: Any, quick_retries: None, fidelity: Any) -> None:
    response = acme.as_("owner").post("/customers", {"name": "Throttled Co"})
    assert_problem(response, 429, "throttled")
    assert response.headers["Retry-After"] == "1"
    assert fidelity.throttled == table.COMMIT_ATTEMPTS
    assert "Throttled Co" not in names(acme)


@pytest.mark.fidelity(throttle_rate=1.0, throttle_operations=QUERIES)
def test_a_read_dynamodb_keeps_throttling_is_a_429_with_retry_after(acme: Any, quick_retries: None,
                                                                   fidelity: Any) -> None:
    response = acme.as_("owner").get("/customers")
    assert_problem(response, 429, "throttled")
    assert response.headers["Retry-After"] == "1"
    assert fidelity.throttled == 4  # the SDK's four attempts (PynamoDB: 1 + 3 retries)


@pytest.mark.fidelity(throttle_rate=1.0, throttle_operations=QUERIES)
def test_control_untranslated_throttling_was_a_500(acme: Any, quick_retries: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    untranslated(monkeypatch)
    assert acme.as_("owner").get("/customers").status == 500


@pytest.mark.fidelity(throttle_rate=0.25, seed=11)
def test_occasional_throttling_is_absorbed_by_retries(acme: Any, quick_retries: None, fidelity: Any) -> None:
    owner = acme.as_("owner")
    for n in range(5):
        assert owner.post("/customers", {"name": f"Busy {n}"}).status == 201
        assert owner.get("/customers").status == 200
    assert fidelity.throttled > 0


def large_customer() -> dict[str, Any]:
    return {"name": "Large Co",
            "custom_fields": {f"note_{n}": {"type": "text", "value": "x" * 900} for n in range(10)}}


@pytest.mark.fidelity(item_limit_bytes=5_000)
def test_a_record_over_the_item_limit_is_a_413_and_nothing_is_written(acme: Any) -> None:
    owner = acme.as_("owner")
    assert owner.post("/customers", {"name": "Small Co"}).status == 201
    response = owner.post("/customers", large_customer())
    assert_problem(response, 413, "payload_too_large")
    assert "Large Co" not in names(acme)


@pytest.mark.fidelity(item_limit_bytes=5_000)
def test_an_update_that_would_grow_a_record_past_the_limit_is_a_413(acme: Any) -> None:
    owner = acme.as_("owner")
    created = owner.post("/customers", {"name": "Growing Co"}).body
    response = owner.patch(f"/customers/{created['id']}",
                           {"version": created["version"], "custom_fields": large_customer()["custom_fields"]})
    assert_problem(response, 413, "payload_too_large")
    assert owner.get(f"/customers/{created['id']}").body["version"] == created["version"]


@pytest.mark.fidelity(item_limit_bytes=5_000)
def test_control_an_untranslated_size_refusal_was_a_500(acme: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    untranslated(monkeypatch)
    assert acme.as_("owner").post("/customers", large_customer()).status == 500


@pytest.mark.fidelity(throttle_rate=1.0, throttle_operations=frozenset({"GetItem"}))
def test_an_authorizer_whose_user_check_is_throttled_answers_as_api_gateway_does(
        acme: Any, quick_retries: None, fidelity: Any) -> None:
    """The authorizer's user check (a GetItem) throttled past the SDK's retries: API Gateway
    answers its AUTHORIZER_FAILURE gateway response (a 500 Problem), where the local gateway
    used to drop the connection."""
    from bluehill_dev import local_gateway

    with local_gateway.fidelity(authorizer_cache_seconds=60):
        response = acme.as_("owner").get("/customers")
    assert fidelity.throttled > 0
    assert_problem(response, 500, "internal_error")
