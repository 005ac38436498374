"""A deployed stack as a target, found by its CloudFormation outputs (`make e2e-aws STACK=BlueHill`).

The outputs the CDK stack declares (infra/bluehill_infra/stack.py) plus the API URL that
`chalice package` adds (`EndpointURL`) are all the suite needs: the API's URL, the user pool
and its app client for tokens, and the settings the admin hook points the platform's services
at to provision test tenants (table, idempotency table, bus, buckets, JWKS URL, issuer,
audience). Reading them needs `cloudformation:DescribeStacks`; provisioning needs what
`create_tenant` and `invite_user` do (DynamoDB writes on the table, Cognito admin calls on the
pool); cleanup needs `cognito-idp:AdminDeleteUser`. All of it runs in child processes started
with the caller's own environment (AWS_PROFILE or keys, AWS_REGION); logging in uses the app
client's public USER_PASSWORD_AUTH flow and no credentials."""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from bluehill_dev.targets import Target, admin_module

# CloudFormation output → the app's settings variable (chalicelib/core/settings.py).
OUTPUT_SETTINGS = {
    "TableName": "TABLE_NAME",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE_NAME",
    "EventBusName": "EVENT_BUS_NAME",
    "FilesBucketName": "FILES_BUCKET",
    "InboundMailBucketName": "INBOUND_MAIL_BUCKET",
    "MailDomain": "MAIL_DOMAIN",
    "UserPoolId": "USER_POOL_ID",
    "UserPoolClientId": "USER_POOL_CLIENT_ID",
    "JwksUrl": "JWKS_URL",
    "JwtIssuer": "JWT_ISSUER",
    "JwtAudience": "JWT_AUDIENCE",
}
API_URL_OUTPUT = "EndpointURL"  # chalice package's output: https://<id>.execute-api.<region>.<suffix>/<stage>/
REQUIRED_OUTPUTS = (API_URL_OUTPUT, "TableName", "IdempotencyTableName", "EventBusName", "UserPoolId",
                    "UserPoolClientId", "JwksUrl", "JwtIssuer", "JwtAudience")
# A stack in any other state is being changed, or failed: its outputs may not describe what runs.
USABLE_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


class StackUnusable(Exception):
    """The stack is missing, not in a usable state, or lacks an output the suite needs."""


@dataclass(frozen=True)
class DeployedStack:
    name: str
    region: str
    api_url: str
    user_pool_id: str
    client_id: str
    outputs: dict[str, str]

    @classmethod
    def from_outputs(cls, name: str, region: str, outputs: dict[str, str]) -> DeployedStack:
        missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
        if missing:
            raise StackUnusable(f"stack {name} has no output {', '.join(missing)}: is it a BlueHill stack?")
        return cls(name=name, region=region, api_url=outputs[API_URL_OUTPUT].rstrip("/"),
                   user_pool_id=outputs["UserPoolId"], client_id=outputs["UserPoolClientId"], outputs=dict(outputs))

    def environment(self) -> dict[str, str]:
        """The settings environment the platform's services need to act on this stack."""
        env = {variable: self.outputs[output] for output, variable in OUTPUT_SETTINGS.items() if output in self.outputs}
        # Provisioning signs no cursor, but the settings require a key: a throwaway one, never the stack's secret.
        env["CURSOR_SIGNING_KEY"] = secrets.token_urlsafe(32)
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.region
        return env

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The stack's outputs, key → value, from DescribeStacks."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as refused:
        raise StackUnusable(f"cannot describe stack {stack_name}: {refused}") from refused
    if not stacks:
        raise StackUnusable(f"no stack named {stack_name}")
    stack = stacks[0]
    if stack["StackStatus"] not in USABLE_STATUSES:
        raise StackUnusable(f"stack {stack_name} is {stack['StackStatus']}; wait for it, or deploy it again")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def describe(stack_name: str, cloudformation: Any = None) -> DeployedStack:
    """The deployed stack, through the caller's credentials and region."""
    if cloudformation is None:
        import boto3

        # botocore reads AWS_DEFAULT_REGION (or the profile's region) but not AWS_REGION: honour both.
        cloudformation = boto3.client("cloudformation", region_name=os.environ.get("AWS_REGION") or None)
    return DeployedStack.from_outputs(stack_name, cloudformation.meta.region_name,
                                      read_outputs(cloudformation, stack_name))


def caller_environment() -> dict[str, str]:
    """The environment the caller started the suite with: the harness swaps in fake, offline
    credentials on import, and keeps the original for this."""
    try:
        from bluehill_dev.harness_env import CALLER_ENVIRONMENT
    except ImportError:  # pragma: no cover - the harness always imports
        return dict(os.environ)
    return dict(CALLER_ENVIRONMENT)


class DeployedTarget(Target):
    name = "aws"
    local = False

    def __init__(self, stack_name: str) -> None:
        super().__init__()
        self.stack_name = stack_name

    @cached_property
    def deployed(self) -> DeployedStack:
        return DeployedStack(**self.admin("outputs"))

    @property
    def url(self) -> str:
        return self.deployed.api_url

    @property
    def client_id(self) -> str:
        return self.deployed.client_id

    def start(self) -> None:
        self.deployed  # noqa: B018  (fail at once, with the reason, if the stack cannot be used)

    def admin_command(self) -> tuple[list[str], dict[str, str]]:
        return [*admin_module(), "aws", "--stack", self.stack_name], caller_environment()

    def cognito(self) -> Any:
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        caller = caller_environment()  # an endpoint override of the caller's (a stand-in account) applies here too
        endpoint = caller.get("AWS_ENDPOINT_URL_COGNITO_IDP") or caller.get("AWS_ENDPOINT_URL") or None
        return boto3.client("cognito-idp", region_name=self.deployed.region, endpoint_url=endpoint,
                            config=Config(signature_version=UNSIGNED))
