"""The Chalice application (``functions/``) packaged into the stack, and the API around it.

``chalice package`` turns ``functions/`` into a SAM template that ``chalice.cdk.Chalice``
includes in the stack; this construct then, through the SAM template's escape hatches,

* runs every function on arm64 / python3.11 with the dependency layer (``layers/build``),
* logs every function to its own log group with a bounded retention,
* gives every function a role of our own, scoped resource by resource (no ``*``),
* maps API Gateway's own error responses to Problem Details, throttles every method and
  writes JSON access logs.

Chalice stays a plain Chalice project: the stage config comes from here, nothing is written
into ``functions/`` except Chalice's own (git-ignored) ``.chalice/deployments`` cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from chalicelib.core import schema
from chalicelib.core.gateway_responses import GATEWAY_RESPONSES, PROBLEM_CONTENT_TYPE, problem_body
from chalicelib.core.settings import (
    API_FUNCTION_TIMEOUT_SECONDS,
    API_GATEWAY_TIMEOUT_SECONDS,
    JOB_FUNCTION_TIMEOUT_SECONDS,
)
from chalicelib.core.tenant_credentials import FILE_ACTIONS, ITEM_ACTIONS, SESSION_SECONDS, TENANT_FILES_PREFIX
from constructs import Construct

from .data import Data
from .events import Events
from .identity import Identity
from .nag import acknowledge
from .storage import RAW_MAIL_PREFIX, Storage

# Portal sign-in links come from no-reply@<the inbound mail domain> (the SES identity verifies it).
PORTAL_SENDER_LOCALPART = "no-reply"

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
SAM_FUNCTION = "AWS::Serverless::Function"
REST_API_LOGICAL_ID = "RestAPI"  # chalice package's name for the AWS::Serverless::Api
LAYER_STAMP_FILE = ".requirements.sha256"  # written by layers/build_layer.py, not shipped
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
JOB_RETRIES = 2  # Lambda's default for asynchronous invokes, stated (chalicelib.jobs.service.MAX_ATTEMPTS = 3)

# One JSON object per request; no IP, user agent or body (no personal data in logs).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integration.latency",
        "integrationStatus": "$context.integration.status",
        "errorResponseType": "$context.error.responseType",
    },
    separators=(",", ":"),
)

# Extra headers on some gateway responses (values are API Gateway literals: single-quoted).
_EXTRA_GATEWAY_HEADERS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": "'Bearer'"},
    429: {"Retry-After": "'1'"},
}

_IDEMPOTENCY_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
]
# User administration by tenant owners/admins (invite, change role, disable, sign out).
_USER_ADMIN_ACTIONS = [
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminResetUserPassword",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminRespondToAuthChallenge",
]


@dataclass(frozen=True)
class ApiSettings:
    """Tunables of the API; the defaults are production's."""

    service_name: str = "bluehill"
    metrics_namespace: str = "BlueHill"
    memory_size: int = 512
    # Below API Gateway's 29 s integration limit (core.settings), so a request never keeps
    # writing after its client got a 504; longer work runs as a job on the job function.
    timeout_seconds: int = API_FUNCTION_TIMEOUT_SECONDS
    throttle_rate_limit: float = 50.0
    throttle_burst_limit: int = 100
    # Chalice function names (the Python names, e.g. "sla_sweep") that are system jobs: they
    # run under the system role (cross-tenant SYSDUE index, no user administration).
    system_functions: Sequence[str] = ()
    # Chalice authorizers (their names): they only read the table, to check that the token's
    # user is still active with the token's role, so they run under a read-only role.
    authorizer_functions: Sequence[str] = ("api_authorizer",)
    # The job function (chalicelib.jobs.runner): the API invokes it asynchronously for work
    # that can outlive a request (202 Accepted); it runs under the job role, for up to
    # JOB_FUNCTION_TIMEOUT_SECONDS, and Lambda retries a failed invocation JOB_RETRIES times.
    job_function: str = "job_runner"
    # The relay (the table's stream → the bus): its own role, fed by the stream's event source mapping.
    relay_function: str = "events_relay"
    relay_retry_attempts: int = 50
    # API Gateway needs an account-wide CloudWatch role to write access logs. Set False when
    # the account already has one (it is one setting per account and region).
    manage_account_logging_role: bool = True

    def __post_init__(self) -> None:
        if self.timeout_seconds >= API_GATEWAY_TIMEOUT_SECONDS:
            raise ValueError(f"the API function's timeout ({self.timeout_seconds} s) must be below API Gateway's "
                             f"{API_GATEWAY_TIMEOUT_SECONDS} s: longer work runs as a job")


