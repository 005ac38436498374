"""The synthesized BlueHill stack, read the way a deployer or reviewer would read it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match
from cfnlint.api import lint_file
from chalicelib.core import schema
from chalicelib.core.gateway_responses import GATEWAY_RESPONSES, PROBLEM_CONTENT_TYPE
from chalicelib.core.settings import (
    API_GATEWAY_TIMEOUT_SECONDS,
    AUTHORIZER_CACHE_SECONDS,
    JOB_FUNCTION_TIMEOUT_SECONDS,
)
from chalicelib.core.tenant_credentials import ITEM_ACTIONS, SESSION_SECONDS
from infra_synth import Synth

# --------------------------------------------------------------------------------- helpers


def _only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def _table(synth: Synth) -> dict[str, Any]:
    return synth.template_json["Resources"][synth.logical_id(synth.stack.data.table)]["Properties"]


def _idempotency_table(synth: Synth) -> dict[str, Any]:
    table = synth.stack.data.idempotency_table
    return synth.template_json["Resources"][synth.logical_id(table)]["Properties"]


def _functions(synth: Synth) -> dict[str, dict[str, Any]]:
    functions = {
        **synth.resources("AWS::Serverless::Function"),
        **synth.resources("AWS::Lambda::Function"),
    }
    assert functions, "the stack has no functions"
    return functions


def _references(value: Any) -> set[str]:
    """Logical IDs that an intrinsic (Ref / GetAtt, nested anywhere) points at."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= _references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(synth: Synth, role_logical_id: str) -> list[dict[str, Any]]:
    """Every policy statement that applies to the role: inline, attached policies, managed."""
    role = synth.template_json["Resources"][role_logical_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), "function roles use no managed policies"
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"].get("Roles", []):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _function_roles(synth: Synth) -> dict[str, str]:
    """Function logical ID -> logical ID of the role it runs as."""
    roles = {}
    for logical_id, function in _functions(synth).items():
        (role,) = _references(function["Properties"]["Role"])
        roles[logical_id] = role
    return roles


def _api_role(synth: Synth) -> str:
    return _function_roles(synth)["APIHandler"]


