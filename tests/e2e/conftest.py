"""The e2e suite's target: the local stack (default) or a deployed stack.

    pytest tests/e2e                                   # the local stack, started per session
    pytest tests/e2e --target=aws --stack=BlueHill     # a deployed stack (make e2e-aws STACK=...)

`BLUEHILL_TARGET` and `BLUEHILL_STACK` do the same as the options. Tests that need the local
stack's insides (restarts, dev-reset, the seed, DynamoDB Local) are marked `local_only` and
skipped, with the reason, against a deployed stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bluehill_dev.harness_env import Api, TenantWorld
from bluehill_dev.stack_process import StackFailed
from bluehill_dev.targets import STACK_VARIABLE, TARGET_VARIABLE, AdminFailed, Target, chosen, select
from bluehill_dev.targets.deployed import StackUnusable


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bluehill e2e")
    group.addoption("--target", choices=("local", "aws"), default=None,
                    help=f"where the e2e tests run (default: ${TARGET_VARIABLE} or local)")
    group.addoption("--stack", default=None, help=f"the deployed stack's name for --target=aws (default: "
                                                  f"${STACK_VARIABLE} or BlueHill)")
    group.addoption("--matrix", choices=("sample", "full"), default=None,
                    help="the route matrix's role cases: sampled or all (default: $BLUEHILL_MATRIX, else "
                         "full against aws and sample against the local stack)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "local_only(reason): needs the local stack's insides; skipped against aws")


def target_name(config: pytest.Config) -> str:
    return chosen(config.getoption("--target"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if target_name(config) == "local":
        return
    for item in items:
        marker = item.get_closest_marker("local_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "needs the local stack"
            item.add_marker(pytest.mark.skip(reason=f"local stack only: {reason}"))


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[Target]:
    chosen = select(target_name(pytestconfig), pytestconfig.getoption("--stack"))
    try:
        chosen.start()
        yield chosen
    except (StackFailed, StackUnusable, AdminFailed) as cannot:
        if chosen.local:
            pytest.fail(f"the {chosen.name} target cannot be used: {cannot}")
        # A deployed stack that cannot be reached fails every test the same way: say it once.
        pytest.exit(f"the {chosen.name} target (stack {getattr(chosen, 'stack_name', '?')}) cannot be used: {cannot}",
                    returncode=1)
    finally:
        chosen.stop()


@pytest.fixture(scope="session")
def tenant_pair(target: Target) -> tuple[TenantWorld, TenantWorld]:
    """Two tenants with a user per role, made on the target for this session."""
    first, second = target.tenants(2)
    return first, second


@pytest.fixture(scope="session")
def acme(tenant_pair: tuple[TenantWorld, TenantWorld]) -> TenantWorld:
    return tenant_pair[0]


@pytest.fixture(scope="session")
def globex(tenant_pair: tuple[TenantWorld, TenantWorld]) -> TenantWorld:
    return tenant_pair[1]


@pytest.fixture
def anonymous(target: Target) -> Api:
    return Api(target.client(), None)
