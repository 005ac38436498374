"""Hot items under concurrency, with the AWS-fidelity layer on (transactions that touch one
item at once conflict, as on DynamoDB).

`python -m bluehill_dev.bench.scenarios.contention [--requests N]` (run by `make bench`):
N concurrent ticket creates in one round-robin queue, N concurrent task moves in one project,
N concurrent applies of one template; reports failed requests, the layer's conflicts (and the
items they were on) and whether the counters they move are exact (the week's SLA rollup and
the queue's loads; the project's counts per status; the template's projects created). The
rollup, the loads and the template's projects created are moved by consumers of the requests'
events, never in the request's transaction: each scenario delivers the events (the in-process
relay) before reading them.
tests/api/test_hot_items.py runs the same at a smaller size."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bluehill_dev import fidelity, parallel
from bluehill_dev.harness_env import TenantWorld

DEFAULT_REQUESTS = 20


@dataclass
class Outcome:
    name: str
    requests: int
    failed: list[Any] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    counters_exact: bool = False
    counters: dict[str, Any] = field(default_factory=dict)
    conflicts: int = 0
    conflicted_items: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _ok(response: Any, status: int = 200) -> Any:
    if response.status != status:
        raise RuntimeError(f"setup failed: {response.status} {response.body}")
    return response.body


def _deliver() -> None:
    """Deliver every committed event to its consumers (the relay on the table's stream)."""
    from bluehill_dev.harness_env import event_bus

    event_bus().drain()


def _rollup_created(world: TenantWorld) -> int:
    from chalicelib.core.scope import tenant_scope
    from chalicelib.tickets import service as tickets

    with tenant_scope(world.tenant_id):
        week = tickets.iso_week(datetime.now(UTC))
        return sum(row["created"] for row in tickets.rollup(world.tenant_id, week))


def _run(name: str, chalice_app: Any, world: TenantWorld, requests: list[tuple[str, str, Any]],
         expected_status: int) -> Outcome:
    callers = [parallel.caller(chalice_app, world.tokens["owner"]) for _ in requests]
    before, items_before = fidelity.stats().conflicts, Counter(fidelity.stats().conflicted_items)
    started = time.perf_counter()
    with parallel.threads_safe():
        answers = parallel.together(len(requests), lambda i: callers[i].request(*requests[i]))
    outcome = Outcome(name, len(requests), seconds=round(time.perf_counter() - started, 2))
    outcome.statuses = dict(Counter(status for status, _ in answers))
    outcome.failed = [(status, body) for status, body in answers if status != expected_status]
    outcome.conflicts = fidelity.stats().conflicts - before
    outcome.conflicted_items = dict((fidelity.stats().conflicted_items - items_before).most_common(5))
    return outcome


def ticket_creates(chalice_app: Any, world: TenantWorld, count: int) -> Outcome:
    owner = world.as_("owner")
    members = [world.users[role] for role in ("owner", "admin", "member") if role in world.users]
    customer = _ok(owner.post("/customers", {"name": "Contended Tickets Co"}), 201)
    queue = _ok(owner.post("/queues", {"name": f"Hot queue {time.time_ns()}", "members": members,
                                       "routing": "round_robin"}), 201)
    _deliver()
    created_before = _rollup_created(world)
    body = {"subject": "At once", "description": "Many at once", "customer_id": customer["id"],
            "queue_id": queue["id"]}
    outcome = _run("concurrent ticket creates", chalice_app, world, [("POST", "/tickets", body)] * count, 201)
    fidelity.settle()
    _deliver()
    loads = _ok(owner.get(f"/queues/{queue['id']}"))["open_counts"]
    created = _rollup_created(world) - created_before
    succeeded = outcome.statuses.get(201, 0)
    outcome.counters = {"rollup_created": created, "queue_loads": loads}
    outcome.counters_exact = created == succeeded and sum(loads.values()) == succeeded
    return outcome


def task_moves(chalice_app: Any, world: TenantWorld, count: int) -> Outcome:
    owner = world.as_("owner")
    customer = _ok(owner.post("/customers", {"name": "Contended Tasks Co"}), 201)
    project = _ok(owner.post(f"/customers/{customer['id']}/projects", {"name": "Hot board"}), 201)
    tasks = [_ok(owner.post(f"/projects/{project['id']}/tasks", {"title": f"Task {n}"}), 201) for n in range(count)]
    moves = [("POST", f"/tasks/{task['id']}/move", {"status": "in_progress"}) for task in tasks]
    outcome = _run("concurrent task moves", chalice_app, world, moves, 200)
    after = _ok(owner.get(f"/projects/{project['id']}"))
    moved = outcome.statuses.get(200, 0)
    outcome.counters = {"counts": after["counts"], "task_count": after["task_count"]}
    outcome.counters_exact = after["counts"].get("in_progress", 0) == moved and after["task_count"] == count \
        and sum(after["counts"].values()) == count
    return outcome


def template_applies(chalice_app: Any, world: TenantWorld, count: int) -> Outcome:
    owner = world.as_("owner")
    customer = _ok(owner.post("/customers", {"name": "Contended Templates Co"}), 201)
    template = _ok(owner.post("/templates", {"name": f"Hot template {time.time_ns()}", "category": "onboarding",
                                             "tasks": [{"key": "kickoff", "title": "Kickoff", "day": 1}]}), 201)
    body = {"customer_id": customer["id"], "anchor": {"date": "2030-01-07"}}
    outcome = _run("concurrent template applies", chalice_app, world,
                   [("POST", f"/templates/{template['id']}/apply", body)] * count, 201)
    _deliver()
    created = _ok(owner.get(f"/templates/{template['id']}/analytics"))["projects_created"]
    outcome.counters = {"projects_created": created}
    outcome.counters_exact = created == outcome.statuses.get(201, 0)
    return outcome


SCENARIOS = (ticket_creates, task_moves, template_applies)


def render(outcomes: list[Outcome]) -> str:
    lines = [f"{'scenario':<28} {'requests':>8} {'failed':>6} {'conflicts':>9} {'exact':>5} {'seconds':>7}"]
    for o in outcomes:
        lines.append(f"{o.name:<28} {o.requests:>8} {len(o.failed):>6} {o.conflicts:>9} "
                     f"{'yes' if o.counters_exact else 'NO':>5} {o.seconds:>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from chalice.test import Client

    from bluehill_dev.harness_env import build_tenant, in_process_aws, jwks_server

    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.scenarios.contention", description=__doc__)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help="concurrent requests per scenario")
    parser.add_argument("--output", type=Path, default=Path(".bench") / "contention.json")
    args = parser.parse_args(argv)
    with jwks_server() as jwks_url, in_process_aws(jwks_url) as aws:
        from app import app

        with Client(app) as client:
            world = build_tenant(aws, client)
            outcomes = [measure(app, world, args.requests) for measure in SCENARIOS]
    print(render(outcomes))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"fidelity": asdict(fidelity.settings()) | {"throttle_operations": None},
                                       "scenarios": [asdict(o) for o in outcomes]}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
