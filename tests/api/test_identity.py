"""Who may call: the authorizer verifies the id token itself (RS256 against the pool's JWKS,
issuer, audience, expiry, token use) and then checks the user record. Each refusal below
changes exactly one thing in an otherwise genuine token, and the control test proves that the
unchanged token is accepted — so every 401 is caused by the change it names.

Deployed, API Gateway caches the authorizer's answer per token for AUTHORIZER_CACHE_SECONDS:
the tests of a deactivated or demoted user run with that cache (`gateway_cache`) and claim
what AWS does — the old answer stands until the cache expires, except for the actions that
re-ask the user check on every request (core.permissions.RECHECKED)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from chalicelib.core import auth, http
from chalicelib.core.settings import AUTHORIZER_CACHE_SECONDS
from cryptography.hazmat.primitives.asymmetric import rsa
from foundation_helpers import assert_problem
from moto.utilities.utils import load_resource

from bluehill_dev.harness_env import Api

Mint = Callable[..., str]


@pytest.fixture(scope="module")
def genuine_claims(acme: Any) -> dict[str, Any]:
    return jwt.decode(acme.tokens["member"], options={"verify_signature": False})


@pytest.fixture(scope="module")
def pool_key() -> dict[str, Any]:
    """The key moto's Cognito signs every token with: what the pool itself would sign."""
    return load_resource("moto.cognitoidp.responses", "resources/jwks-private.json")


@pytest.fixture(scope="module")
def mint(genuine_claims: dict[str, Any], pool_key: dict[str, Any]) -> Mint:
    pool_signer = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(pool_key))

    def sign(key: Any = pool_signer, algorithm: str = "RS256", kid: str = pool_key["kid"], **changes: Any) -> str:
        claims = {**genuine_claims, "iat": int(time.time()), "exp": int(time.time()) + 600, **changes}
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})

    return sign


def call(acme: Any, token: str | None, path: str = "/me") -> Any:
    return Api(acme.client, token).get(path)


def test_a_token_signed_by_the_pool_with_genuine_claims_is_accepted(acme: Any, mint: Mint) -> None:
    answer = call(acme, mint())
    assert answer.status == 200, answer.body
    assert answer.json["user"]["id"] == acme.users["member"]


def test_a_request_without_a_token_is_refused(acme: Any) -> None:
    assert_problem(call(acme, None), 401)
    assert_problem(Api(acme.client, None).request("GET", "/me", headers={"Authorization": ""}), 401)


@pytest.mark.parametrize("token", ["garbage", "Bearer", "a.b.c", "Basic dXNlcjpwYXNz"])
def test_a_malformed_token_is_refused(acme: Any, token: str) -> None:
    assert_problem(call(acme, token), 401)


def test_an_expired_token_is_refused(acme: Any, mint: Mint) -> None:
    assert_problem(call(acme, mint(exp=int(time.time()) - 5)), 401)


def test_a_token_without_an_expiry_is_refused(acme: Any, mint: Mint) -> None:
    assert_problem(call(acme, mint(exp=None)), 401)


def test_a_forged_token_signed_with_another_key_is_refused(acme: Any, mint: Mint) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_problem(call(acme, mint(key=forger)), 401)  # the pool's key id, someone else's signature
    assert_problem(call(acme, mint(key=forger, kid="forger-key")), 401)


def test_a_token_for_another_audience_is_refused(acme: Any, mint: Mint) -> None:
    assert_problem(call(acme, mint(aud="some-other-app-client")), 401)


