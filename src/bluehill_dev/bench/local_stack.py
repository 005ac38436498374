"""The local stack under load (group `local-stack`): `bluehill dev` started as `make dev` starts
it (DynamoDB Local for the table, moto for the rest), then, over HTTP as one client would,
N tasks on one board and M tickets for one customer. Reported: create latency p50/p95 over the
first and the last `--window` creates of each, and the stack's resident memory (its Python
process plus DynamoDB Local's JVM) at the start, while loading and at the end — the figure to
watch is that it stays flat as the data grows. Then K two-item TransactWriteItems straight
against DynamoDB Local's table, p50/p95.

`python -m bluehill_dev.bench.local_stack [--tasks 5000] [--tickets 1000] [--transactions 1000]`
(run by `make bench`; `python -m bluehill_dev.bench --group local-stack` runs it too). Writes
`.bench/local-stack.json`. Exits 0 whatever the figures, unless a create fails."""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluehill_dev import REPO_ROOT
from bluehill_dev.stack_process import Reply, StackProcess

GROUP = "local-stack"
DEFAULT_TASKS, DEFAULT_TICKETS, DEFAULT_WINDOW, DEFAULT_TRANSACTIONS = 5_000, 1_000, 100, 1_000
MEMORY_SAMPLES = 10  # memory is also read this many times while each kind is created
MB = 1024 * 1024


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds (nearest rank)."""
    ordered = sorted(seconds)
    rank = lambda share: ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]  # noqa: E731
    return {"p50_ms": round(rank(0.50) * 1000, 1), "p95_ms": round(rank(0.95) * 1000, 1)}


@dataclass
class Creates:
    """One kind of create, timed request by request."""

    what: str
    count: int
    window: int
    seconds: list[float] = field(default_factory=list)
    memory_mb: list[tuple[int, float, float, float]] = field(default_factory=list)  # (created, total, python, JVM)

    def summary(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "count": self.count,
            "first": percentiles(self.seconds[: self.window]),
            "last": percentiles(self.seconds[-self.window:]),
            "mean_ms": round(statistics.fmean(self.seconds) * 1000, 1),
            "memory_mb": self.memory_mb,
        }


class CreateFailed(Exception):
    pass


def _megabytes(stack: StackProcess) -> tuple[float, float, float]:
    memory = stack.memory()
    return tuple(round(memory[part] / MB, 1) for part in ("total", "python", "children"))  # type: ignore[return-value]


def _create_many(stack: StackProcess, creates: Creates, call: Callable[[int], Reply]) -> Creates:
    every = max(1, creates.count // MEMORY_SAMPLES)
    for n in range(creates.count):
        began = time.perf_counter()
        reply = call(n)
        creates.seconds.append(time.perf_counter() - began)
        if reply.status != 201:
            raise CreateFailed(f"{creates.what} #{n} answered {reply.status}: {reply.body}")
        if (n + 1) % every == 0:
            total, python, jvm = _megabytes(stack)
            creates.memory_mb.append((n + 1, total, python, jvm))
            print(f"  {creates.what}: {n + 1:>6}  {creates.seconds[-1] * 1000:7.1f} ms  {total:8.1f} MB "
                  f"(python {python:.1f}, DynamoDB Local {jvm:.1f})", flush=True)
    return creates


def _transactions(endpoint: str, count: int) -> dict[str, float]:
    """Two-item TransactWriteItems (a task-shaped item with an index entry, and a counter)."""
    import boto3

    from bluehill_dev import resources

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=resources.REGION,
                          aws_access_key_id="local", aws_secret_access_key="local")
    partition = f"T#bench-{secrets.token_hex(4)}#TXN"
    seconds = []
    for n in range(count):
        item = {"PK": {"S": partition}, "SK": {"S": f"ITEM#{n:08d}"}, "type": {"S": "bench"},
                "GSI1PK": {"S": f"{partition}#BY"}, "GSI1SK": {"S": f"{n:08d}"}, "title": {"S": "x" * 200}}
        counter = {"Update": {"TableName": resources.TABLE, "Key": {"PK": {"S": partition}, "SK": {"S": "COUNTER"}},
                              "UpdateExpression": "ADD #n :one", "ExpressionAttributeNames": {"#n": "n"},
                              "ExpressionAttributeValues": {":one": {"N": "1"}}}}
        put = {"Put": {"TableName": resources.TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}
        began = time.perf_counter()
        client.transact_write_items(TransactItems=[put, counter])
        seconds.append(time.perf_counter() - began)
    return {"count": count, **percentiles(seconds)}


def run(tasks: int, tickets: int, window: int, transactions: int, stack_log: Path) -> dict[str, Any]:
    """The measurements; the stack's own output (its request log, any traceback) is kept in `stack_log`."""
    with tempfile.TemporaryDirectory(prefix="bluehill-bench-") as scratch:
        stack = StackProcess(Path(scratch) / "local")
        try:
            return _measure(stack, tasks, tickets, window, transactions)
        finally:
            stack_log.parent.mkdir(parents=True, exist_ok=True)
            stack_log.write_text(stack.output())


