"""Templates: the one-click apply, counted in transactions (TransactWriteItems) and reads.

The issue's targets: a 30-task template applies in one transaction (plus at most one read of
the template); a 200-task template in at most 3 transactions plus the reveal (one more). The
reads are the template's and the customer's (its owner, name and contract_start shape the
project): the verdict allows those two. Each apply goes to a fresh customer, with an
Idempotency-Key, as clients are asked to."""

from __future__ import annotations

import secrets
from typing import Any

from bluehill_dev.bench.harness import Bench, Call, Steps, Target, scenario

APPLY_30 = Target("1 transaction, template + customer read", 0, max_transactions=1, max_reads=2)
APPLY_200 = Target("≤3 transactions + the reveal", 0, max_transactions=4, max_reads=2)
SIZES = (30, 200)


def _template(bench: Bench, task_count: int) -> str:
    tasks = [{"key": f"t{n:03d}", "title": f"Step {n}", "day": 1 + n % 30, "duration_days": 1 + n % 3,
              "depends_on": [f"t{n - 1:03d}"] if n % 5 else []} for n in range(task_count)]
    created = bench.api().post("/templates", {"name": f"Bench {task_count} tasks", "category": "onboarding",
                                              "tasks": tasks})
    if created.status != 201:
        raise RuntimeError(f"bench setup failed: {created.status} {created.body}")
    return str(created.json["id"])


def _templates(bench: Bench) -> dict[int, str]:
    return {size: _template(bench, size) for size in SIZES}


def _customer(bench: Bench) -> str:
    created = bench.api().post("/customers", {"name": f"Bench apply {secrets.token_hex(4)}"})
    return str(created.json["id"])


def _applies(bench: Bench, task_count: int) -> Steps:
    template_id = bench.prepared(_templates)[task_count]
    for _ in range(bench.repeats):
        body: dict[str, Any] = {"customer_id": _customer(bench), "anchor": {"date": "2026-06-12"}}
        yield Call("POST", f"/templates/{template_id}/apply", body,
                   headers={"Idempotency-Key": f"bench-{secrets.token_hex(6)}"})


@scenario("POST /templates/{id}/apply [30 tasks]", group="templates", target=APPLY_30)
def apply_30(bench: Bench) -> Steps:
    return _applies(bench, 30)


@scenario("POST /templates/{id}/apply [200 tasks]", group="templates", target=APPLY_200)
def apply_200(bench: Bench) -> Steps:
    return _applies(bench, 200)
