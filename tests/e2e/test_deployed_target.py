"""The aws target's own machinery, end to end, against a moto server standing in for the AWS
account (no real account is reachable here): the stack found by DescribeStacks in the admin
hook's child process started with the caller's environment, its outputs turned into the
platform's settings, tenants provisioned through `create_tenant`/`invite_user` on the stack's
table and pool, users logged in through the app client's unsigned USER_PASSWORD_AUTH, and their
logins deleted by cleanup. Only the HTTP API is not part of it (a moto stack has none)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from moto.server import ThreadedMotoServer

from bluehill_dev import harness_env, resources
from bluehill_dev.targets import AdminFailed
from bluehill_dev.targets.deployed import DeployedTarget

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def account() -> Iterator[dict[str, str]]:
    """A moto server with the platform's resources and a `BlueHill` stack whose outputs name them."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    session = boto3.session.Session(region_name=resources.REGION, aws_access_key_id="stand-in",
                                    aws_secret_access_key="stand-in")
    made = resources.create_all(session, endpoint)
    env = made.environment(endpoint, f"{endpoint}/{made.user_pool_id}/.well-known/jwks.json")
    outputs = {"EndpointURL": "http://127.0.0.1:9/api/", "TableName": env["TABLE_NAME"],
               "IdempotencyTableName": env["IDEMPOTENCY_TABLE_NAME"], "EventBusName": env["EVENT_BUS_NAME"],
               "FilesBucketName": env["FILES_BUCKET"], "UserPoolId": made.user_pool_id,
               "UserPoolClientId": made.client_id, "JwksUrl": env["JWKS_URL"], "JwtIssuer": env["JWT_ISSUER"],
               "JwtAudience": env["JWT_AUDIENCE"]}
    template = {"Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()}}
    session.client("cloudformation", endpoint_url=endpoint).create_stack(StackName="BlueHill",
                                                                         TemplateBody=json.dumps(template))
    try:
        yield {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "stand-in", "AWS_SECRET_ACCESS_KEY": "stand-in",
               "AWS_DEFAULT_REGION": resources.REGION, "user_pool_id": made.user_pool_id}
    finally:
        server.stop()


@pytest.fixture
def caller(account: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The deployer's environment as the harness kept it, pointed at the stand-in account."""
    environment = {key: value for key, value in harness_env.CALLER_ENVIRONMENT.items()
                   if not key.startswith("AWS_")}
    environment.update({key: value for key, value in account.items() if key.startswith("AWS_")})
    monkeypatch.setattr(harness_env, "CALLER_ENVIRONMENT", environment)
    return account


def test_the_aws_target_provisions_logs_in_and_cleans_up_through_the_stacks_outputs(caller: dict[str, str]) -> None:
    target = DeployedTarget("BlueHill")
    target.start()
    assert (target.url, target.client_id) == ("http://127.0.0.1:9/api", target.deployed.client_id)

    (world,) = target.tenants(1, roles=("owner", "member", "portal"))
    assert world.tenant_id.startswith("e2e") and world.portal_customer_id
    claims: dict[str, Any] = jwt.decode(world.tokens["member"], options={"verify_signature": False})
    assert (claims["custom:tenant_id"], claims["custom:role"]) == (world.tenant_id, "member")
    assert claims["aud"] == target.client_id

    cognito = boto3.client("cognito-idp", endpoint_url=caller["AWS_ENDPOINT_URL"], region_name=resources.REGION,
                           aws_access_key_id="stand-in", aws_secret_access_key="stand-in")
    assert cognito.admin_get_user(UserPoolId=caller["user_pool_id"], Username=world.emails["portal"])
    target.stop()
    for email in world.emails.values():
        with pytest.raises(cognito.exceptions.UserNotFoundException):
            cognito.admin_get_user(UserPoolId=caller["user_pool_id"], Username=email)
    assert target.provisioned == []


def test_a_stack_that_is_not_there_stops_the_target_with_the_reason(caller: dict[str, str]) -> None:
    with pytest.raises(AdminFailed, match="cannot describe stack Nowhere"):
        DeployedTarget("Nowhere").start()
