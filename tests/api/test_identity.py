"""Who may call: the authorizer verifies the id token itself (RS256 against the pool's JWKS,
issuer, audience, expiry, token use) and then checks the user record. Each refusal below
changes exactly one thing in an otherwise genuine token, and the control test proves that the
unchanged token is accepted — so every 401 is caused by the change it names."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
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


def test_a_deactivated_user_with_a_valid_token_is_refused(fresh_tenant: Any) -> None:
    readonly = fresh_tenant.as_("readonly")
    assert readonly.get("/customers").status == 200
    owner = fresh_tenant.as_("owner")
    deactivated = owner.patch(f"/users/{fresh_tenant.users['readonly']}", {"version": 1, "active": False})
    assert deactivated.status == 200, deactivated.body
    assert_problem(readonly.get("/customers"), 401)
