"""The single table's physical definition: the one source of truth for keys and indexes.

The CDK stack and the local bootstrap both build the table from these definitions, so the
key schema and GSIs cannot drift between the two.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTITION_KEY = "PK"
SORT_KEY = "SK"
TTL_ATTRIBUTE = "expires_at"
# The table's change stream (what a relay reads to publish the outbox): old and new images.
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    partition_key: str
    sort_key: str
    tenant_scoped: bool = True


# Overloaded, tenant-scoped indexes: every partition key value starts with `T#<tenant_id>#`.
TENANT_INDEXES: tuple[IndexDefinition, ...] = tuple(
    IndexDefinition(f"GSI{n}", f"GSI{n}PK", f"GSI{n}SK") for n in range(1, 6)
)

# System-scoped, sparse index for cross-tenant jobs (SLA sweep, due work). Partition values
# are sharded buckets (`DUE#<shard>`), never a tenant key, so request paths must not use it.
SYSTEM_DUE_INDEX = IndexDefinition("SYSDUE", "SYSDUEPK", "SYSDUESK", tenant_scoped=False)

ALL_INDEXES: tuple[IndexDefinition, ...] = (*TENANT_INDEXES, SYSTEM_DUE_INDEX)

IDEMPOTENCY_PARTITION_KEY = "id"


def key_attribute_names() -> set[str]:
    names = {PARTITION_KEY, SORT_KEY}
    for index in ALL_INDEXES:
        names.update({index.partition_key, index.sort_key})
    return names


def partition_key_names() -> set[str]:
    return {PARTITION_KEY, *(index.partition_key for index in TENANT_INDEXES)}

# Cognito custom attributes carried into the id token as `custom:<name>`.
USER_POOL_CUSTOM_ATTRIBUTES: tuple[str, ...] = ("tenant_id", "role", "customer_id")

# Environment variable names the app reads (core/settings.py) and the stack/local stack set.
ENVIRONMENT_VARIABLES: tuple[str, ...] = (
    "TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "EVENT_BUS_NAME",
    "FILES_BUCKET",
    "INBOUND_MAIL_BUCKET",
    "USER_POOL_ID",
    "JWKS_URL",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "CURSOR_SIGNING_KEY",
    "CSAT_SIGNING_KEY",
    "MAIL_DOMAIN",
    "MAIL_TOKEN_KEY",
    "PORTAL_SESSION_KEY",
    "PORTAL_MAIL_FROM",
)
