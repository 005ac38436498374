"""Optimistic concurrency holds under real contention: 8 threads x 25 read-increment-write
PATCHes on one customer, each carrying the version it read and retrying on 409, end with the
counter at exactly 200 — and the same workload against a service that ignores the client's
version loses updates, so the test is able to fail.

How the threads run, and what is serialized (honestly):
  * Requests run concurrently through the app: each thread drives its own LocalGateway (the
    engine under chalice.test.Client, minus the client's per-request swap of os.environ, which
    is not thread-safe), so a GET, the authorizer, the view and the PATCH's load-then-commit
    of different threads interleave freely.
  * Each AWS API call is made atomic with one lock around moto's request handler. Real
    DynamoDB executes every request atomically; moto's in-memory backend has no locking (a
    TransactWriteItems checks its conditions, then writes, then on failure writes back the
    images it took before — any of which another thread's request can interleave with, losing
    writes that DynamoDB would never lose). The lock models DynamoDB's per-request atomicity
    and nothing more: the app-level race this test is about — between a client's read and its
    conditional write, and between the service's load and its commit — stays fully open.
  * The thread switch interval is shortened so that threads interleave inside requests, not
    only between them."""

from __future__ import annotations

import itertools
import json
import random
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.config import Config
from chalice.local import LocalGateway
from moto.core.botocore_stubber import BotocoreStubber

from bluehill_dev.harness_env import TenantWorld

THREADS, INCREMENTS = 8, 25
COUNTER = "visits"
BACKOFF_SECONDS = 0.005
SWITCH_INTERVAL_SECONDS = 1e-4  # default 5e-3: a thread would mostly run a whole request before yielding


@pytest.fixture
def atomic_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    handle = BotocoreStubber.__call__

    def one_call_at_a_time(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return handle(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", one_call_at_a_time)


@pytest.fixture
def one_metric_flush_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Powertools Metrics buffers per container (one request at a time in Lambda); threads
    sharing it would flush each other's buffers."""
    from chalicelib.core import http

    lock = threading.Lock()
    record = http.record_request

    def record_alone(*args: Any, **kwargs: Any) -> None:
        with lock:
            record(*args, **kwargs)

    monkeypatch.setattr(http, "record_request", record_alone)


@pytest.fixture
def busy_interleaving() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    yield
    sys.setswitchinterval(previous)


@dataclass
class Caller:
    """One thread's HTTP client: its own gateway over the shared app."""

    gateway: LocalGateway
    token: str
    conflicts: int = 0
    errors: list[Any] = field(default_factory=list)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        raw = json.dumps(body).encode() if body is not None else b""
        answer = self.gateway.handle_request(method=method, path=path, headers=headers, body=raw)
        return answer["statusCode"], json.loads(answer["body"])

    def read(self, path: str) -> dict[str, Any] | None:
        status, current = self.request("GET", path)
        if status != 200:
            self.errors.append((status, current))
            return None
        return current

    def increment(self, path: str, current: dict[str, Any]) -> dict[str, Any] | None:
        """Write counter + 1 with the version of `current`; on 409, back off (with jitter, as a
        well-behaved client does), read again and retry. Returns the customer as written."""
        for attempt in itertools.count():
            value = current["custom_fields"][COUNTER]["value"]
            status, answer = self.request("PATCH", path, {
                "version": current["version"],
                "custom_fields": {COUNTER: {"type": "number", "value": value + 1}},
            })
            if status == 200:
                return answer
            if status != 409:
                self.errors.append((status, answer))
                return None
            self.conflicts += 1
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** min(attempt, 4)))
            reread = self.read(path)
            if reread is None:
                return None
            current = reread
        raise AssertionError("unreachable")


def hammer(chalice_app: Any, world: TenantWorld) -> tuple[dict[str, Any], list[Caller]]:
    """Run the workload on a new customer; return the customer as it ends and the callers."""
    created = world.as_("owner").post("/customers", {
        "name": "Contended Co", "custom_fields": {COUNTER: {"type": "number", "value": 0}},
    })
    assert created.status == 201, created.body
    path = f"/customers/{created.json['id']}"
    config = Config.create(chalice_stage="dev", app_name="bluehill", lambda_timeout=30, lambda_memory_size=512)
    callers = [Caller(LocalGateway(chalice_app, config), world.tokens["owner"]) for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def work(caller: Caller) -> None:
        start.wait()
        current = caller.read(path)
        for _ in range(INCREMENTS):
            current = caller.increment(path, current) if current else None

    threads = [threading.Thread(target=work, args=(caller,)) for caller in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return world.as_("owner").get(path).json, callers


@pytest.mark.usefixtures("atomic_aws_calls", "one_metric_flush_at_a_time", "busy_interleaving")
def test_concurrent_versioned_patches_lose_no_update(chalice_app: Any, acme: TenantWorld) -> None:
    final, callers = hammer(chalice_app, acme)
    assert [caller.errors for caller in callers] == [[]] * THREADS
    assert final["custom_fields"][COUNTER]["value"] == THREADS * INCREMENTS
    assert final["version"] == 1 + THREADS * INCREMENTS
    assert sum(caller.conflicts for caller in callers) > 0, "no contention happened: the test proved nothing"


@pytest.mark.usefixtures("atomic_aws_calls", "one_metric_flush_at_a_time", "busy_interleaving")
def test_control_the_same_workload_without_the_version_check_loses_updates(
    chalice_app: Any, acme: TenantWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.customers import service

    monkeypatch.setattr(service, "require_version", lambda *args: None)  # the client's version is ignored
    final, callers = hammer(chalice_app, acme)
    assert [caller.errors for caller in callers] == [[]] * THREADS
    assert final["custom_fields"][COUNTER]["value"] < THREADS * INCREMENTS, "the control lost nothing"