def _logical_id(function_name: str) -> str:
    """The logical ID ``chalice package`` gives a function (``api_handler`` is the routes')."""
    return "APIHandler" if function_name == "api_handler" else to_cfn_resource_name(function_name)


def gateway_responses_property() -> dict[str, object]:
    """The SAM ``GatewayResponses`` property: every row of the shared table, as Problem Details."""
    responses: dict[str, object] = {}
    for response_type, response in GATEWAY_RESPONSES.items():
        headers = {"Content-Type": f"'{PROBLEM_CONTENT_TYPE}'", **_EXTRA_GATEWAY_HEADERS.get(response.status, {})}
        body = problem_body(response_type, request_id="$context.requestId")
        responses[response_type] = {
            "StatusCode": str(response.status),
            "ResponseParameters": {"Headers": headers},
            "ResponseTemplates": {"application/json": json.dumps(body, separators=(",", ":"))},
        }
    return responses


# `chalice package`, run in a child process: it imports functions/app.py and copies the stage's
# environment variables into os.environ, neither of which belongs in the synthesizing process.
_PACKAGE_SCRIPT = """
import json, sys
from chalice import api
args = json.loads(sys.argv[1])
api.package_app(args["project_dir"], args["output_dir"], args["stage"], chalice_config=args["config"])
"""


