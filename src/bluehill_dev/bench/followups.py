"""`python -m bluehill_dev.bench.followups [--open 100 --open 1000] [--due 20]` (run by `make bench`):
the follow-up sweep reads what is due, not what is open.

For each size, on a fresh in-process moto (the tests' harness): one tenant with N open
follow-ups, D of them due before the sweep's moment and the others a month later, all created
through the follow-ups service (unmeasured); then the sweep (`followups.jobs.run`, what the
`follow_up_sweep` schedule runs) once, counting the DynamoDB calls it makes and the items
DynamoDB read for it (Query ScannedCount, GetItem and BatchGetItem items). Printed: items read
÷ follow-ups due, and the calls — both should stay flat as N grows 10x (the sweep Queries one
SYSDUE index shard at a time, for keys at or before its moment). Exits 0 whatever the figures."""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

from bluehill_dev import REPO_ROOT
from bluehill_dev.bench.scenarios.sla import _counter, table_sized_transactions

DEFAULT_SIZES = (100, 1_000)
DUE = 20


def seed(world: Any, open_count: int, due_count: int, sweep_at: datetime) -> float:
    from chalicelib.core.scope import tenant_scope
    from chalicelib.customers import service as customers
    from chalicelib.followups import service

    started = time.perf_counter()
    owner = world.principal("owner")
    with tenant_scope(world.tenant_id):
        customer_id = customers.create_customer(owner, {"name": "Sweep bench"}).id
        for n in range(open_count):
            due_at = sweep_at - timedelta(minutes=5) if n < due_count else sweep_at + timedelta(days=30)
            service.create_follow_up(owner, service.Draft(customer_id=customer_id, title=f"Call back {n}",
                                                          assignee_id=owner.user_id, due_at=due_at))
    return time.perf_counter() - started


def measure(open_count: int, due_count: int) -> dict[str, Any]:
    """One size on a fresh in-process AWS: seed, sweep once, count what the sweep read."""
    from chalice.test import Client

    from bluehill_dev import fidelity
    from bluehill_dev.harness_env import build_tenant, in_process_aws, jwks_server

    counter = _counter()
    sweep_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    with (redirect_stdout(StringIO()), jwks_server() as jwks_url, in_process_aws(jwks_url) as aws,
          table_sized_transactions()):
        from app import app
        from chalicelib.followups import jobs

        with Client(app) as client:
            world = build_tenant(aws, client, roles=("owner",))
            seconds_seeding = seed(world, open_count, due_count, sweep_at)
            fidelity.settle()  # the scheduled sweep runs after the due index caught up
            with counter.counting():
                started = time.perf_counter()
                report = jobs.run(sweep_at)
                seconds_sweeping = time.perf_counter() - started
    return {
        "open_follow_ups": open_count, "due": due_count, "marked": report.marked,
        "items_read": counter.items,
        "read_per_due": round(counter.items / report.marked, 3) if report.marked else None,
        "dynamodb_calls": dict(sorted(counter.calls.items())),
        "seed_seconds": round(seconds_seeding, 1), "sweep_seconds": round(seconds_sweeping, 2),
    }


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["Follow-up sweep: items read ÷ follow-ups due (flat as the open follow-ups grow)",
             f"{'open':>7} {'due':>5} {'marked':>6} {'read':>6} {'read/due':>8} {'sweep s':>8} {'seed s':>7}  calls"]
    for row in rows:
        lines.append(f"{row['open_follow_ups']:>7,} {row['due']:>5} {row['marked']:>6} {row['items_read']:>6} "
                     f"{row['read_per_due']!s:>8} {row['sweep_seconds']:>8} {row['seed_seconds']:>7}  "
                     f"{row['dynamodb_calls']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.followups", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, action="append", help="open follow-ups (repeatable; default 100, 1,000)")
    parser.add_argument("--due", type=int, default=DUE, help="follow-ups due at the sweep")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / ".bench" / "follow-up-sweep.json")
    args = parser.parse_args(argv)
    rows = []
    for size in args.open or DEFAULT_SIZES:
        print(f"  follow-up sweep over {size:,} open follow-ups…", flush=True)
        rows.append(measure(size, min(args.due, size)))
    print(render(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"sizes": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
