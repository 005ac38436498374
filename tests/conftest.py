"""Shared fixtures: in-process moto as AWS, the app through chalice.test.Client, tenants with a
user per role. Every DynamoDB call in every test passes through the tenant guard.

The pieces themselves live in `bluehill_dev.harness_env` (the benchmark runs on them too);
importing it first sets the offline AWS environment before anything else runs."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from bluehill_dev import fidelity as aws_fidelity
from bluehill_dev import resources
from bluehill_dev.harness_env import (
    PASSWORD,
    ROLES,
    Api,
    Response,
    TenantWorld,
    build_tenant,
    in_process_aws,
    jwks_server,
    token_for,
)

# Jobs (202 Accepted) finish before their 202 is answered: a test polls a job that has run.
os.environ.setdefault("BLUEHILL_LOCAL_JOBS", "inline")
# Every tenant's DynamoDB calls are signed with its own STS session, as the stack configures
# the API (core.tenant_credentials); moto's STS issues them, in moto's one account.
os.environ.setdefault("TENANT_ROLE_ARN", "arn:aws:iam::123456789012:role/BlueHillTenantAccess")

__all__ = ["PASSWORD", "ROLES", "Api", "Response", "TenantWorld", "build_tenant", "token_for"]


@pytest.fixture(scope="session")
def jwks_url() -> Iterator[str]:
    with jwks_server() as url:
        yield url


@pytest.fixture(scope="session")
def aws(jwks_url: str) -> Iterator[resources.LocalResources]:
    with in_process_aws(jwks_url) as created:
        yield created


@pytest.fixture(autouse=True)
def fidelity(request: pytest.FixtureRequest) -> Iterator[aws_fidelity.Stats]:
    """The AWS-fidelity layer, on in every test at its defaults (bluehill_dev.fidelity.Settings),
    with the switches of the test's `@pytest.mark.fidelity(...)` marker; a test takes the
    fixture to read what the layer did, and `aws_fidelity.configured(...)` to switch mid-test.
    The throttle draws are seeded by the test's name, so a run repeats."""
    marker = request.node.get_closest_marker("fidelity")
    switches = dict(marker.kwargs) if marker else {}
    switches.setdefault("seed", zlib.crc32(request.node.nodeid.encode()))
    aws_fidelity.reset(**switches)
    yield aws_fidelity.stats()
    aws_fidelity.reset()


@pytest.fixture(scope="session")
def chalice_app(aws: resources.LocalResources) -> Any:
    from app import app

    return app


@pytest.fixture(scope="session")
def http(chalice_app: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(chalice_app) as client:
        yield client


@pytest.fixture(scope="session")
def acme(aws: resources.LocalResources, http: Any) -> TenantWorld:
    return build_tenant(aws, http)


@pytest.fixture(scope="session")
def globex(aws: resources.LocalResources, http: Any) -> TenantWorld:
    return build_tenant(aws, http)


@pytest.fixture
def fresh_tenant(aws: resources.LocalResources, http: Any) -> TenantWorld:
    return build_tenant(aws, http)


@pytest.fixture
def anonymous(http: Any) -> Api:
    return Api(http, None)


@pytest.fixture
def deliver(aws: resources.LocalResources) -> Any:
    """Deliver the events the test's requests committed to the registered consumers (through
    the relay on the table's stream, as the local stack does): `deliver()` returns what was
    delivered, each with its consumers' outcomes. Events from before the test are left out."""
    from bluehill_dev.harness_env import event_bus

    bus = event_bus()
    bus.reader.skip_to_end()
    return bus.drain