class _IsolatedChalice(Chalice):
    """``chalice.cdk.Chalice`` with ``chalice package`` run in a child process.

    The stage config may hold CDK tokens (``${Token[...]}`` strings); they pass through the SAM
    template unchanged and resolve when this process synthesizes the stack. Packaging needs a
    region only to spell the API Gateway service principal, and no network: the project's
    ``requirements.txt`` is empty, so Chalice installs nothing.
    """

    def __init__(self, scope: Construct, construct_id: str, *, packaging_region: str, **kwargs: object) -> None:
        self.packaging_region = packaging_region  # read by _package_app, called by __init__
        super().__init__(scope, construct_id, **kwargs)

    def _package_app(self) -> None:
        environment = dict(os.environ)
        if not (environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION")):
            environment["AWS_DEFAULT_REGION"] = self.packaging_region
        arguments = {
            "project_dir": self.source_dir,
            "output_dir": self._sam_package_dir,
            "stage": self.stage_name,
            "config": self.stage_config,
        }
        subprocess.run(
            [sys.executable, "-c", _PACKAGE_SCRIPT, json.dumps(arguments)],
            check=True,
            env=environment,
            stdout=subprocess.DEVNULL,
        )


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_dir: Path,
        layer_dir: Path,
        data: Data,
        storage: Storage,
        events: Events,
        identity: Identity,
        settings: ApiSettings | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings = settings or ApiSettings()
        self._data, self._storage, self._events, self._identity = data, storage, events, identity
        self._targets: dict[str, lambda_.IFunction] = {}
        self.access_logs: logs.LogGroup | None = None

        if not (layer_dir / "python").is_dir():
            raise FileNotFoundError(f"{layer_dir / 'python'} is missing: run `python layers/build_layer.py`")
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_dir), exclude=[LAYER_STAMP_FILE]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="BlueHill runtime dependencies (layers/requirements.txt)",
        )

        self.cursor_signing_key = self._signing_key(
            "CursorSigningKey",
            "HMAC key that tamper-proofs pagination cursors",
            "only invalidates outstanding pagination cursors (clients restart the listing)",
        )
        self.csat_signing_key = self._signing_key(
            "CsatSigningKey",
            "HMAC key that signs CSAT survey links",
            "only invalidates survey links not yet answered",
        )
        self.portal_session_key = self._signing_key(
            "PortalSessionKey",
            "HMAC key that signs portal sessions (a magic link exchanged)",
            "signs every portal user out who signed in with a magic link",
        )

        self.mail_token_key = self._signing_key(
            "MailTokenKey",
            "HMAC key that signs the ticket token in outbound mail's Reply-To",
            "only makes replies to earlier answers thread by their other headers (In-Reply-To, subject token)",
        )
        self.role = self._function_role("FunctionRole", "Request handlers (tenant-scoped work)")
        self.system_role = self._function_role("SystemJobRole", "System jobs (cross-tenant, narrow)")
        self.authorizer_role = self._function_role("AuthorizerRole", "API authorizer (read-only)")
        self.job_role = self._function_role("JobRole", "Jobs (202 Accepted work, tenant-scoped)")
        # The roles that serve tenants reach the table only through the tenant access role,
        # assumed per tenant with a LeadingKeys session policy (core.tenant_credentials).
        self.tenant_role = self._tenant_access_role(self.role, self.job_role)
        self.relay_role = self._function_role("RelayRole", "event relay (table stream to the bus)")
        self._grant_request_access(self.role)
        self._grant_common(self.job_role)
        self._grant_assume_tenant_role(self.job_role)
        self._grant_system_access(self.system_role)
        self._grant_authorizer_access(self.authorizer_role)
        self._grant_relay_access(self.relay_role)

        self.environment = self._environment()
        # The construct writes its packages to ./chalice.out: keep them in the cloud assembly.
        workdir = Path(cdk.Stage.of(self).outdir) / "chalice"
        workdir.mkdir(parents=True, exist_ok=True)
        with contextlib.chdir(workdir):
            self.chalice = _IsolatedChalice(
                self,
                "App",
                packaging_region=self._packaging_region(),
                source_dir=str(source_dir),
                stage_config=self._stage_config(),
            )

        self.function_log_groups: dict[str, logs.LogGroup] = {}
        roles_by_function = self._roles_by_function()
        for function in self.functions():
            logical_id = function.node.id  # CfnInclude names each child by its logical ID
            log_group = logs.LogGroup(
                self, f"{logical_id}Logs", retention=LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY
            )
            self.function_log_groups[logical_id] = log_group
            function.add_property_override("Runtime", RUNTIME.name)
            function.add_property_override("Architectures", [ARCHITECTURE.name])
            function.add_property_override("Layers", [self.layer.layer_version_arn])
            function.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
            # Chalice reads per-function settings only from .chalice/config.json, so the role
            # of a system job or authorizer is set here; every other function keeps `role`.
            role = roles_by_function.get(logical_id, self.role)
            function.add_property_override("Role", role.role_arn)
            if role in (self.role, self.job_role):
                function.add_property_override("Environment.Variables.TENANT_ROLE_ARN", self.tenant_role.role_arn)
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                )
            )

        self._wire_jobs()
        self.rest_api = self._configure_rest_api()
        self.relay_dead_letters, self.relay_mapping = self._relay_mapping()

    # -- Chalice ---------------------------------------------------------------------------

    def functions(self) -> list[cdk.CfnResource]:
        """Every ``AWS::Serverless::Function`` in the Chalice SAM template."""
        return [
            child
            for child in self.chalice.sam_template.node.children
            if isinstance(child, cdk.CfnResource) and child.cfn_resource_type == SAM_FUNCTION
        ]

    def function(self, name: str) -> lambda_.IFunction:
        """A Chalice function by its Python name (``api_handler`` for the routes), usable as a
        target: rules and schedules that invoke it get their ``lambda:InvokeFunction`` permission
        (``chalice.cdk``'s own ``get_function`` imports it from an ARN, where they would not)."""
        logical_id = _logical_id(name)
        if logical_id not in self._targets:
            arn = self.chalice.get_resource(logical_id).get_att("Arn").to_string()
            self._targets[logical_id] = lambda_.Function.from_function_attributes(
                self, f"{logical_id}Function", function_arn=arn, same_environment=True
            )
        return self._targets[logical_id]

    def _packaging_region(self) -> str:
        region = cdk.Stack.of(self).region
        return "us-east-1" if cdk.Token.is_unresolved(region) else region

    def _signing_key(self, construct_id: str, description: str, rotation_effect: str) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            construct_id,
            description=description,
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            f"The key is resolved into the functions' environment at deploy time; rotating it means "
            f"redeploying, which {rotation_effect}. There is no credential for a rotation Lambda to rotate.",
        )
        return secret

    def _environment(self) -> dict[str, str]:
        identity, storage = self._identity, self._storage
        environment = {
            "TABLE_NAME": self._data.table.table_name,
            "IDEMPOTENCY_TABLE_NAME": self._data.idempotency_table.table_name,
            "EVENT_BUS_NAME": self._events.bus.event_bus_name,
            "FILES_BUCKET": storage.files_bucket.bucket_name,
            "INBOUND_MAIL_BUCKET": storage.mail_bucket.bucket_name,
            "USER_POOL_ID": identity.user_pool.user_pool_id,
            "JWKS_URL": identity.jwks_url,
            "JWT_ISSUER": identity.issuer,
            "JWT_AUDIENCE": identity.audience,
            # A {{resolve:secretsmanager:...}} dynamic reference: CloudFormation resolves it at
            # deploy time, so the value is in neither the template nor the cloud assembly.
            "CURSOR_SIGNING_KEY": self.cursor_signing_key.secret_value.unsafe_unwrap(),
            "CSAT_SIGNING_KEY": self.csat_signing_key.secret_value.unsafe_unwrap(),
            "MAIL_DOMAIN": storage.mail_domain,
            "MAIL_TOKEN_KEY": self.mail_token_key.secret_value.unsafe_unwrap(),
            "PORTAL_SESSION_KEY": self.portal_session_key.secret_value.unsafe_unwrap(),
            "PORTAL_MAIL_FROM": f"{PORTAL_SENDER_LOCALPART}@{storage.mail_domain}",
        }
        missing = set(schema.ENVIRONMENT_VARIABLES) - environment.keys()
        if missing:
            raise ValueError(f"schema.ENVIRONMENT_VARIABLES not set by the stack: {sorted(missing)}")
        return {
            **environment,
            "POWERTOOLS_SERVICE_NAME": self.settings.service_name,
            "POWERTOOLS_METRICS_NAMESPACE": self.settings.metrics_namespace,
        }

    def _stage_config(self) -> dict[str, object]:
        return {
            "environment_variables": self.environment,
            "manage_iam_role": False,
            "iam_role_arn": self.role.role_arn,
            "lambda_architecture": ARCHITECTURE.name,
            "lambda_memory_size": self.settings.memory_size,
            "lambda_timeout": self.settings.timeout_seconds,
            "api_gateway_endpoint_type": "REGIONAL",
            "xray": False,
        }

    # -- IAM ---------------------------------------------------------------------------------

    def _function_role(self, construct_id: str, description: str) -> iam.Role:
        return iam.Role(
            self,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"BlueHill functions: {description}",
        )

    def _roles_by_function(self) -> dict[str, iam.Role]:
        """Logical ID of a Chalice function -> its role, for the functions not on ``role``."""
        roles = {_logical_id(name): self.system_role for name in self.settings.system_functions}
        roles.update({_logical_id(name): self.authorizer_role for name in self.settings.authorizer_functions})
        roles[_logical_id(self.settings.job_function)] = self.job_role
        roles[_logical_id(self.settings.relay_function)] = self.relay_role
        return roles

    def role_of(self, function_name: str) -> iam.Role:
        """The role a Chalice function (its Python name) runs as."""
        return self._roles_by_function().get(_logical_id(function_name), self.role)

    def _wire_jobs(self) -> None:
        """The API starts jobs by an asynchronous invoke of the job function (named in its
        environment), which may run far longer than a request; nothing else may invoke it."""
        job = self.chalice.get_resource(_logical_id(self.settings.job_function))
        job.add_property_override("Timeout", JOB_FUNCTION_TIMEOUT_SECONDS)
        self.chalice.get_resource(_logical_id("api_handler")).add_property_override(
            "Environment.Variables.JOB_FUNCTION_NAME", job.ref)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[job.get_att("Arn").to_string()]))
        lambda_.CfnEventInvokeConfig(self, "JobInvokeConfig", function_name=job.ref, qualifier="$LATEST",
                                     maximum_retry_attempts=JOB_RETRIES)

    def _tenant_access_role(self, *tenant_serving: iam.Role) -> iam.Role:
        """Items of the table and its tenant indexes (and files under tenants/), for the roles
        that serve tenants to assume — always with a session policy narrowing it to one
        tenant's keys; nothing else may assume it."""
        role = iam.Role(
            self,
            "TenantAccessRole",
            assumed_by=iam.CompositePrincipal(*(iam.ArnPrincipal(serving.role_arn) for serving in tenant_serving)),
            description="BlueHill: one tenant's items, assumed per tenant with a LeadingKeys session policy",
            max_session_duration=cdk.Duration.seconds(SESSION_SECONDS),
        )
        self._grant_table(role, index_arns=self._data.index_arns(include_system=False))
        files = self._storage.files_bucket.arn_for_objects(TENANT_FILES_PREFIX.format(tenant_id="*") + "*")
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(FILE_ACTIONS), resources=[files]))
        bucket_id = cdk.Stack.of(self).get_logical_id(self._storage.files_bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(role, f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/tenants/*/*]",
                    "Each session narrows this to tenants/<its tenant>/ (core.tenant_credentials.session_policy).")
        return role

    def _grant_assume_tenant_role(self, role: iam.Role) -> None:
        role.add_to_principal_policy(iam.PolicyStatement(actions=["sts:AssumeRole"],
                                                         resources=[self.tenant_role.role_arn]))

    def _grant_table(self, role: iam.Role, *, index_arns: list[str]) -> None:
        table = self._data.table
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(ITEM_ACTIONS), resources=[table.table_arn]))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["dynamodb:Query"], resources=index_arns))

    def _grant_common(self, role: iam.Role) -> None:
        """What every function role has besides the table: idempotency records, the bus, and
        S3 (not yet per tenant: no request path reads or writes files yet)."""
        data, storage = self._data, self._storage
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=_IDEMPOTENCY_ACTIONS, resources=[data.idempotency_table.table_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self._events.bus.event_bus_arn])
        )
        files_objects = storage.files_bucket.arn_for_objects("*")
        raw_mail = storage.mail_bucket.arn_for_objects(f"{RAW_MAIL_PREFIX}*")
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources=[files_objects])
        )
        role.add_to_principal_policy(
            # ListBucket lets a GetObject of a missing key answer 404 rather than 403.
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[storage.files_bucket.bucket_arn])
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[raw_mail]))
        stack = cdk.Stack.of(self)
        # Ticket replies go out from the tenants' addresses under the inbound domain (mail room).
        role.add_to_principal_policy(iam.PolicyStatement(actions=["ses:SendRawEmail"],
                                                         resources=[self._mail_identity_arn()]))
        reason = (
            "Object-level S3 actions must name objects: files are keyed per tenant at run time "
            "(any key in the files bucket); inbound mail is read only under raw/."
        )
        for bucket, objects in ((storage.files_bucket, "*"), (storage.mail_bucket, f"{RAW_MAIL_PREFIX}*")):
            bucket_id = stack.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
            acknowledge(role, f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{objects}]", reason)

    def _mail_identity_arn(self) -> str:
        """The stack's SES identity: the inbound mail domain, every address under it verified."""
        return cdk.Stack.of(self).format_arn(service="ses", resource="identity",
                                             resource_name=self._storage.mail_identity.email_identity_name)

    def _grant_request_access(self, role: iam.Role) -> None:
        """The table only through the tenant access role, plus user administration in the pool."""
        self._grant_common(role)
        # The portal's sign-in links (portal/mailer.py, SendEmail) from PORTAL_MAIL_FROM, an
        # address of the stack's SES identity: only request handlers ask for a link.
        role.add_to_principal_policy(iam.PolicyStatement(actions=["ses:SendEmail"],
                                                         resources=[self._mail_identity_arn()]))
        self._grant_assume_tenant_role(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=_USER_ADMIN_ACTIONS, resources=[self._identity.user_pool.user_pool_arn])
        )
        # The portal's host claims (chalicelib.portal.models.HostClaim): the one key outside every
        # tenant, read before the tenant is known and written in the system scope by its exact key.
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
            resources=[self._data.table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["PORTALHOST#*"]}},
        ))

    def _grant_authorizer_access(self, role: iam.Role) -> None:
        """Read the user's item (is the token's user still active, with that role?)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
                resources=[self._data.table.table_arn],
            )
        )

    def _grant_relay_access(self, role: iam.Role) -> None:
        """Read the table's stream, mark outbox items delivered, put events on the bus."""
        table = self._data.table
        table.grant_stream_read(role)
        role.add_to_principal_policy(iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[table.table_arn]))
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self._events.bus.event_bus_arn])
        )
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]", "dynamodb:ListStreams names no resource: it is "
                    "granted on * by Table.grant_stream_read; the stream's own actions name the stream.")

    def _relay_mapping(self) -> tuple[Any, lambda_.CfnEventSourceMapping | None]:
        """The relay's event source mapping on the table's stream: only new outbox items, a failed
        batch bisected and retried from the first record the relay reports failed
        (ReportBatchItemFailures); what still fails is described in the relay's DLQ (the outbox
        item stays, undelivered, in the table)."""
        from .events import dead_letter_queue, depth_alarm

        relay = self.chalice.sam_template.node.try_find_child(_logical_id(self.settings.relay_function))
        if not isinstance(relay, cdk.CfnResource):
            return None, None
        queue = dead_letter_queue(self, "RelayDeadLetters")
        depth_alarm(self, "RelayDeadLettersAlarm", queue, "the event relay")
        queue.grant_send_messages(self.relay_role)
        outbox_only = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": ["OutboxItem"]}}}}
        mapping = lambda_.CfnEventSourceMapping(
            self, "RelayStream", function_name=relay.ref, event_source_arn=self._data.table.table_stream_arn,
            starting_position="TRIM_HORIZON", batch_size=100, bisect_batch_on_function_error=True,
            maximum_retry_attempts=self.settings.relay_retry_attempts,
            function_response_types=["ReportBatchItemFailures"],
            filter_criteria={"filters": [{"pattern": json.dumps(outbox_only)}]},
            destination_config={"onFailure": {"destination": queue.queue_arn}},
        )
        mapping.node.add_dependency(self.relay_role)
        return queue, mapping

    def configure_consumer(self, function_name: str, dead_letters: Any) -> None:
        """A consumer's own retries (asynchronous invocation) end in its dead-letter queue."""
        function = self.chalice.get_resource(_logical_id(function_name))
        lambda_.CfnEventInvokeConfig(
            self, f"{_logical_id(function_name)}InvokeConfig",
            function_name=function.ref, qualifier="$LATEST", maximum_retry_attempts=2,
            destination_config={"onFailure": {"destination": dead_letters.queue_arn}},
        )

    def _grant_system_access(self, role: iam.Role) -> None:
        """The table directly, every index including the cross-tenant SYSDUE; no user administration."""
        self._grant_common(role)
        self._grant_table(role, index_arns=self._data.index_arns(include_system=True))

    # -- API Gateway -------------------------------------------------------------------------

    def _configure_rest_api(self) -> cdk.CfnResource | None:
        """Problem Details gateway responses, method throttling and access logs on the
        ``AWS::Serverless::Api`` (absent while the app has no routes)."""
        rest_api = self.chalice.sam_template.node.try_find_child(REST_API_LOGICAL_ID)
        if not isinstance(rest_api, cdk.CfnResource):
            return None
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        rest_api.add_property_override("GatewayResponses", gateway_responses_property())
        rest_api.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": self.settings.throttle_rate_limit,
                    "ThrottlingBurstLimit": self.settings.throttle_burst_limit,
                    "MetricsEnabled": True,
                }
            ],
        )
        # API Gateway wants the log group's ARN without the trailing ":*" of its Arn attribute.
        destination = cdk.Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=self.access_logs.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        rest_api.add_property_override("AccessLogSetting", {"DestinationArn": destination, "Format": ACCESS_LOG_FORMAT})
        if self.settings.manage_account_logging_role:
            rest_api.node.add_dependency(self._account_logging_role())
        return rest_api

    def _account_logging_role(self) -> apigateway.CfnAccount:
        role = iam.Role(
            self,
            "ApiGatewayCloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        # The account setting outlives this stack; keep the role it points to.
        role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-wide CloudWatch role: the AWS-managed "
            "AmazonAPIGatewayPushToCloudWatchLogs policy is the documented one, and only the API "
            "Gateway service can assume the role.",
        )
        account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return account
