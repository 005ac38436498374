"""Create the platform's AWS resources on the embedded AWS (moto, and DynamoDB Local for the
tables in `make dev`), from the same definitions the CDK stack uses: the table's keys, indexes
and stream from `chalicelib.core.schema`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import boto3
from chalicelib.core import schema

TABLE = "bluehill"
IDEMPOTENCY_TABLE = "bluehill-idempotency"
BUS = "bluehill"
FILES_BUCKET = "bluehill-files"
MAIL_DOMAIN = "mail.bluehill.localhost"  # tenant addresses: support@<tenant>.mail.bluehill.localhost
MAIL_BUCKET = "bluehill-inbound-mail"
REGION = "us-east-1"
POOL_NAME = "bluehill-users"
MAIL_SENDER = "no-reply@bluehill.dev"  # chalicelib.portal.mailer.DEFAULT_SENDER
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


@dataclass(frozen=True)
class LocalResources:
    user_pool_id: str
    client_id: str

    def environment(self, endpoint: str | None, jwks_url: str, dynamodb_endpoint: str | None = None) -> dict[str, str]:
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}"
        env = {
            "TABLE_NAME": TABLE,
            "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE,
            "EVENT_BUS_NAME": BUS,
            "FILES_BUCKET": FILES_BUCKET,
            "INBOUND_MAIL_BUCKET": MAIL_BUCKET,
            "MAIL_DOMAIN": MAIL_DOMAIN,
            "MAIL_TOKEN_KEY": "local-mail-token-key",  # signs Reply-To ticket tokens (a secret when deployed)
            "PORTAL_MAIL_FROM": f"no-reply@{MAIL_DOMAIN}",  # as deployed: an address of the mail domain's identity
            "USER_POOL_ID": self.user_pool_id,
            "USER_POOL_CLIENT_ID": self.client_id,
            "JWKS_URL": jwks_url,
            "JWT_ISSUER": issuer,
            "JWT_AUDIENCE": self.client_id,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
        if endpoint:
            env["AWS_ENDPOINT_URL"] = endpoint
        if dynamodb_endpoint:  # botocore's per-service endpoints; the stream is served by the same process
            env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint
            env["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = dynamodb_endpoint
        return env


def table_definition(stream: bool = False) -> dict[str, Any]:
    """The table as CreateTable takes it; `stream` adds the change stream (DynamoDB Local has
    one; the in-process moto leaves it off, where every change would be kept in memory)."""
    attributes = sorted(schema.key_attribute_names())
    indexes = [
        {
            "IndexName": index.name,
            "KeySchema": [
                {"AttributeName": index.partition_key, "KeyType": "HASH"},
                {"AttributeName": index.sort_key, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index in schema.ALL_INDEXES
    ]
    definition: dict[str, Any] = {
        "TableName": TABLE,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in attributes],
        "KeySchema": [
            {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": indexes,
        # The relay reads committed outbox items from the stream (chalicelib.core.relay).
        "StreamSpecification": STREAM,
    }
    if stream:
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": schema.STREAM_VIEW_TYPE}
    return definition


def create_all(session: boto3.session.Session | None = None, endpoint: str | None = None,
               dynamodb_endpoint: str | None = None) -> LocalResources:
    """Idempotent: a second call finds everything in place and returns the same pool ids. The
    tables go to `dynamodb_endpoint` when given (DynamoDB Local, with the stream), else to `endpoint`."""
    session = session or boto3.session.Session(region_name=REGION)
    dynamodb = session.client("dynamodb", endpoint_url=dynamodb_endpoint or endpoint)
    existing = dynamodb.list_tables()["TableNames"]
    if TABLE not in existing:
        dynamodb.create_table(**table_definition(stream=dynamodb_endpoint is not None))
        dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE}
        )
    elif "LatestStreamArn" not in dynamodb.describe_table(TableName=TABLE)["Table"]:
        dynamodb.update_table(TableName=TABLE, StreamSpecification=STREAM)  # a table made before the outbox
    if IDEMPOTENCY_TABLE not in existing:
        dynamodb.create_table(
            TableName=IDEMPOTENCY_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": schema.IDEMPOTENCY_PARTITION_KEY, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": schema.IDEMPOTENCY_PARTITION_KEY, "KeyType": "HASH"}],
        )
    s3 = session.client("s3", endpoint_url=endpoint)
    buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (FILES_BUCKET, MAIL_BUCKET):
        if bucket not in buckets:
            s3.create_bucket(Bucket=bucket)
    # SES sends only from verified identities (moto checks it too): the tenants' support addresses.
    session.client("ses", endpoint_url=endpoint).verify_domain_identity(Domain=MAIL_DOMAIN)
    events = session.client("events", endpoint_url=endpoint)
    if BUS not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}:
        events.create_event_bus(Name=BUS)
    # The portal's sign-in links come from this sender: SES (moto's too) sends only from a verified identity.
    session.client("ses", endpoint_url=endpoint).verify_email_identity(EmailAddress=MAIL_SENDER)
    return _user_pool(session.client("cognito-idp", endpoint_url=endpoint))


def _user_pool(cognito: Any) -> LocalResources:
    pools = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == POOL_NAME]
    if pools:
        pool_id = pools[0]["Id"]
    else:
        pool_id = cognito.create_user_pool(
            PoolName=POOL_NAME,
            Schema=[
                {"Name": name, "AttributeDataType": "String", "Mutable": True}
                for name in schema.USER_POOL_CUSTOM_ATTRIBUTES
            ],
            Policies={"PasswordPolicy": {"MinimumLength": 12}},
        )["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    if clients:
        client_id = clients[0]["ClientId"]
    else:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="bluehill-web",
            ExplicitAuthFlows=[
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]["ClientId"]
    return LocalResources(user_pool_id=pool_id, client_id=client_id)


def new_cursor_key() -> str:
    return secrets.token_urlsafe(32)


def id_token(cognito: Any, resources: LocalResources, email: str, password: str) -> str:
    result = cognito.admin_initiate_auth(
        UserPoolId=resources.user_pool_id,
        ClientId=resources.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]
