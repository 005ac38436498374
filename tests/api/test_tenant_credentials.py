"""Two layers of isolation, the second at work: with TENANT_ROLE_ARN set (as the stack sets it
on the functions that serve tenants), every DynamoDB call made for a tenant is signed with that
tenant's session (STS AssumeRole with the LeadingKeys session policy), cached per tenant per
container, chosen per call by the scope — so concurrent requests of two tenants in one process
never sign with each other's credentials. moto does not enforce the policy itself (see
tests/unit/test_session_policy.py and tests/infra for what IAM will enforce)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chalicelib.core import tenant_credentials
from chalicelib.core.scope import current_scope, system_scope, tenant_scope
from chalicelib.core.tenant_guard import on_every_client
from chalicelib.customers.models import Customer, customers_pk
from chalicelib.team import service as team

from bluehill_dev.harness_env import build_tenant

ROLE = "arn:aws:iam::123456789012:role/BlueHillTenantAccess"  # moto's account: the same table


@dataclass
class Signatures:
    """(scope, access key, operation) of each DynamoDB call while recording."""

    on: bool = False
    calls: list[tuple[str | None, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, model: Any, request_signer: Any, **_: Any) -> None:
        if self.on:
            with self.lock:
                self.calls.append((current_scope(), request_signer._credentials.access_key, model.name))


SIGNATURES = Signatures()
on_every_client(lambda client: client.meta.service_model.service_name == "dynamodb"
                and client.meta.events.register("before-call.dynamodb", SIGNATURES.record))


@dataclass
class Sessions:
    """What STS was asked and how calls were signed. The in-process relay may deliver other
    tenants' events (their consumers assume their own sessions) while a test runs: a test
    looks at its own tenants' sessions (`of`)."""

    all_assumed: list[dict[str, Any]]
    signatures: Signatures

    def of(self, *tenants: Any) -> list[dict[str, Any]]:
        names = {f"tenant-{tenant.tenant_id}" for tenant in tenants}
        return [call for call in self.all_assumed if call["RoleSessionName"] in names]

    def key_of(self, tenant_id: str) -> str:
        return tenant_credentials._cache[tenant_id].access_key_id


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sessions]:
    monkeypatch.setenv("TENANT_ROLE_ARN", ROLE)
    tenant_credentials.forget_all()
    sts, assumed = tenant_credentials._sts(), []

    class RecordingSts:
        def assume_role(self, **request: Any) -> Any:
            assumed.append(request)
            return sts.assume_role(**request)

    monkeypatch.setattr(tenant_credentials, "_sts", RecordingSts)
    SIGNATURES.calls.clear()
    SIGNATURES.on = True
    try:
        yield Sessions(assumed, SIGNATURES)
    finally:
        SIGNATURES.on = False
        tenant_credentials.forget_all()


def tenant_calls(sessions: Sessions, tenant_id: str) -> list[tuple[str | None, str, str]]:
    return [call for call in sessions.signatures.calls if call[0] == tenant_id]


def test_a_tenants_requests_are_signed_with_its_own_session_assumed_once(
        aws: Any, http: Any, sessions: Sessions) -> None:
    tenant = build_tenant(aws, http, roles=("owner",))
    owner = tenant.as_("owner")
    assert owner.get("/customers").status == 200
    assert [(call["RoleArn"], call["RoleSessionName"]) for call in sessions.of(tenant)] == [
        (ROLE, f"tenant-{tenant.tenant_id}")]
    policy = json.loads(sessions.of(tenant)[0]["Policy"])
    assert policy["Statement"][0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == [
        f"T#{tenant.tenant_id}#*"]
    assert owner.post("/customers", {"name": "Signed Co"}).status == 201  # a transaction
    assert owner.get("/me").status == 200  # a BatchGetItem (core.table.read_items)
    assert len(sessions.of(tenant)) == 1  # warm: no STS call
    signed = tenant_calls(sessions, tenant.tenant_id)
    assert {operation for _, _, operation in signed} >= {"GetItem", "Query", "TransactWriteItems", "BatchGetItem"}
    assert {key for _, key, _ in signed} == {sessions.key_of(tenant.tenant_id)}


def test_two_tenants_get_two_sessions_and_never_each_others(aws: Any, http: Any, sessions: Sessions) -> None:
    first, second = (build_tenant(aws, http, roles=("owner",)) for _ in range(2))
    for tenant in (first, second, first, second):
        assert tenant.as_("owner").get("/customers").status == 200
    assert sorted(call["RoleSessionName"] for call in sessions.of(first, second)) == sorted(
        f"tenant-{tenant.tenant_id}" for tenant in (first, second))
    keys = {tenant.tenant_id: sessions.key_of(tenant.tenant_id) for tenant in (first, second)}
    assert len(set(keys.values())) == 2
    for tenant_id, key in keys.items():
        assert {signed_key for _, signed_key, _ in tenant_calls(sessions, tenant_id)} == {key}


def test_concurrent_calls_of_two_tenants_in_one_process_each_sign_with_their_own(
        aws: Any, http: Any, sessions: Sessions) -> None:
    """chalice local and the job threads serve tenants concurrently in one process."""
    tenants = [build_tenant(aws, http, roles=("owner",)) for _ in range(2)]
    start = threading.Barrier(16)

    def work(tenant: Any) -> None:
        principal = tenant.principal("owner")
        start.wait()
        with tenant_scope(tenant.tenant_id):
            for _ in range(5):
                assert team.user_is_current(principal)
                list(Customer.by_name.query(customers_pk(tenant.tenant_id, "active"), limit=1))

    threads = [threading.Thread(target=work, args=(tenants[n % 2],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for tenant in tenants:
        signed = tenant_calls(sessions, tenant.tenant_id)
        assert len(signed) >= 8 * 10
        assert {key for _, key, _ in signed} == {sessions.key_of(tenant.tenant_id)}
    assert len(sessions.of(*tenants)) == 2  # one per tenant, however many threads asked at once


def test_the_system_scope_signs_with_the_functions_own_credentials(sessions: Sessions) -> None:
    with system_scope(), pytest.raises(Customer.DoesNotExist):
        Customer.get("T#nobody#CUSTOMER#x", "CUSTOMER")
    own = boto3.Session().get_credentials().access_key
    assert [(scope, key) for scope, key, _ in sessions.signatures.calls if scope == "__system__"] == [
        ("__system__", own)]


def test_a_session_near_its_end_is_renewed_before_use(aws: Any, http: Any, sessions: Sessions) -> None:
    tenant = build_tenant(aws, http, roles=("owner",))
    assert tenant.as_("owner").get("/customers").status == 200
    issued = tenant_credentials._cache[tenant.tenant_id]
    tenant_credentials._cache[tenant.tenant_id] = tenant_credentials.TenantCredentials(
        issued.tenant_id, issued.access_key_id, issued.secret_access_key, issued.session_token,
        expires_at=issued.expires_at - tenant_credentials.SESSION_SECONDS + 60)
    assert tenant.as_("owner").get("/customers").status == 200
    assert len(sessions.of(tenant)) == 2
    assert tenant_calls(sessions, tenant.tenant_id)[-1][1] == sessions.key_of(tenant.tenant_id) != issued.access_key_id
