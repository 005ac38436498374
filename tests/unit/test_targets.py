"""The deployed-stack e2e target reads a stack's CloudFormation outputs into the API URL, the
user pool and the app's settings; here against a stubbed DescribeStacks answer (botocore's
Stubber), since no AWS account is reachable from the suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.stub import Stubber

from bluehill_dev.targets import HttpClient, select
from bluehill_dev.targets.deployed import (
    OUTPUT_SETTINGS,
    DeployedStack,
    DeployedTarget,
    StackUnusable,
    describe,
)
from bluehill_dev.targets.local import LocalTarget

REGION = "eu-west-1"
POOL = f"{REGION}_AbCdEf123"
OUTPUTS = {
    "EndpointURL": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/api/",
    "RestAPIId": "a1b2c3d4e5",
    "TableName": "BlueHill-DataTable1A2B3C-XYZ",
    "IdempotencyTableName": "BlueHill-DataIdempotency-XYZ",
    "EventBusName": "bluehill",
    "FilesBucketName": "bluehill-storagefiles-xyz",
    "InboundMailBucketName": "bluehill-storagemail-xyz",
    "InboundMailRuleSetName": "BlueHillRuleSet",
    "UserPoolId": POOL,
    "UserPoolClientId": "5p1i2nt3client",
    "JwksUrl": f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}/.well-known/jwks.json",
    "JwtIssuer": f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}",
    "JwtAudience": "5p1i2nt3client",
}


def _answer(outputs: dict[str, str], status: str = "UPDATE_COMPLETE") -> dict[str, Any]:
    return {"Stacks": [{
        "StackName": "BlueHill", "StackStatus": status, "CreationTime": "2026-12-01T10:00:00Z",
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
    }]}


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudformation", region_name=REGION)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_the_outputs_give_the_api_url_the_pool_and_the_settings(cloudformation: tuple[Any, Stubber],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    client, stub = cloudformation
    stub.add_response("describe_stacks", _answer(OUTPUTS), {"StackName": "BlueHill"})
    deployed = describe("BlueHill", client)
    assert (deployed.api_url, deployed.region) == ("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/api", REGION)
    assert (deployed.user_pool_id, deployed.client_id) == (POOL, "5p1i2nt3client")

    from chalicelib.core.settings import get_settings

    for name, value in deployed.environment().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert (settings.table_name, settings.idempotency_table_name) == (OUTPUTS["TableName"],
                                                                          OUTPUTS["IdempotencyTableName"])
        assert (settings.event_bus_name, settings.files_bucket) == ("bluehill", OUTPUTS["FilesBucketName"])
        assert (settings.user_pool_id, settings.jwks_url) == (POOL, OUTPUTS["JwksUrl"])
        assert (settings.jwt_issuer, settings.jwt_audience, settings.region) == (OUTPUTS["JwtIssuer"],
                                                                                 "5p1i2nt3client", REGION)
    finally:
        get_settings.cache_clear()


def test_every_settings_output_is_one_the_stack_declares() -> None:
    from pathlib import Path

    stack_source = (Path(__file__).parents[2] / "infra" / "bluehill_infra" / "stack.py").read_text()
    assert all(f'"{output}":' in stack_source for output in OUTPUT_SETTINGS)


def test_the_throwaway_cursor_key_is_never_the_same_twice() -> None:
    deployed = DeployedStack.from_outputs("BlueHill", REGION, OUTPUTS)
    assert deployed.environment()["CURSOR_SIGNING_KEY"] != deployed.environment()["CURSOR_SIGNING_KEY"]


@pytest.mark.parametrize("missing", ["EndpointURL", "UserPoolClientId", "TableName"])
def test_a_stack_without_an_output_the_suite_needs_is_refused_by_name(cloudformation: tuple[Any, Stubber],
                                                                      missing: str) -> None:
    client, stub = cloudformation
    stub.add_response("describe_stacks", _answer({k: v for k, v in OUTPUTS.items() if k != missing}))
    with pytest.raises(StackUnusable, match=missing):
        describe("BlueHill", client)


@pytest.mark.parametrize("status", ["UPDATE_IN_PROGRESS", "ROLLBACK_COMPLETE", "CREATE_FAILED"])
def test_a_stack_being_changed_or_failed_is_refused(cloudformation: tuple[Any, Stubber], status: str) -> None:
    client, stub = cloudformation
    stub.add_response("describe_stacks", _answer(OUTPUTS, status))
    with pytest.raises(StackUnusable, match=status):
        describe("BlueHill", client)


def test_a_stack_that_does_not_exist_is_refused(cloudformation: tuple[Any, Stubber]) -> None:
    client, stub = cloudformation
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id Nope does not exist", 400)
    with pytest.raises(StackUnusable, match="does not exist"):
        describe("Nope", client)


def test_the_target_is_chosen_by_option_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLUEHILL_TARGET", raising=False)
    assert isinstance(select(), LocalTarget)
    monkeypatch.setenv("BLUEHILL_TARGET", "aws")
    monkeypatch.setenv("BLUEHILL_STACK", "BlueHillStaging")
    chosen = select()
    assert isinstance(chosen, DeployedTarget) and chosen.stack_name == "BlueHillStaging"
    assert select("aws", "Other").stack_name == "Other"  # type: ignore[attr-defined]
    assert isinstance(select("local"), LocalTarget)
    with pytest.raises(ValueError, match="unknown target"):
        select("staging")


def test_the_deployed_target_logs_in_without_credentials_and_speaks_to_its_url() -> None:
    target = DeployedTarget("BlueHill")
    target.__dict__["deployed"] = DeployedStack.from_outputs("BlueHill", REGION, OUTPUTS)
    cognito = target.cognito()
    assert cognito.meta.region_name == REGION
    assert cognito.meta.config.signature_version is UNSIGNED  # USER_PASSWORD_AUTH is public
    client = target.client()
    assert isinstance(client, HttpClient) and client.base_url == OUTPUTS["EndpointURL"].rstrip("/")
    command, environment = target.admin_command()
    assert command[-3:] == ["aws", "--stack", "BlueHill"]
    assert environment.get("AWS_ACCESS_KEY_ID") != "testing"  # the caller's credentials, not the harness's fakes


def _token(expires_in: float) -> str:
    import time

    import jwt

    return jwt.encode({"exp": int(time.time() + expires_in)}, "a-test-key-of-at-least-32-bytes!", algorithm="HS256")


def test_a_worlds_token_is_minted_again_before_it_expires_and_not_before() -> None:
    """A session's tenants outlive Cognito's one-hour id tokens when the suite runs long."""
    from bluehill_dev.harness_env import TOKEN_RENEW_SECONDS, TenantWorld

    minted: list[str] = []
    fresh = _token(3600)
    world = TenantWorld(tenant_id="t", tokens={"owner": _token(3600), "member": _token(TOKEN_RENEW_SECONDS - 5)},
                        mint=lambda role: minted.append(role) or fresh)
    kept = world.tokens["owner"]
    assert world.token("owner") == kept and minted == []
    assert world.token("member") == fresh and minted == ["member"]
    assert world.tokens["member"] == fresh and world.token("member") == fresh and minted == ["member"]
