"""Tickets and the SLA sweep.

Route scenarios (group `tickets`) go through the harness like every room's. The sweep is not a
route: `python -m bluehill_dev.bench.scenarios.sla` (run by `make bench` after the routes)
seeds a tenant with N open tickets of which D are due, runs the sweep once, and reports items
read ÷ tickets due — the issue's target is ≤ 1.2, flat from 1,000 to 100,000 open tickets
(those are the default sizes; see DEFAULT_SIZES).

Seeding 100,000 tickets through the API would take most of an hour on moto, so the D due
tickets are created through the tickets service and the N - D others are copies of one
service-created ticket (due a month later), written with BatchWriteItem: real ticket items with
their SYSDUE keys, just without list-index entries, which the sweep never reads."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from bluehill_dev.bench.harness import LIST, READ, Bench, Call, Steps, Target, scenario

TICKET_WRITE = Target("ticket write: see operations", 2)
SWEEP_TARGET = 1.2
# The sizes. On moto 100,000 tickets take ~4 minutes and ~7 GB (moto keeps ~70 KB per
# item and walks the whole table on every Query); `--open 20000` is the quick variant.
DEFAULT_SIZES = (1_000, 100_000)
DUE_TICKETS = 20
MONDAY_0900 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
SWEEP_AT = MONDAY_0900 + timedelta(minutes=20)  # urgent: first-response warning due at 09:15


# ---------- route scenarios ----------


def _customer(bench: Bench) -> str:
    return str(bench.api().post("/customers", {"name": "Bench tickets"}).json["id"])


def _tickets(bench: Bench) -> list[str]:
    customer_id = bench.prepared(_customer)
    ids = []
    for n in range(max(bench.repeats, 3)):
        body = {"subject": f"Bench {n}", "description": "d", "customer_id": customer_id}
        ids.append(str(bench.api().post("/tickets", body).json["id"]))
    return ids


@scenario("POST /tickets", group="tickets", target=TICKET_WRITE)
def create_ticket(bench: Bench) -> Steps:
    customer_id = bench.prepared(_customer)
    for n in range(bench.repeats):
        yield Call("POST", "/tickets", {"subject": f"New {n}", "description": "d", "customer_id": customer_id})


@scenario("GET /tickets/{id}", group="tickets", target=READ)
def read_ticket(bench: Bench) -> Steps:
    for ticket_id in bench.prepared(_tickets)[: bench.repeats]:
        yield Call("GET", f"/tickets/{ticket_id}")


@scenario("GET /tickets?assignee_id=none&sort=sla_due", group="tickets", target=LIST)
def unassigned_view(bench: Bench) -> Steps:
    bench.prepared(_tickets)
    for _ in range(bench.repeats):
        yield Call("GET", "/tickets?assignee_id=none&sort=sla_due&limit=20")


@scenario("GET /tickets?sort=updated", group="tickets", target=LIST)
def all_tickets(bench: Bench) -> Steps:
    bench.prepared(_tickets)
    for _ in range(bench.repeats):
        yield Call("GET", "/tickets?sort=updated&limit=20")


@scenario("PATCH /tickets/{id}", group="tickets", target=TICKET_WRITE)
def change_ticket(bench: Bench) -> Steps:
    for n, ticket_id in enumerate(bench.prepared(_tickets)[: bench.repeats]):
        version = bench.api().get(f"/tickets/{ticket_id}").json["version"]
        yield Call("PATCH", f"/tickets/{ticket_id}", {"version": version, "tags": [f"bench{n}"]})


@scenario("POST /tickets/{id}/messages", group="tickets", target=TICKET_WRITE)
def reply(bench: Bench) -> Steps:
    for ticket_id in bench.prepared(_tickets)[: bench.repeats]:
        yield Call("POST", f"/tickets/{ticket_id}/messages", {"body": "We are on it."})


@scenario("GET /tickets/{id}/sla", group="tickets", target=READ)
def explain(bench: Bench) -> Steps:
    for ticket_id in bench.prepared(_tickets)[: bench.repeats]:
        yield Call("GET", f"/tickets/{ticket_id}/sla")


# ---------- the sweep ----------


class ReadCounter:
    """Items DynamoDB read (Query ScannedCount, GetItem, BatchGetItem items) while counting."""

    def __init__(self) -> None:
        self.active = False
        self.items = 0
        self.calls: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        if client.meta.service_model.service_name == "dynamodb":
            client.meta.events.register("after-call.dynamodb", self._after_call)

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if not self.active:
            return
        self.calls[model.name] += 1
        if model.name == "Query":
            self.items += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            self.items += int("Item" in parsed)
        elif model.name == "BatchGetItem":
            self.items += sum(len(found) for found in parsed.get("Responses", {}).values())

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.items, self.calls, self.active = 0, Counter(), True
        try:
            yield
        finally:
            self.active = False


@contextmanager
def table_sized_transactions() -> Iterator[None]:
    """moto backs up a whole table with `copy.deepcopy` for rollback on every TransactWriteItems
    (the shared harness already brings that to once per transaction), so each transaction costs
    O(items in the table) — seconds at 100,000 tickets. DynamoDB has no such cost. Inside this
    context the backup copies only each table's item maps (the item objects an update changes
    in place are not restored), so it must follow `in_process_aws`; a transaction that fails
    fails the bench, since its rollback would be partial."""
    import copy

    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.table import Table

    real, real_copy = dynamodb_models.DynamoDBBackend.transact_write_items, dynamodb_models.copy

    def backup(table: Any) -> Any:
        shallow = copy.copy(table)
        shallow.items = type(table.items)(table.items.default_factory,
                                          {key: dict(value) for key, value in table.items.items()})
        return shallow

    class CheapCopy:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return backup(value) if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            return real(self, transact_items)
        except Exception as error:
            raise RuntimeError("a bench transaction failed; its rollback would be partial") from error

    dynamodb_models.copy = CheapCopy()  # type: ignore[attr-defined]
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        dynamodb_models.copy = real_copy  # type: ignore[attr-defined]
        dynamodb_models.DynamoDBBackend.transact_write_items = real  # type: ignore[method-assign]


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    from chalicelib.sla import service as sla

    real = sla.now
    sla.now = lambda: moment  # type: ignore[assignment]
    try:
        yield
    finally:
        sla.now = real  # type: ignore[assignment]


def _copies(template: Any, count: int) -> Iterator[Any]:
    """`count` tickets like `template` with their own ids (and so their own SYSDUE shards)."""
    from chalicelib.core.ids import new_id
    from chalicelib.tickets.models import Ticket, due_pk, due_shard

    values = {k: v for k, v in template.attribute_values.items() if k not in {"PK", "SK"}}
    instant = template.SYSDUESK.split("#T#")[0]
    for _ in range(count):
        ticket_id = new_id()
        copy = Ticket(Ticket.pk(template.tenant_id, ticket_id), Ticket.SORT, **{**values, "id": ticket_id})
        for n in range(1, 5):
            setattr(copy, f"GSI{n}SK", getattr(template, f"GSI{n}SK").replace(template.id, ticket_id))
        copy.SYSDUEPK = due_pk(due_shard(ticket_id))
        copy.SYSDUESK = f"{instant}#T#{template.tenant_id}#{ticket_id}"
        yield copy


def seed(world: Any, open_tickets: int, due_tickets: int) -> float:
    """Create the due tickets through the service and copy a not-yet-due one for the rest."""
    from chalicelib.core.scope import tenant_scope
    from chalicelib.customers import service as customers
    from chalicelib.tickets import service as tickets
    from chalicelib.tickets.models import Ticket

    started = time.perf_counter()
    owner = world.principal("owner")
    with tenant_scope(world.tenant_id):
        customer_id = customers.create_customer(owner, {"name": "Sweep bench"}).id
        fields = {"subject": "Down", "description": "d", "customer_id": customer_id, "priority": "urgent"}
        with clock_at(MONDAY_0900):
            for _ in range(due_tickets):
                tickets.create_ticket(owner, fields)
        with clock_at(MONDAY_0900 + timedelta(days=30)):
            template = tickets.create_ticket(owner, fields)
        with Ticket.batch_write() as batch:
            for copy in _copies(template, open_tickets - due_tickets - 1):
                batch.save(copy)
    return time.perf_counter() - started


@cache
def _counter() -> ReadCounter:
    """One counter for the process: clients (PynamoDB's connection among them) outlive a size."""
    from chalicelib.core.tenant_guard import on_every_client

    counter = ReadCounter()
    on_every_client(counter.attach)
    return counter


def measure(open_tickets: int, due_tickets: int) -> dict[str, Any]:
    """One size on a fresh in-process AWS: seed, sweep once, count what the sweep read."""
    from chalice.test import Client

    from bluehill_dev.harness_env import build_tenant, in_process_aws, jwks_server

    counter = _counter()
    with jwks_server() as jwks_url, in_process_aws(jwks_url) as aws, table_sized_transactions():
        from app import app
        from chalicelib.sla import jobs

        with Client(app) as client:
            world = build_tenant(aws, client, roles=("owner",))
            seconds_seeding = seed(world, open_tickets, due_tickets)
            with counter.counting():
                started = time.perf_counter()
                report = jobs.sweep(SWEEP_AT)
                seconds_sweeping = time.perf_counter() - started
    marked = report.tickets_marked
    return {
        "open_tickets": open_tickets,
        "tickets_due": due_tickets,
        "tickets_marked": marked,
        "items_read": counter.items,
        "read_per_due": round(counter.items / marked, 3) if marked else None,
        "dynamodb_calls": dict(sorted(counter.calls.items())),
        "seed_seconds": round(seconds_seeding, 1),
        "sweep_seconds": round(seconds_sweeping, 2),
    }


def render(rows: list[dict[str, Any]]) -> str:
    lines = [f"SLA sweep: items read ÷ tickets due (target ≤ {SWEEP_TARGET}, flat across sizes)",
             f"{'open':>8} {'due':>5} {'marked':>6} {'read':>6} {'read/due':>8} {'sweep s':>8} {'seed s':>7}  calls"]
    for row in rows:
        ratio = row["read_per_due"]
        verdict = "PASS" if ratio is not None and 1 <= ratio <= SWEEP_TARGET else "FAIL"
        lines.append(f"{row['open_tickets']:>8,} {row['tickets_due']:>5} {row['tickets_marked']:>6} "
                     f"{row['items_read']:>6} {ratio!s:>8} {row['sweep_seconds']:>8} {row['seed_seconds']:>7}  "
                     f"{row['dynamodb_calls']} {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.scenarios.sla", description=__doc__)
    parser.add_argument("--open", type=int, action="append", help="open tickets (repeatable; default 1,000, 100,000)")
    parser.add_argument("--due", type=int, default=DUE_TICKETS, help="tickets due at the sweep")
    parser.add_argument("--output", type=Path, default=Path(".bench") / "sla-sweep.json")
    args = parser.parse_args(argv)
    rows = []
    for size in args.open or DEFAULT_SIZES:
        print(f"  sweep over {size:,} open tickets…", flush=True)
        rows.append(measure(size, min(args.due, size - 1)))
    print(render(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"target": SWEEP_TARGET, "sizes": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
