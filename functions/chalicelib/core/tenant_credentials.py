"""The second layer of isolation: every DynamoDB call made for a tenant is signed with
credentials that IAM itself confines to that tenant's keys.

The functions that serve tenants (the API, the job function, the event handlers) run under a
role with no access to the table; they assume the tenant access role (`TENANT_ROLE_ARN`) with
a session policy (`session_policy`) that allows the item actions only where
`dynamodb:LeadingKeys` is `T#<tenant>#*` — on the table and its indexes, whose partition keys
all start with the tenant (core.schema) — and S3 objects only under `tenants/<tenant>/`. An
item outside the tenant is then refused by IAM, whatever the code asks: the tenant guard
(core.tenant_guard) is the first layer, this the second.

- **Cached per tenant per container**: one STS AssumeRole for a tenant's first request in a
  container (cold), none after (warm) until the session nears its end (SESSION_SECONDS).
- **Chosen per call, by scope**: `ScopedConnection` (the PynamoDB connection of every model and
  of transactions) picks the client for the scope current *at the call* (`core.scope`, a
  ContextVar). Lambda serves one request at a time per container, but `chalice local` and the
  job threads are concurrent: each thread has its own scope, so a call can only ever be signed
  with its own tenant's credentials — there is no "current credentials" to swap or leak.
- The system scope (system jobs, on their own role) and unset `TENANT_ROLE_ARN` (local tools,
  the authorizer, system jobs) use the function's own credentials.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from pynamodb.connection import Connection

from chalicelib.core.scope import SYSTEM, current_scope
from chalicelib.core.settings import get_settings, table_name, tenant_role_arn

SESSION_SECONDS = 3600  # the tenant role's maximum session duration (infra: the same constant)
REFRESH_MARGIN_SECONDS = 300  # a session this close to its end is renewed before use
MAX_SESSION_POLICY_CHARACTERS = 2048  # STS's limit on an inline session policy's plaintext
TENANT_FILES_PREFIX = "tenants/{tenant_id}/"

# What a request or job may do to items (its session policy, and the roles in infra): key
# lookups, Queries and writes only; no table-wide reads, no table management.
ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
# GetObjectVersion: downloads pin the object version the upload check read (files/storage.py).
FILE_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging")

# A tenant id becomes part of an IAM pattern: `*`, `?`, `$`, `#` or anything else outside
# this set could widen it (StringLike wildcards, policy variables, the key delimiter).
_TENANT_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def leading_keys_pattern(tenant_id: str) -> str:
    """The partition keys a tenant's session may touch: its own, delimited (tenant `ab` is not
    a prefix of tenant `abc`'s keys)."""
    if not _TENANT_ID.fullmatch(tenant_id):
        raise ValueError(f"tenant id {tenant_id!r} cannot be used in an IAM pattern")
    return f"T#{tenant_id}#*"


def session_policy(tenant_id: str, table: str, files_bucket: str = "") -> dict[str, Any]:
    """The session policy of a tenant's credentials. It narrows the tenant role (which names
    the table, its tenant indexes and the files bucket exactly), so it may spell the table by
    name in any region and account and its indexes as `index/*`."""
    pattern = leading_keys_pattern(tenant_id)
    statements: list[dict[str, Any]] = [{
        "Effect": "Allow",
        "Action": list(ITEM_ACTIONS),
        "Resource": [f"arn:aws:dynamodb:*:*:table/{table}", f"arn:aws:dynamodb:*:*:table/{table}/index/*"],
        "Condition": {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [pattern]},
            # ForAllValues holds vacuously when a request names no key: require one.
            "Null": {"dynamodb:LeadingKeys": "false"},
        },
    }]
    if files_bucket:
        statements.append({
            "Effect": "Allow",
            "Action": list(FILE_ACTIONS),
            "Resource": f"arn:aws:s3:::{files_bucket}/{TENANT_FILES_PREFIX.format(tenant_id=tenant_id)}*",
        })
    return {"Version": "2012-10-17", "Statement": statements}


