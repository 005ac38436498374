"""The local gateway's fidelity switches: API Gateway's authorizer result cache, its 29 s
integration timeout and Lambda's 6 MB response limit — each fires when on and not when off.
A small app of its own (no AWS): the switches belong to the gateway, not to a room."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import AuthResponse, Chalice
from chalice.app import AuthRequest
from chalice.test import Client
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.settings import AUTHORIZER_CACHE_SECONDS

from bluehill_dev import local_gateway

app = Chalice(app_name="gateway-fidelity")
ROLES = {"alice": "admin"}
authorizer_calls: list[str] = []
finished = threading.Event()


@app.authorizer(ttl_seconds=AUTHORIZER_CACHE_SECONDS)
def token_roles(auth_request: AuthRequest) -> AuthResponse:
    authorizer_calls.append(auth_request.token)
    if auth_request.token not in ROLES:
        raise Unauthenticated("Unauthorized")
    return AuthResponse(routes=["*"], principal_id=auth_request.token,
                        context={"role": ROLES[auth_request.token]})


@app.route("/role", authorizer=token_roles)
def role() -> dict[str, str]:
    return {"role": app.current_request.context["authorizer"]["role"]}


@app.route("/slow")
def slow() -> dict[str, bool]:
    time.sleep(float(app.current_request.query_params["seconds"]))
    finished.set()
    return {"done": True}


@app.route("/big")
def big() -> dict[str, str]:
    return {"text": "x" * int(app.current_request.query_params["bytes"])}


@pytest.fixture
def client() -> Iterator[Client]:
    local_gateway.install(local_gateway.Fidelity(authorizer_cache_seconds=0))
    ROLES.clear()
    ROLES["alice"] = "admin"
    authorizer_calls.clear()
    finished.clear()
    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(local_gateway, "clock", lambda: now[0])
    return now


def _role(client: Client, token: str = "alice") -> Any:
    return client.http.get("/role", headers={"Authorization": token})


# ---------- the authorizer result cache ----------


def test_the_real_authorizer_declares_the_shared_ttl_and_the_gateway_caches_for_it() -> None:
    from app import app as real_app

    import bluehill_dev.harness_env  # noqa: F401  (offline settings before the app is imported)

    api_authorizer = real_app.routes["/customers"]["GET"].authorizer
    assert api_authorizer.config.ttl_seconds == AUTHORIZER_CACHE_SECONDS == 60
    with local_gateway.fidelity(authorizer_cache_seconds=None):
        assert local_gateway.authorizer_ttl(api_authorizer) == AUTHORIZER_CACHE_SECONDS


def test_without_the_cache_every_request_asks_the_authorizer(client: Client) -> None:
    assert _role(client).status_code == _role(client).status_code == 200
    assert authorizer_calls == ["alice", "alice"]


def test_with_the_cache_a_demoted_user_keeps_the_old_role_until_the_ttl_passes(
    client: Client, clock: list[float]
) -> None:
    with local_gateway.fidelity(authorizer_cache_seconds=None):
        assert _role(client).json_body == {"role": "admin"}
        ROLES["alice"] = "readonly"
        clock[0] += AUTHORIZER_CACHE_SECONDS - 1
        assert _role(client).json_body == {"role": "admin"}  # the cached answer, as API Gateway gives it
        assert authorizer_calls == ["alice"]
        clock[0] += 1
        assert _role(client).json_body == {"role": "readonly"}
        assert authorizer_calls == ["alice", "alice"]


def test_with_the_cache_a_deactivated_user_is_refused_only_after_the_ttl(client: Client, clock: list[float]) -> None:
    with local_gateway.fidelity(authorizer_cache_seconds=None):
        assert _role(client).status_code == 200
        del ROLES["alice"]
        assert _role(client).status_code == 200
        clock[0] += AUTHORIZER_CACHE_SECONDS
        refused = _role(client)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"] == "application/problem+json"


def test_a_refusal_is_not_cached(client: Client) -> None:
    with local_gateway.fidelity(authorizer_cache_seconds=None):
        assert _role(client, "mallory").status_code == 401
        ROLES["mallory"] = "member"
        assert _role(client, "mallory").json_body == {"role": "member"}
        assert authorizer_calls == ["mallory", "mallory"]


def test_the_cache_is_per_token(client: Client) -> None:
    ROLES["bob"] = "member"
    with local_gateway.fidelity(authorizer_cache_seconds=None):
        assert _role(client, "alice").json_body == {"role": "admin"}
        assert _role(client, "bob").json_body == {"role": "member"}
        assert authorizer_calls == ["alice", "bob"]


# ---------- the integration timeout ----------


def test_a_handler_slower_than_the_timeout_gets_a_504_problem_and_runs_on(client: Client) -> None:
    with local_gateway.fidelity(integration_timeout_seconds=0.2):
        late = client.http.get("/slow?seconds=0.6")
        assert late.status_code == 504
        assert late.headers["Content-Type"] == "application/problem+json"
        assert late.json_body["code"] == "gateway_timeout"
        assert not finished.is_set()
        assert finished.wait(5)  # as a Lambda invocation does after API Gateway answered


def test_with_the_timeout_off_a_slow_handler_answers(client: Client) -> None:
    with local_gateway.fidelity(integration_timeout_seconds=0):
        assert client.http.get("/slow?seconds=0.3").status_code == 200


def test_the_timeout_is_api_gateways_29_seconds_by_default() -> None:
    assert local_gateway.Fidelity().integration_timeout_seconds == 29


# ---------- the response size limit ----------


def test_a_response_over_lambdas_6_mb_gets_a_502_problem(client: Client) -> None:
    assert local_gateway.current().response_limit_bytes == 6_291_556
    too_big = client.http.get("/big?bytes=6291556")
    assert too_big.status_code == 502
    assert too_big.headers["Content-Type"] == "application/problem+json"
    assert too_big.json_body["code"] == "bad_gateway"
    assert client.http.get("/big?bytes=6200000").status_code == 200


def test_with_the_limit_off_a_big_response_passes(client: Client) -> None:
    with local_gateway.fidelity(response_limit_bytes=0):
        assert client.http.get("/big?bytes=6300000").status_code == 200


# ---------- the switches from the environment ----------


def test_the_environment_sets_each_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_gateway.Fidelity.from_environment(authorizer_cache=True).authorizer_cache_seconds is None
    assert local_gateway.Fidelity.from_environment(authorizer_cache=False).authorizer_cache_seconds == 0
    monkeypatch.setenv(local_gateway.AUTHORIZER_CACHE_VARIABLE, "0")
    monkeypatch.setenv(local_gateway.INTEGRATION_TIMEOUT_VARIABLE, "5")
    monkeypatch.setenv(local_gateway.RESPONSE_LIMIT_VARIABLE, "0")
    assert local_gateway.Fidelity.from_environment(authorizer_cache=True) == local_gateway.Fidelity(
        authorizer_cache_seconds=0, integration_timeout_seconds=5, response_limit_bytes=0)