def _gateway_responses(synth: Synth) -> dict[str, Any]:
    return synth.template_json["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]


def _bucket_policy(synth: Synth, bucket_logical_id: str) -> list[dict[str, Any]]:
    for policy in synth.resources("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": bucket_logical_id}:
            return policy["Properties"]["PolicyDocument"]["Statement"]
    raise AssertionError(f"{bucket_logical_id} has no bucket policy")


# ----------------------------------------------------------------------------------- table


def test_table_keys_come_from_the_schema(synth: Synth) -> None:
    table = _table(synth)
    assert table["KeySchema"] == [
        {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        name: "S" for name in schema.key_attribute_names()
    }


def test_table_indexes_match_the_schema_with_all_attributes_projected(synth: Synth) -> None:
    indexes = {index["IndexName"]: index for index in _table(synth)["GlobalSecondaryIndexes"]}
    assert set(indexes) == {index.name for index in schema.ALL_INDEXES}
    for definition in schema.ALL_INDEXES:
        index = indexes[definition.name]
        assert index["KeySchema"] == [
            {"AttributeName": definition.partition_key, "KeyType": "HASH"},
            {"AttributeName": definition.sort_key, "KeyType": "RANGE"},
        ]
        assert index["Projection"] == {"ProjectionType": "ALL"}


def test_table_has_point_in_time_recovery(synth: Synth) -> None:
    spec = _table(synth)["PointInTimeRecoverySpecification"]
    assert spec["PointInTimeRecoveryEnabled"] is True


def test_table_is_encrypted_at_rest(synth: Synth) -> None:
    assert _table(synth)["SSESpecification"]["SSEEnabled"] is True


def test_table_expires_items_by_their_expires_at_attribute(synth: Synth) -> None:
    assert _table(synth)["TimeToLiveSpecification"] == {
        "AttributeName": schema.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_table_is_protected_from_deletion(synth: Synth) -> None:
    logical_id = synth.logical_id(synth.stack.data.table)
    resource = synth.template_json["Resources"][logical_id]
    assert resource["Properties"]["DeletionProtectionEnabled"] is True
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_table_is_billed_per_request(synth: Synth) -> None:
    assert _table(synth)["BillingMode"] == "PAY_PER_REQUEST"


def test_idempotency_table_is_keyed_by_id_and_expires_records(synth: Synth) -> None:
    table = _idempotency_table(synth)
    assert table["KeySchema"] == [{"AttributeName": schema.IDEMPOTENCY_PARTITION_KEY, "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


# ------------------------------------------------------------------------------- functions


def test_every_function_runs_python311_on_arm64(synth: Synth) -> None:
    functions = _functions(synth)
    assert {"APIHandler", "ApiAuthorizer"} <= set(functions)
    for logical_id, function in functions.items():
        assert function["Properties"]["Runtime"] == "python3.11", logical_id
        assert function["Properties"]["Architectures"] == ["arm64"], logical_id


def test_every_function_has_the_dependency_layer(synth: Synth) -> None:
    layer_id = synth.stack.get_logical_id(synth.stack.api.layer.node.default_child)
    for logical_id, function in _functions(synth).items():
        assert function["Properties"]["Layers"] == [{"Ref": layer_id}], logical_id


def test_dependency_layer_is_built_for_arm64_python311(synth: Synth) -> None:
    _, layer = _only(synth.resources("AWS::Lambda::LayerVersion"))
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    layer_dir = synth.outdir / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    site_packages = layer_dir / "python"
    assert (site_packages / "pynamodb").is_dir()
    assert (site_packages / "aws_lambda_powertools").is_dir()
    native = [path.name for path in site_packages.glob("pydantic_core/*.so")]
    assert native and all("aarch64" in name for name in native), native


def test_function_package_holds_only_the_app_code(synth: Synth) -> None:
    """Dependencies ship in the layer: the function zip is the app (app.py, chalicelib/) and
    Chalice's own small runtime module (chalice/), nothing from site-packages."""
    code_uri = synth.template_json["Resources"]["APIHandler"]["Properties"]["CodeUri"]
    with zipfile.ZipFile(synth.outdir / f"asset.{code_uri['Key']}") as package:
        names = package.namelist()
    assert "app.py" in names
    assert all(name == "app.py" or name.startswith(("chalicelib/", "chalice/")) for name in names), sorted(
        {name.split("/")[0] for name in names}
    )


def test_every_function_gets_every_setting_the_app_reads(synth: Synth) -> None:
    for logical_id, function in _functions(synth).items():
        variables = function["Properties"]["Environment"]["Variables"]
        missing = {*schema.ENVIRONMENT_VARIABLES, "POWERTOOLS_SERVICE_NAME"} - set(variables)
        assert not missing, (logical_id, missing)


@pytest.mark.parametrize(("variable", "attribute"), [("CURSOR_SIGNING_KEY", "cursor_signing_key"),
                                                     ("CSAT_SIGNING_KEY", "csat_signing_key"),
                                                     ("PORTAL_SESSION_KEY", "portal_session_key")])
def test_signing_keys_are_resolved_from_secrets_manager_at_deploy_time(synth: Synth, variable: str,
                                                                       attribute: str) -> None:
    secret_id = synth.logical_id(getattr(synth.stack.api, attribute))
    value = synth.template_json["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"][variable]
    assert value == {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"]]}
    secret = synth.resources("AWS::SecretsManager::Secret")[secret_id]
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 64


def test_the_sla_sweep_runs_every_minute_under_the_system_role(synth: Synth) -> None:
    """Chalice packages `@bp.schedule` as a SAM Schedule event (an EventBridge rule at deploy)."""
    sweep = next(f for f in _functions(synth).values() if f["Properties"]["Handler"].endswith(".sla_sweep"))
    schedules = [e["Properties"]["Schedule"] for e in sweep["Properties"]["Events"].values() if e["Type"] == "Schedule"]
    assert schedules == ["rate(1 minute)"]
    system_role = synth.logical_id(synth.stack.api.system_role)
    assert sweep["Properties"]["Role"] == {"Fn::GetAtt": [system_role, "Arn"]}


def test_the_api_function_stops_before_api_gateway_gives_up(synth: Synth) -> None:
    timeout = synth.template_json["Resources"]["APIHandler"]["Properties"]["Timeout"]
    assert timeout < API_GATEWAY_TIMEOUT_SECONDS == 29


def test_the_api_function_cannot_be_configured_past_api_gateways_limit() -> None:
    from bluehill_infra.api import ApiSettings

    with pytest.raises(ValueError, match="below API Gateway"):
        ApiSettings(timeout_seconds=30)


def test_api_gateway_caches_the_authorizers_answer_for_the_stated_window(synth: Synth) -> None:
    definition = synth.template_json["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = definition["securityDefinitions"]["api_authorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["authorizerResultTtlInSeconds"] == AUTHORIZER_CACHE_SECONDS == 60


def test_long_work_runs_on_the_job_function_which_only_the_api_may_invoke(synth: Synth) -> None:
    resources = synth.template_json["Resources"]
    job = resources["JobRunner"]["Properties"]
    assert job["Handler"] == "chalicelib.jobs.runner.job_runner"
    assert job["Timeout"] == JOB_FUNCTION_TIMEOUT_SECONDS > API_GATEWAY_TIMEOUT_SECONDS
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"]["JOB_FUNCTION_NAME"] == {
        "Ref": "JobRunner"}
    invokers = {role for role in set(_function_roles(synth).values()) for statement in _role_statements(synth, role)
                if "lambda:InvokeFunction" in _as_list(statement["Action"])}
    assert invokers == {_api_role(synth)}
    (invoke,) = [statement for statement in _role_statements(synth, _api_role(synth))
                 if "lambda:InvokeFunction" in _as_list(statement["Action"])]
    assert invoke["Resource"] == {"Fn::GetAtt": ["JobRunner", "Arn"]}
    (config,) = [config for config in synth.resources("AWS::Lambda::EventInvokeConfig").values()
                 if config["Properties"]["FunctionName"] == {"Ref": "JobRunner"}]
    assert config["Properties"]["MaximumRetryAttempts"] == 2


def test_the_job_function_has_its_own_role_without_user_administration(synth: Synth) -> None:
    job_role = _function_roles(synth)["JobRunner"]
    assert job_role not in {_api_role(synth), _function_roles(synth)["ApiAuthorizer"]}
    actions = {action for statement in _role_statements(synth, job_role) for action in _as_list(statement["Action"])}
    assert not any(action.startswith(("cognito-idp:", "lambda:")) for action in actions), actions
    resources = json.dumps([s["Resource"] for s in _role_statements(synth, job_role)])
    assert f"/index/{schema.SYSTEM_DUE_INDEX.name}" not in resources


def test_token_settings_point_at_the_user_pool(synth: Synth) -> None:
    pool_id = synth.logical_id(synth.stack.identity.user_pool)
    client_id = synth.logical_id(synth.stack.identity.client)
    variables = synth.template_json["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    issuer = [
        "https://cognito-idp.",
        {"Ref": "AWS::Region"},
        ".amazonaws.com/",
        {"Ref": pool_id},
    ]
    assert variables["JWT_ISSUER"] == {"Fn::Join": ["", issuer]}
    assert variables["JWKS_URL"] == {"Fn::Join": ["", [*issuer, "/.well-known/jwks.json"]]}
    assert variables["JWT_AUDIENCE"] == {"Ref": client_id}
    assert variables["USER_POOL_ID"] == {"Ref": pool_id}


def test_every_function_logs_to_its_own_log_group_with_a_retention(synth: Synth) -> None:
    log_groups = synth.resources("AWS::Logs::LogGroup")
    used = []
    for logical_id, function in _functions(synth).items():
        (log_group,) = _references(function["Properties"]["LoggingConfig"]["LogGroup"])
        assert log_groups[log_group]["Properties"]["RetentionInDays"] > 0, logical_id
        used.append(log_group)
    assert len(used) == len(set(used))


# --------------------------------------------------------------------------------------- IAM


# Actions IAM cannot scope to a resource: granted on "*" alone, and only these.
RESOURCELESS_ACTIONS = {"dynamodb:ListStreams"}  # the relay's stream event source mapping


def _scoped(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if not set(_as_list(s["Action"])) <= RESOURCELESS_ACTIONS]


def test_no_function_role_grants_anything_on_every_resource(synth: Synth) -> None:
    for role in set(_function_roles(synth).values()):
        statements = _role_statements(synth, role)
        assert statements, role
        for statement in _scoped(statements):
            assert statement["Effect"] == "Allow"
            resources = _as_list(statement["Resource"])
            assert "*" not in resources, (role, statement)
            for action in _as_list(statement["Action"]):
                assert "*" not in action, (role, statement)


def test_function_roles_only_reach_this_stacks_resources(synth: Synth) -> None:
    """Every resource a function may touch is one the stack created, named by reference."""
    for role in set(_function_roles(synth).values()):
        for statement in _scoped(_role_statements(synth, role)):
            for resource in _as_list(statement["Resource"]):
                # An ARN built around a resource's name (the SES identity) also names the partition,
                # region and account: pseudo parameters, not resources.
                targets = {found for found in _references(resource) if not found.startswith("AWS::")}
                assert targets, (role, statement)
                assert targets <= set(synth.template_json["Resources"]), (role, statement)


def _tenant_role(synth: Synth) -> str:
    return synth.logical_id(synth.stack.api.tenant_role)


def _table_statements(synth: Synth, role: str) -> list[dict[str, Any]]:
    """The role's statements that name the tenant table or one of its indexes."""
    table_id = synth.logical_id(synth.stack.data.table)
    return [statement for statement in _role_statements(synth, role)
            if table_id in _references(statement["Resource"])]


def test_the_roles_that_serve_tenants_cannot_touch_the_table_directly(synth: Synth) -> None:
    """Their only way to an item is a tenant session of the tenant access role — but for the
    API's reads and writes of the portal's host claims, keys outside every tenant (PORTALHOST#)."""
    for role in (_api_role(synth), _function_roles(synth)["JobRunner"]):
        statements = _table_statements(synth, role)
        if role == _api_role(synth):
            statements = [s for s in statements if _as_list(s.get("Condition", {}).get(
                "ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")) != ["PORTALHOST#*"]]
        assert statements == [], role
        (assume,) = [s for s in _role_statements(synth, role) if "sts:AssumeRole" in _as_list(s["Action"])]
        assert assume["Resource"] == {"Fn::GetAtt": [_tenant_role(synth), "Arn"]}


def test_only_the_roles_that_serve_tenants_may_assume_the_tenant_access_role(synth: Synth) -> None:
    trust = synth.template_json["Resources"][_tenant_role(synth)]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole")
    principals = {reference["Fn::GetAtt"][0] for reference in statement["Principal"]["AWS"]}
    assert principals == {_api_role(synth), _function_roles(synth)["JobRunner"]}
    assumers = {role for role in set(_function_roles(synth).values()) for s in _role_statements(synth, role)
                if "sts:AssumeRole" in _as_list(s["Action"])}
    assert assumers == principals


def test_the_tenant_access_role_reaches_items_on_the_table_and_tenant_indexes_only(synth: Synth) -> None:
    statements = _table_statements(synth, _tenant_role(synth))
    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    assert actions == set(ITEM_ACTIONS)
    resources = json.dumps([statement["Resource"] for statement in statements])
    assert f"/index/{schema.SYSTEM_DUE_INDEX.name}" not in resources and "index/*" not in resources
    for index in schema.TENANT_INDEXES:
        assert f"/index/{index.name}" in resources
    role = synth.template_json["Resources"][_tenant_role(synth)]["Properties"]
    assert role["MaxSessionDuration"] == SESSION_SECONDS


def test_functions_that_serve_tenants_assume_the_tenant_role_and_system_jobs_do_not(synth: Synth) -> None:
    serving = {_api_role(synth), _function_roles(synth)["JobRunner"]}
    for logical_id, function in _functions(synth).items():
        variable = function["Properties"]["Environment"]["Variables"].get("TENANT_ROLE_ARN")
        if _function_roles(synth)[logical_id] in serving:
            assert variable == {"Fn::GetAtt": [_tenant_role(synth), "Arn"]}, logical_id
        else:
            assert variable is None, logical_id
    assert "TENANT_ROLE_ARN" not in _functions(synth)["SlaSweep"]["Properties"]["Environment"]["Variables"]


def test_system_jobs_keep_their_own_role_with_the_cross_tenant_index(synth: Synth) -> None:
    resources = json.dumps([s["Resource"] for s in _table_statements(synth, synth.logical_id(
        synth.stack.api.system_role))])
    assert f"/index/{schema.SYSTEM_DUE_INDEX.name}" in resources


def test_request_handlers_cannot_scan_or_use_the_cross_tenant_index(synth: Synth) -> None:
    for role in (_api_role(synth), _tenant_role(synth)):
        statements = _role_statements(synth, role)
        actions = {action for s in statements for action in _as_list(s["Action"])}
        assert "dynamodb:Scan" not in actions
        assert f"/index/{schema.SYSTEM_DUE_INDEX.name}" not in json.dumps([s["Resource"] for s in statements])


def test_request_handlers_publish_events_only_to_the_bluehill_bus(synth: Synth) -> None:
    bus_id = synth.logical_id(synth.stack.events.bus)
    statements = _role_statements(synth, _api_role(synth))
    (put_events,) = [s for s in statements if "events:PutEvents" in _as_list(s["Action"])]
    assert put_events["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}


def test_request_handlers_administer_users_only_in_the_user_pool(synth: Synth) -> None:
    pool_id = synth.logical_id(synth.stack.identity.user_pool)
    statements = _role_statements(synth, _api_role(synth))
    cognito = [s for s in statements if any(a.startswith("cognito-idp:") for a in _as_list(s["Action"]))]
    assert cognito
    for statement in cognito:
        assert statement["Resource"] == {"Fn::GetAtt": [pool_id, "Arn"]}


def test_authorizer_can_only_read_the_table(synth: Synth) -> None:
    authorizer_role = _function_roles(synth)["ApiAuthorizer"]
    assert authorizer_role != _api_role(synth)
    actions = {
        action for statement in _role_statements(synth, authorizer_role) for action in _as_list(statement["Action"])
    }
    assert actions == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


# ------------------------------------------------------------------------------------- storage


def test_buckets_block_public_access(synth: Synth) -> None:
    buckets = synth.resources("AWS::S3::Bucket")
    assert len(buckets) == 5  # files, inbound mail, access logs, the portal page, CloudFront's logs
    for logical_id, bucket in buckets.items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id


def test_buckets_are_encrypted(synth: Synth) -> None:
    for logical_id, bucket in synth.resources("AWS::S3::Bucket").items():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, logical_id


def test_buckets_refuse_requests_without_tls(synth: Synth) -> None:
    for logical_id in synth.resources("AWS::S3::Bucket"):
        denies = [
            s
            for s in _bucket_policy(synth, logical_id)
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies, logical_id
        assert denies[0]["Action"] == "s3:*"


def test_files_and_mail_buckets_are_versioned_and_log_access(synth: Synth) -> None:
    storage = synth.stack.storage
    logs_id = synth.logical_id(storage.access_logs_bucket)
    for bucket in (storage.files_bucket, storage.mail_bucket):
        properties = synth.template_json["Resources"][synth.logical_id(bucket)]["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}


def test_raw_inbound_mail_expires_after_90_days(synth: Synth) -> None:
    bucket_id = synth.logical_id(synth.stack.storage.mail_bucket)
    rules = synth.template_json["Resources"][bucket_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    raw = [rule for rule in rules if rule.get("Prefix") == "raw/"]
    assert raw and raw[0]["ExpirationInDays"] == 90 and raw[0]["Status"] == "Enabled"


def test_ses_writes_inbound_mail_under_raw(synth: Synth) -> None:
    bucket_id = synth.logical_id(synth.stack.storage.mail_bucket)
    _, rule = _only(synth.resources("AWS::SES::ReceiptRule"))
    (action,) = rule["Properties"]["Rule"]["Actions"]
    assert action["S3Action"] == {"BucketName": {"Ref": bucket_id}, "ObjectKeyPrefix": "raw/"}
    assert rule["Properties"]["Rule"]["Enabled"] is True


def test_only_ses_for_this_account_may_write_raw_mail(synth: Synth) -> None:
    bucket_id = synth.logical_id(synth.stack.storage.mail_bucket)
    (grant,) = [s for s in _bucket_policy(synth, bucket_id) if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "ses.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/raw/*"]]}
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# -------------------------------------------------------------------------------------- events


def test_domain_events_go_to_the_bluehill_bus(synth: Synth) -> None:
    bus_id, bus = _only(synth.resources("AWS::Events::EventBus"))
    assert bus["Properties"]["Name"] == "bluehill"
    for logical_id, function in _functions(synth).items():
        assert function["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": bus_id}, logical_id


# ------------------------------------------------------------------------------------ identity


def test_user_pool_carries_the_schema_custom_attributes_as_mutable_strings(synth: Synth) -> None:
    _, pool = _only(synth.resources("AWS::Cognito::UserPool"))
    attributes = {a["Name"]: a for a in pool["Properties"]["Schema"]}
    assert set(attributes) >= set(schema.USER_POOL_CUSTOM_ATTRIBUTES)
    for name in schema.USER_POOL_CUSTOM_ATTRIBUTES:
        assert attributes[name]["AttributeDataType"] == "String"
        assert attributes[name]["Mutable"] is True


def test_users_cannot_change_their_own_tenant_role_or_customer(synth: Synth) -> None:
    _, client = _only(synth.resources("AWS::Cognito::UserPoolClient"))
    writable = client["Properties"]["WriteAttributes"]
    assert not [name for name in writable if name.startswith("custom:")], writable


def test_users_sign_in_with_their_email_and_a_strong_password(synth: Synth) -> None:
    _, pool = _only(synth.resources("AWS::Cognito::UserPool"))
    properties = pool["Properties"]
    assert properties["UsernameAttributes"] == ["email"]
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    policy = properties["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[key] for key in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))


def test_app_client_allows_password_and_refresh_flows_without_a_secret(synth: Synth) -> None:
    _, client = _only(synth.resources("AWS::Cognito::UserPoolClient"))
    properties = client["Properties"]
    assert set(properties["ExplicitAuthFlows"]) == {
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert properties["GenerateSecret"] is False
    assert properties["AllowedOAuthFlowsUserPoolClient"] is False


def test_outputs_publish_the_token_settings(synth: Synth) -> None:
    outputs = synth.template_json["Outputs"]
    pool_id = synth.logical_id(synth.stack.identity.user_pool)
    assert outputs["JwksUrl"]["Value"] == {
        "Fn::Join": [
            "",
            [
                "https://cognito-idp.",
                {"Ref": "AWS::Region"},
                ".amazonaws.com/",
                {"Ref": pool_id},
                "/.well-known/jwks.json",
            ],
        ]
    }
    assert outputs["JwtAudience"]["Value"] == {"Ref": synth.logical_id(synth.stack.identity.client)}
    assert {"JwtIssuer", "UserPoolId", "TableName", "EventBusName", "EndpointURL"} <= set(outputs)


# ------------------------------------------------------------------------------ API Gateway


@pytest.mark.parametrize(
    ("response_type", "status", "code", "type_slug"),
    [
        ("DEFAULT_4XX", 400, "bad_request", "bad-request"),
        ("DEFAULT_5XX", 500, "internal_error", "internal"),
        ("UNAUTHORIZED", 401, "unauthorized", "unauthorized"),
        ("ACCESS_DENIED", 403, "forbidden", "forbidden"),
        ("MISSING_AUTHENTICATION_TOKEN", 404, "not_found", "not-found"),
        ("THROTTLED", 429, "throttled", "throttled"),
    ],
)
def test_gateway_errors_are_problem_details(
    synth: Synth, response_type: str, status: int, code: str, type_slug: str
) -> None:
    response = _gateway_responses(synth)[response_type]
    assert response["StatusCode"] == str(status)
    assert response["ResponseParameters"]["Headers"]["Content-Type"] == f"'{PROBLEM_CONTENT_TYPE}'"
    body = json.loads(response["ResponseTemplates"]["application/json"])
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://errors.bluehill.dev/{type_slug}"
    assert body["title"] and body["detail"]
    assert body["request_id"] == "$context.requestId"


def test_every_gateway_response_in_the_shared_table_is_configured(synth: Synth) -> None:
    configured = _gateway_responses(synth)
    assert set(configured) == set(GATEWAY_RESPONSES)
    for response_type, (status, code, _title, _detail) in GATEWAY_RESPONSES.items():
        body = json.loads(configured[response_type]["ResponseTemplates"]["application/json"])
        assert (body["status"], body["code"]) == (status, code)


def test_unauthorized_answers_name_the_bearer_scheme(synth: Synth) -> None:
    headers = _gateway_responses(synth)["UNAUTHORIZED"]["ResponseParameters"]["Headers"]
    assert headers["WWW-Authenticate"] == "'Bearer'"


def test_every_method_is_throttled(synth: Synth) -> None:
    (settings,) = synth.template_json["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert settings["ThrottlingRateLimit"] == 50
    assert settings["ThrottlingBurstLimit"] == 100


def test_api_writes_json_access_logs_without_personal_data(synth: Synth) -> None:
    setting = synth.template_json["Resources"]["RestAPI"]["Properties"]["AccessLogSetting"]
    log_format = json.loads(setting["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert "$context.identity.sourceIp" not in setting["Format"]
    assert _references(setting["DestinationArn"]) & set(synth.resources("AWS::Logs::LogGroup"))


# ------------------------------------------------------------------------------- validation


def test_cdk_nag_reports_nothing_unacknowledged(synth: Synth) -> None:
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    failures = [
        violation
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "AwsSolutions"
        for violation in plugin["violations"]
    ]
    assert failures == []
    errors = Annotations.from_stack(synth.stack).find_error("*", Match.any_value())
    assert errors == []


def test_every_nag_acknowledgment_names_a_rule_and_gives_a_reason(synth: Synth) -> None:
    acknowledged: dict[str, str] = {}
    for construct in synth.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledged.update(entry.data)
    rules = {rule_id.split("::", 1)[-1].split("[")[0] for rule_id in acknowledged}
    # Reviewed suppressions (reasons live next to each in infra/bluehill_infra/):
    # COG2 optional MFA; COG8 Plus tier cost; SMG4 cursor key; IAM4 API Gateway's CloudWatch
    # role; IAM5 object-level S3 ARNs and the relay's dynamodb:ListStreams; SQS3 the dead-letter
    # queues (themselves DLQs); CFR1/CFR2/CFR4 the portal's distribution (no geo block, WAF a
    # per-deployment choice, TLS policy pinned only once a custom domain's certificate is given).
    assert rules <= {
        "AwsSolutions-CFR1",
        "AwsSolutions-CFR2",
        "AwsSolutions-CFR4",
        "AwsSolutions-SQS3",
        "AwsSolutions-COG2",
        "AwsSolutions-COG8",
        "AwsSolutions-SMG4",
        "AwsSolutions-IAM4",
        "AwsSolutions-IAM5",
    }, rules
    for rule_id, reason in acknowledged.items():
        assert len(reason.strip()) >= 40, rule_id


def test_template_passes_cfn_lint(synth: Synth) -> None:
    # No rule is ignored: errors and warnings both fail.
    matches = lint_file(Path(synth.template_path))
    assert [str(match) for match in matches] == []


# --------------------------------------------------------------------------- extension point


def test_a_rule_added_on_the_bus_invokes_a_chalice_function(tmp_path: Path) -> None:
    """How later work wires an event consumer: the rule is on the bus, and EventBridge is
    allowed to invoke the function (an ARN-imported function would silently lack that)."""
    from aws_cdk import aws_events as events_
    from bluehill_infra.application import build_app

    app, stack = build_app(outdir=tmp_path)
    target = stack.api.function("api_handler")
    stack.events.add_rule(
        "CustomerCreated",
        pattern=events_.EventPattern(source=["bluehill.customers"], detail_type=["Customer.Created"]),
        target=target,
    )
    template = json.loads((Path(app.synth().directory) / stack.template_file).read_text())["Resources"]
    bus_id = stack.get_logical_id(stack.events.bus.node.default_child)  # type: ignore[arg-type]
    (rule_id,) = [k for k, v in template.items() if v["Type"] == "AWS::Events::Rule"
                  and v["Properties"].get("EventPattern", {}).get("detail-type") == ["Customer.Created"]]
    rule = template[rule_id]["Properties"]
    assert rule["EventBusName"] == {"Ref": bus_id}
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["APIHandler", "Arn"]}
    permissions = [
        v["Properties"]
        for v in template.values()
        if v["Type"] == "AWS::Lambda::Permission" and v["Properties"]["Principal"] == "events.amazonaws.com"
        and v["Properties"]["FunctionName"] == {"Fn::GetAtt": ["APIHandler", "Arn"]}
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": ["APIHandler", "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
        }
    ]


# ----------------------------------------------------------------------------------------- files


def test_files_bucket_accepts_browser_posts_and_expires_deleted_files(synth: Synth) -> None:
    properties = synth.template_json["Resources"][synth.logical_id(synth.stack.storage.files_bucket)]["Properties"]
    (cors,) = properties["CorsConfiguration"]["CorsRules"]
    assert set(cors["AllowedMethods"]) == {"POST", "GET", "HEAD"}
    rules = {rule["Id"]: rule for rule in properties["LifecycleConfiguration"]["Rules"]}
    deleted = rules["expire-deleted-files"]
    assert deleted["TagFilters"] == [{"Key": "bluehill-deleted", "Value": "true"}]
    assert deleted["ExpirationInDays"] == 30 and deleted["Status"] == "Enabled"


def test_uploads_under_tenants_invoke_the_files_uploaded_function(synth: Synth) -> None:
    bucket_id = synth.logical_id(synth.stack.storage.files_bucket)
    bucket = synth.template_json["Resources"][bucket_id]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    rule_id = synth.stack.get_logical_id(synth.stack.storage.uploads_rule.node.default_child)
    rule = synth.template_json["Resources"][rule_id]["Properties"]
    assert "EventBusName" not in rule  # S3 sends to the account's default bus
    assert rule["EventPattern"] == {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {
        "bucket": {"name": [{"Ref": bucket_id}]}, "object": {"key": [{"prefix": "tenants/"}]}}}
    (target,) = rule["Targets"]
    assert "FilesUploaded" in json.dumps(target["Arn"]) and target["DeadLetterConfig"]
# --------------------------------------------------------------------------- the portal page


def test_the_portal_page_and_the_api_share_one_origin(synth: Synth) -> None:
    """CloudFront serves the page from its private bucket (origin access control) and sends
    /api/* to API Gateway's `api` stage uncached, with the viewer's Authorization header."""
    (distribution,) = synth.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (api_behavior,) = config["CacheBehaviors"]
    assert api_behavior["PathPattern"] == "/api/*"
    assert api_behavior["ViewerProtocolPolicy"] == "https-only"
    assert set(api_behavior["AllowedMethods"]) >= {"GET", "POST", "PATCH", "PUT", "DELETE"}
    assert api_behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert api_behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHost
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    api_origin = origins[api_behavior["TargetOriginId"]]
    assert "execute-api" in json.dumps(api_origin["DomainName"])
    assert "RestAPI" in _references(api_origin["DomainName"])
    page_origin = origins[config["DefaultCacheBehavior"]["TargetOriginId"]]
    assert page_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "OriginAccessControlId" in page_origin
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    assert config["Logging"]["Bucket"]