def _measure(stack: StackProcess, tasks: int, tickets: int, window: int, transactions: int) -> dict[str, Any]:
    stack.start()
    try:
        time.sleep(2)  # the JVM settles after the seed
        started_mb = stack.memory()
        admin = stack.token("demo", "admin")
        customer = stack.request("POST", "/customers", admin, {"name": "Bench load"}).body["id"]
        project = stack.request("POST", f"/customers/{customer}/projects", admin, {"name": "Bench board"})
        if project.status != 201:
            raise CreateFailed(f"the project answered {project.status}: {project.body}")
        board = project.body["id"]
        task_creates = _create_many(stack, Creates("task", tasks, window), lambda n: stack.request(
            "POST", f"/projects/{board}/tasks", admin, {"title": f"Bench task {n}"}))
        ticket_creates = _create_many(stack, Creates("ticket", tickets, window), lambda n: stack.request(
            "POST", "/tickets", admin, {"subject": f"Bench ticket {n}", "description": "d",
                                        "customer_id": customer}))
        loaded_mb = stack.memory()
        txn = _transactions(stack.state()["dynamodb_endpoint"], transactions) if transactions else None
        return {
            "group": GROUP,
            "memory_mb": {"start": {k: round(v / MB, 1) for k, v in started_mb.items()},
                          "end": {k: round(v / MB, 1) for k, v in loaded_mb.items()},
                          "after_transactions": {k: round(v / MB, 1) for k, v in stack.memory().items()}},
            "creates": [task_creates.summary(), ticket_creates.summary()],
            "transact_write_2_items": txn,
        }
    finally:
        stack.stop()


def report(result: dict[str, Any]) -> str:
    memory = result["memory_mb"]
    lines = ["", f"Local stack ({result['group']}): DynamoDB Local + moto, over HTTP",
             f"  {'create':<8}{'count':>7}  {'first p50/p95 ms':>18}  {'last p50/p95 ms':>18}"]
    for row in result["creates"]:
        first, last = row["first"], row["last"]
        lines.append(f"  {row['what']:<8}{row['count']:>7}  {first['p50_ms']:>8} /{first['p95_ms']:>8}  "
                     f"{last['p50_ms']:>8} /{last['p95_ms']:>8}")
    for moment in ("start", "end", "after_transactions"):
        figures = memory[moment]
        lines.append(f"  memory at {moment:<18} {figures['total']:8.1f} MB  (python {figures['python']:.1f}, "
                     f"DynamoDB Local {figures['children']:.1f})")
    if result["transact_write_2_items"]:
        txn = result["transact_write_2_items"]
        lines.append(f"  TransactWriteItems, 2 items, x{txn['count']}: p50 {txn['p50_ms']} ms, p95 {txn['p95_ms']} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.local_stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=DEFAULT_TASKS)
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="creates in the first / last window")
    parser.add_argument("--transactions", type=int, default=DEFAULT_TRANSACTIONS, help="0 skips them")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / ".bench" / "local-stack.json")
    args = parser.parse_args(argv)
    stack_log = args.output.with_name(f"{args.output.stem}-stack.log")
    print(f"local stack: {args.tasks} tasks, {args.tickets} tickets over HTTP …", flush=True)
    try:
        result = run(args.tasks, args.tickets, args.window, args.transactions, stack_log)
    except CreateFailed as failed:
        print(f"local stack bench stopped: {failed} (the stack's output: {stack_log})", file=sys.stderr)
        return 1
    print(report(result), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
