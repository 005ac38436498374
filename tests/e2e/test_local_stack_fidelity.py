"""The AWS-fidelity layer as `make dev` applies it on DynamoDB Local (bluehill_dev.fidelity_client),
over HTTP against `bluehill dev` started with the BLUEHILL_FIDELITY_* switches a developer sets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluehill_dev.stack_process import StackFailed, StackProcess

pytestmark = [pytest.mark.e2e, pytest.mark.local_only("local stacks started with fidelity switches")]


def _started(directory: Path, **switches: str) -> StackProcess:
    stack = StackProcess(directory / "local")
    stack.env.update(switches)
    try:
        stack.start()
    except StackFailed as failed:
        pytest.fail(str(failed))
    return stack


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """Every Query and transaction throttled (the authorizer's user check, a GetItem, is not:
    see test_a_throttled_authorizer_read...)."""
    stack = _started(tmp_path_factory.mktemp("throttled"), BLUEHILL_FIDELITY_THROTTLE="1",
                     BLUEHILL_FIDELITY_THROTTLE_OPERATIONS="Query,TransactWriteItems")
    try:
        yield stack
    finally:
        assert stack.stop() == 0, stack.output()


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """`make dev` as it starts with no switch set."""
    stack = _started(tmp_path_factory.mktemp("default"))
    try:
        yield stack
    finally:
        assert stack.stop() == 0, stack.output()


def test_the_banner_shows_the_active_switches(throttled: StackProcess, default: StackProcess) -> None:
    assert ("AWS fidelity: GSI lag 500 ms; throttling rate 1 (Query, TransactWriteItems only); "
            "transaction conflicts on") in throttled.output()
    assert "AWS fidelity: GSI lag 500 ms; throttling rate 0; transaction conflicts on" in default.output()


def test_a_throttled_table_answers_429_with_retry_after_over_http(throttled: StackProcess) -> None:
    admin = throttled.token("demo", "admin")
    listed = throttled.request("GET", "/customers", admin)
    assert listed.status == 429, listed.body
    assert int(listed.headers["Retry-After"]) > 0
    assert listed.headers["Content-Type"] == "application/problem+json"
    created = throttled.request("POST", "/customers", admin, {"name": "Never Written"})
    assert created.status == 429, created.body
    assert int(created.headers["Retry-After"]) > 0


def test_unthrottled_the_same_requests_succeed(default: StackProcess) -> None:
    admin = default.token("demo", "admin")
    assert default.request("GET", "/customers", admin).status == 200
    assert default.request("POST", "/customers", admin, {"name": "Written"}).status == 201


def test_an_item_just_written_is_not_yet_found_through_an_index(default: StackProcess) -> None:
    """The control that the GSI lag is on in `make dev`: a customer created is absent from the
    name search (GSI1) right after, and there once 500 ms have passed. DynamoDB Local alone
    shows it at once."""
    admin = default.token("demo", "admin")
    for attempt in range(3):  # a loaded machine may take the lag's length between two requests
        began = time.monotonic()
        created = default.request("POST", "/customers", admin, {"name": f"Lagging {attempt}"})
        assert created.status == 201, created.body
        found = default.request("GET", f"/customers?q=Lagging%20{attempt}", admin)
        if time.monotonic() - began < 0.4:
            break
    else:
        pytest.skip("the machine never sent two requests within 400 ms")
    assert found.status == 200, found.body
    assert found.body["items"] == []
    time.sleep(0.6)
    later = default.request("GET", f"/customers?q=Lagging%20{attempt}", admin)
    assert [item["id"] for item in later.body["items"]] == [created.body["id"]]