def test_a_token_from_another_user_pool_is_refused(acme: Any, mint: Mint) -> None:
    assert_problem(call(acme, mint(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool")), 401)


def test_an_access_token_is_not_an_id_token(acme: Any, mint: Mint) -> None:
    assert_problem(call(acme, mint(token_use="access")), 401)


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
def test_unsigned_or_symmetric_tokens_are_refused(acme: Any, mint: Mint, pool_key: dict[str, Any],
                                                  algorithm: str) -> None:
    claims = jwt.decode(mint(), options={"verify_signature": False})
    # HS256 keyed with the public modulus: the classic confusion attack on RS256 verifiers
    key = None if algorithm == "none" else pool_key["n"]
    assert_problem(call(acme, jwt.encode(claims, key, algorithm=algorithm, headers={"kid": pool_key["kid"]})), 401)


@pytest.mark.parametrize(
    "changes",
    [
        {"custom:tenant_id": None},
        {"custom:role": "superuser"},
        {"custom:role": "portal", "custom:customer_id": ""},
        {"sub": None},
    ],
    ids=["no-tenant", "unknown-role", "portal-without-customer", "no-subject"],
)
def test_a_token_missing_the_claims_identity_rests_on_is_refused(acme: Any, mint: Mint,
                                                                 changes: dict[str, Any]) -> None:
    assert_problem(call(acme, mint(**changes)), 401)


def test_genuine_claims_that_disagree_with_the_user_record_are_refused(acme: Any, globex: Any, mint: Mint) -> None:
    assert_problem(call(acme, mint(**{"custom:role": "owner"})), 401)
    assert_problem(call(acme, mint(**{"custom:tenant_id": globex.tenant_id})), 401)
    assert_problem(call(acme, mint(sub="a-user-that-does-not-exist")), 401)


def test_health_needs_no_token(anonymous: Any, acme: Any) -> None:
    assert anonymous.get("/health").json == {"status": "ok"}
    assert call(acme, "garbage", "/health").status == 200


class GatewayCache:
    """API Gateway's cache of the authorizer's answers, keyed by the token, on a clock the test
    moves: an answer younger than AUTHORIZER_CACHE_SECONDS is served without asking again."""

    def __init__(self) -> None:
        self.now = 0.0
        self.answers: dict[str, tuple[float, Any]] = {}
        self.asked: Counter[str] = Counter()

    def authorize(self, auth_request: Any) -> Any:
        cached = self.answers.get(auth_request.token)
        if cached is not None and self.now - cached[0] < AUTHORIZER_CACHE_SECONDS:
            return cached[1]
        self.asked[auth_request.token] += 1
        answer = auth.authorize(auth_request)
        self.answers[auth_request.token] = (self.now, answer)
        return answer

    def wait(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def gateway_cache(monkeypatch: pytest.MonkeyPatch) -> GatewayCache:
    cache = GatewayCache()
    monkeypatch.setattr(http, "authorize", cache.authorize)
    return cache


def deactivate(tenant: Any, role: str) -> None:
    deactivated = tenant.as_("owner").patch(f"/users/{tenant.users[role]}", {"version": 1, "active": False})
    assert deactivated.status == 200, deactivated.body


def test_a_deactivated_user_keeps_access_only_until_the_authorizers_answer_expires(
        fresh_tenant: Any, gateway_cache: GatewayCache) -> None:
    readonly = fresh_tenant.as_("readonly")
    assert readonly.get("/customers").status == 200
    deactivate(fresh_tenant, "readonly")
    gateway_cache.wait(AUTHORIZER_CACHE_SECONDS - 1)
    assert readonly.get("/customers").status == 200  # what AWS does: the cached answer stands
    gateway_cache.wait(1)
    assert_problem(readonly.get("/customers"), 401)


def test_a_deactivated_user_with_a_valid_token_is_refused_when_the_authorizer_asks(fresh_tenant: Any) -> None:
    readonly = fresh_tenant.as_("readonly")
    assert readonly.get("/customers").status == 200
    deactivate(fresh_tenant, "readonly")
    assert_problem(readonly.get("/customers"), 401)


def test_a_demoted_admin_cannot_administer_users_on_the_cached_answer(
        fresh_tenant: Any, gateway_cache: GatewayCache) -> None:
    admin = fresh_tenant.as_("admin")
    assert admin.get("/users").status == 200
    demoted = fresh_tenant.as_("owner").patch(f"/users/{fresh_tenant.users['admin']}",
                                              {"version": 1, "role": "member"})
    assert demoted.status == 200, demoted.body
    assert admin.get("/users").status == 200  # a read rides on the cached answer, as in AWS
    assert_problem(admin.post("/users", {"email": "late@acme.example", "name": "Late", "role": "member"}), 401)
    # the refusal came from the route's own check: the authorizer was asked once, for the first read
    assert gateway_cache.asked[f"Bearer {fresh_tenant.tokens['admin']}"] == 1


def test_a_deactivated_owner_cannot_change_the_tenant_on_the_cached_answer(
        fresh_tenant: Any, gateway_cache: GatewayCache) -> None:
    owner = fresh_tenant.as_("owner")
    tenant = owner.get("/tenant")
    assert tenant.status == 200, tenant.body
    fresh_tenant.users["second"] = owner.post("/users", {"email": "second@owner.example", "name": "Second",
                                                         "role": "owner"}).json["id"]
    second = owner.patch(f"/users/{fresh_tenant.users['owner']}", {"version": 1, "active": False})
    assert second.status == 200, second.body
    assert_problem(owner.patch("/tenant", {"version": tenant.json["version"], "name": "Taken over"}), 401)


def test_an_unwired_user_check_refuses_every_token(acme: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert acme.as_("owner").get("/me").status == 200
    monkeypatch.setattr(auth, "_user_is_current", None)
    assert_problem(acme.as_("owner").get("/me"), 401)


def test_the_authorizer_declares_the_stated_cache_window() -> None:
    assert http.api_authorizer.config.ttl_seconds == AUTHORIZER_CACHE_SECONDS == 60