def session_policy_text(tenant_id: str, table: str, files_bucket: str = "") -> str:
    text = json.dumps(session_policy(tenant_id, table, files_bucket), separators=(",", ":"))
    if len(text) > MAX_SESSION_POLICY_CHARACTERS:
        raise ValueError(f"the session policy is {len(text)} characters; STS takes {MAX_SESSION_POLICY_CHARACTERS}")
    return text


@dataclass(frozen=True)
class TenantCredentials:
    tenant_id: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float

    def fresh(self, now: float) -> bool:
        return self.expires_at - REFRESH_MARGIN_SECONDS > now


@dataclass
class Counters:
    """What the cache did in this container (read by `make bench`)."""

    assume_role_calls: int = 0
    assume_role_seconds: float = 0.0


counters = Counters()
_cache: dict[str, TenantCredentials] = {}
_lock = threading.Lock()


@cache
def _sts() -> Any:
    import boto3

    return boto3.client("sts")


def credentials_for(tenant_id: str) -> TenantCredentials:
    """The tenant's session credentials: cached, or one AssumeRole (one per tenant at a time)."""
    cached = _cache.get(tenant_id)
    if cached is not None and cached.fresh(time.time()):
        return cached
    with _lock:
        cached = _cache.get(tenant_id)
        if cached is not None and cached.fresh(time.time()):
            return cached
        started = time.perf_counter()
        answer = _sts().assume_role(
            RoleArn=tenant_role_arn(),
            RoleSessionName=f"tenant-{tenant_id}"[:64],
            Policy=session_policy_text(tenant_id, table_name(), get_settings().files_bucket),
            DurationSeconds=SESSION_SECONDS,
        )["Credentials"]
        counters.assume_role_calls += 1
        counters.assume_role_seconds += time.perf_counter() - started
        issued = TenantCredentials(tenant_id, answer["AccessKeyId"], answer["SecretAccessKey"],
                                   answer["SessionToken"], answer["Expiration"].timestamp())
        _cache[tenant_id] = issued
        return issued


def for_current_scope() -> TenantCredentials | None:
    """The credentials a DynamoDB call made now must be signed with; None: the function's own."""
    scope = current_scope()
    if scope is None or scope == SYSTEM or not tenant_role_arn():
        return None
    return credentials_for(scope)


def forget_all() -> None:
    """Drop every cached session (tests; a container never needs to)."""
    with _lock:
        _cache.clear()


class ScopedConnection(Connection):
    """A PynamoDB connection whose botocore client is chosen at each call by the current
    scope: the function's own for the system scope, else one client per tenant session, made
    from the same botocore session (its loaded service model) and the same client config
    (region, endpoint, timeouts, retries) as PynamoDB's own, with the session's keys."""

    @property
    def client(self) -> Any:
        credentials = for_current_scope()
        own = super().client
        if credentials is None:
            return own
        clients: dict[str, tuple[TenantCredentials, Any]] = self.__dict__.setdefault("_tenant_clients", {})
        entry = clients.get(credentials.tenant_id)
        if entry is None or entry[0] is not credentials:
            client = self.session.create_client(
                "dynamodb", self.region, endpoint_url=self.host, config=own.meta.config,
                aws_access_key_id=credentials.access_key_id, aws_secret_access_key=credentials.secret_access_key,
                aws_session_token=credentials.session_token,
            )
            client.meta.events.register_first("before-send.*.*", self._before_send)
            entry = (credentials, client)
            clients[credentials.tenant_id] = entry
        return entry[1]


def scoped(connection: Connection) -> Connection:
    """Make a PynamoDB connection choose its credentials by scope (see ScopedConnection)."""
    if not isinstance(connection, ScopedConnection):
        connection.__class__ = ScopedConnection
    return connection
