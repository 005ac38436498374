"""Requests in parallel threads through the real app, for the concurrency tests and the bench.

  * Each thread drives its own LocalGateway (the engine under chalice.test.Client, minus the
    client's per-request swap of os.environ, which is not thread-safe).
  * DynamoDB requests are applied one at a time by the AWS-fidelity layer (as DynamoDB applies
    each request atomically) — and conflict there as DynamoDB's transactions do; the other
    services' moto backends have no locking, so `threads_safe()` gives them one.
  * Powertools Metrics buffers per container; threads sharing it flush one at a time.
  * The thread switch interval is shortened so that threads interleave inside requests."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
SWITCH_INTERVAL_SECONDS = 1e-4  # default 5e-3: a thread would mostly run a whole request before yielding


@dataclass
class Caller:
    """One thread's HTTP client: its own gateway over the shared app."""

    gateway: Any
    token: str
    errors: list[Any] = field(default_factory=list)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        raw = json.dumps(body).encode() if body is not None else b""
        answer = self.gateway.handle_request(method=method, path=path, headers=headers, body=raw)
        return answer["statusCode"], json.loads(answer["body"]) if answer["body"] else None


def caller(chalice_app: Any, token: str) -> Caller:
    from chalice.config import Config
    from chalice.local import LocalGateway

    config = Config.create(chalice_stage="dev", app_name="bluehill", lambda_timeout=30, lambda_memory_size=512)
    return Caller(LocalGateway(chalice_app, config), token)


def together(count: int, work: Callable[[int], T], timeout: float = 120) -> list[T]:
    """`work(0..count-1)` in `count` threads released at once; their results in order."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        start.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("a worker hung")
    return results


@contextmanager
def threads_safe(lock_dynamodb_too: bool = False) -> Iterator[None]:
    """Non-DynamoDB AWS calls one at a time (all calls, with `lock_dynamodb_too`), one metrics
    flush at a time, and a short thread switch interval; everything restored after."""
    from chalicelib.core import http
    from moto.core.botocore_stubber import BotocoreStubber

    lock, handle, record = threading.Lock(), BotocoreStubber.__call__, http.record_request

    def one_call_at_a_time(self: Any, event_name: str, *args: Any, **kwargs: Any) -> Any:
        if not lock_dynamodb_too and ".dynamodb." in event_name:
            return handle(self, event_name, *args, **kwargs)
        with lock:
            return handle(self, event_name, *args, **kwargs)

    flush_lock = threading.Lock()

    def record_alone(*args: Any, **kwargs: Any) -> None:
        with flush_lock:
            record(*args, **kwargs)

    previous = sys.getswitchinterval()
    BotocoreStubber.__call__ = one_call_at_a_time  # type: ignore[method-assign]
    http.record_request = record_alone  # type: ignore[assignment]
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
        BotocoreStubber.__call__ = handle  # type: ignore[method-assign]
        http.record_request = record  # type: ignore[assignment]
