"""The in-process AWS that the tests and the benchmark run the real app on: moto with the
platform's resources, moto's Cognito JWKS served over loopback HTTP, Chalice's local gateway
answering as API Gateway does, and tenants with a user (and an id token) per role.

tests/conftest.py wraps these in fixtures; `python -m bluehill_dev.bench` uses them directly.

Importing this module points every AWS client at nothing real: fake credentials, no endpoint
override, so no client it or the app creates can pick up real credentials."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import boto3
from moto import mock_aws
from moto.utilities.utils import load_resource

# bluehill_dev puts functions/ on sys.path
from bluehill_dev import fidelity, local_gateway, resources, s3_post_policy, tenants
from bluehill_dev.tenants import ROLES, Provisioned

OFFLINE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_NAME": "bluehill",
    "CURSOR_SIGNING_KEY": "test-cursor-key",
    "CSAT_SIGNING_KEY": "test-csat-key",
    "PORTAL_SESSION_KEY": "test-portal-session-key-of-32-bytes-at-least",
    "POWERTOOLS_METRICS_NAMESPACE": "BlueHill",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# The environment as the caller gave it (their AWS profile or keys, region), kept for the one
# thing that must reach a real account: the deployed-stack e2e target, which runs its AWS calls
# in child processes started with it (bluehill_dev.targets.deployed). Nothing in process uses it.
# Handed down in a variable of its own: processes started after the swap (pytest-xdist's workers,
# spawned once the controller has imported this module) inherit only the fakes otherwise.
_CALLER_VARIABLE = "BLUEHILL_CALLER_ENVIRONMENT"
os.environ.setdefault(_CALLER_VARIABLE, json.dumps({k: v for k, v in os.environ.items() if k != _CALLER_VARIABLE}))
CALLER_ENVIRONMENT: dict[str, str] = json.loads(os.environ[_CALLER_VARIABLE])
# Set on import, before any client exists (none of the imports above creates one).
os.environ.update(OFFLINE_ENVIRONMENT)
os.environ.pop("AWS_ENDPOINT_URL", None)

PASSWORD = "Correct-Horse-9-Battery"


@contextmanager
def jwks_server() -> Iterator[str]:
    """moto's Cognito signs with a fixed key; serve its public JWKS over loopback HTTP, as
    Cognito serves it, so token verification runs exactly the code path it runs in AWS."""
    body = json.dumps(load_resource("moto.cognitoidp.responses", "resources/jwks-public.json")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()


_copying_tables: ContextVar[bool] = ContextVar("moto_copying_tables", default=True)


def _deepcopy_unless_table(value: Any, memo: dict[int, Any] | None = None) -> Any:
    from moto.dynamodb.models.table import Table

    if isinstance(value, Table) and not _copying_tables.get():
        return value
    return copy.deepcopy(value, memo)


def _pre_images(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    images = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        table = backend.tables.get(operation.get("TableName"))
        key = operation.get("Key") or operation.get("Item")
        if table is None or not key or table.hash_key_attr not in key:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        if table.range_key_attr and range_key is None:
            continue
        current = table.get_item(hash_key, range_key)
        images.append((table, hash_key, range_key, copy.deepcopy(current)))
    return images


def _restore(images: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, item in reversed(images):
        if range_key is None:
            table.items.pop(hash_key, None)
            if item is not None:
                table.items[hash_key] = item
        else:
            table.items[hash_key].pop(range_key, None)
            if item is not None:
                table.items[hash_key][range_key] = item


@cache
def undo_log_transactions() -> None:
    """moto's TransactWriteItems takes its rollback snapshot as a deep copy of the whole table,
    once per item in the transaction: a 100-item transaction on a 3,000-item table took 26 s
    and 670 MB, and a long test session's table made every transaction slower and the worker's
    memory grow by gigabytes. Keep an undo log of the items the transaction names instead: the
    same all-or-nothing rollback, at the cost of the transaction's own items."""
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        images = _pre_images(self, transact_items)
        # moto writes a cancelled transaction's items to the stream before it rolls them back;
        # DynamoDB streams nothing of a transaction that did not commit.
        streams = [(shard, len(shard.items)) for shard in
                   {id(t.stream_shard): t.stream_shard for t, *_ in images if t.stream_shard}.values()]
        token = _copying_tables.set(False)
        try:
            return original(self, transact_items)
        except Exception:
            _restore(images)
            for shard, length in streams:
                del shard.items[length:]
            raise
        finally:
            _copying_tables.reset(token)

    models.copy = SimpleNamespace(deepcopy=_deepcopy_unless_table, copy=copy.copy)  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


