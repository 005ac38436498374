"""The single tenant-data table and the Powertools idempotency table.

The tenant table is built by iterating over ``chalicelib.core.schema`` — the same definitions
the local bootstrap uses — so its keys and indexes cannot drift from the application's.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from chalicelib.core import schema
from constructs import Construct

IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"  # Powertools' DynamoDBPersistenceLayer default


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _protected_table(
    scope: Construct,
    construct_id: str,
    *,
    partition_key: str,
    sort_key: str | None,
    ttl_attribute: str,
    stream: dynamodb.StreamViewType | None = None,
) -> dynamodb.Table:
    """On-demand, encrypted at rest, point-in-time recovery, protected from deletion."""
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=_string_key(partition_key),
        sort_key=_string_key(sort_key) if sort_key else None,
        time_to_live_attribute=ttl_attribute,
        stream=stream,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


class Data(Construct):
    """``table``: all tenant data (single-table design). ``idempotency_table``: Powertools."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.table = _protected_table(
            self,
            "Table",
            partition_key=schema.PARTITION_KEY,
            sort_key=schema.SORT_KEY,
            ttl_attribute=schema.TTL_ATTRIBUTE,
            # The relay reads committed outbox items from the stream (chalicelib.core.relay).
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        for index in schema.ALL_INDEXES:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string_key(index.partition_key),
                sort_key=_string_key(index.sort_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )

        self.idempotency_table = _protected_table(
            self,
            "IdempotencyTable",
            partition_key=schema.IDEMPOTENCY_PARTITION_KEY,
            sort_key=None,
            ttl_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
        )

    def index_arns(self, *, include_system: bool) -> list[str]:
        """ARNs of the table's indexes, each named (no ``index/*`` wildcard).

        Request paths get only the tenant-scoped indexes; the system-scoped index
        (``SYSDUE``) is for system jobs, which run under their own role.
        """
        indexes = schema.ALL_INDEXES if include_system else schema.TENANT_INDEXES
        return [f"{self.table.table_arn}/index/{index.name}" for index in indexes]