@contextmanager
def in_process_aws(jwks_url: str) -> Iterator[resources.LocalResources]:
    """moto in-process with the platform's resources created and the app's settings pointing
    at them; Chalice's local gateway mapped to API Gateway's answers; the AWS-fidelity layer
    (bluehill_dev.fidelity) on, at its defaults."""
    undo_log_transactions()
    fidelity.install()
    fidelity.reset()
    s3_post_policy.install()
    from bluehill_dev import mail

    mail.ses_sends_from_subdomains()
    with mock_aws():
        created = resources.create_all()
        os.environ.update(created.environment(None, jwks_url))
        from chalicelib.core.settings import get_settings

        get_settings.cache_clear()
        # API Gateway's 29 s is wall-clock time: in-process, on a loaded CI machine, it would make a
        # test's outcome depend on the machine. Its own tests switch it on (tests/unit/test_local_gateway.py).
        local_gateway.install(dataclasses.replace(local_gateway.Fidelity.from_environment(authorizer_cache=False),
                                                  integration_timeout_seconds=0))
        yield created
        _buses.clear()


_buses: list[Any] = []


def event_bus() -> Any:
    """The in-process relay and consumer delivery (bluehill_dev.eventbus) on moto's stream,
    one per session: `event_bus().drain()` delivers every event committed since the last call."""
    if not _buses:
        import tempfile
        from pathlib import Path

        from bluehill_dev import eventbus

        events = boto3.client("events")
        store = eventbus.LocalStore(Path(tempfile.mkdtemp(prefix="bluehill-events-")))
        _buses.append(eventbus.LocalBus(resources.TABLE, resources.BUS, store,
                                        lambda entries: events.put_events(Entries=entries),
                                        attempts=3, backoff=0.01, persist=False))
    return _buses[0]


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return self.body


class Api:
    """Calls the app over chalice.test.Client as one identity."""

    def __init__(self, client: Any, token: str | None) -> None:
        self._client, self.token = client, token

    def request(self, method: str, path: str, json_body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> Response:
        if fidelity.settings().settle_between_requests:
            fidelity.settle()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        body = raw if raw is not None else (json.dumps(json_body).encode() if json_body is not None else b"")
        response = self._client.http.request(method, path, headers=all_headers, body=body)
        text = response.body.decode() if response.body else ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Response(response.status_code, parsed, dict(response.headers))

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)


@dataclass
class TenantWorld(Provisioned):
    """A provisioned tenant as its clients see it: an id token per role, and `as_(role)` to call
    the API as that user through `client` (chalice.test.Client in process, or
    `bluehill_dev.targets.HttpClient` over HTTP — the same `Api` either way)."""

    client: Any = None
    tokens: dict[str, str] = field(default_factory=dict)
    # Mints a role's token again: id tokens last an hour, and a session's tenants can outlive that.
    mint: Callable[[str], str] | None = field(default=None, repr=False)

    def token(self, role: str) -> str:
        """The role's id token, minted anew when it is within TOKEN_RENEW_SECONDS of expiring."""
        current = self.tokens[role]
        if self.mint is not None and seconds_left(current) < TOKEN_RENEW_SECONDS:
            current = self.tokens[role] = self.mint(role)
        return current

    def as_(self, role: str) -> Api:
        return Api(self.client, self.token(role))


TOKEN_RENEW_SECONDS = 600


def seconds_left(token: str) -> float:
    """How long a JWT has before its `exp` (read, not verified: the API verifies it)."""
    import jwt

    return float(jwt.decode(token, options={"verify_signature": False})["exp"]) - time.time()


def token_for(aws: resources.LocalResources, email: str) -> str:
    return resources.id_token(boto3.client("cognito-idp"), aws, email, PASSWORD)


def build_tenant(aws: resources.LocalResources, client: Any, roles: tuple[str, ...] = ROLES) -> TenantWorld:
    made = tenants.provision("t" + secrets.token_hex(5), PASSWORD, roles)
    world = TenantWorld(**made.as_dict(), client=client)
    event_bus().drain()  # the tenant's own provisioning (its template library) reacts to Tenant.Created
    world.tokens = {role: token_for(aws, world.emails[role]) for role in roles}
    world.mint = lambda role: token_for(aws, world.emails[role])
    return world
