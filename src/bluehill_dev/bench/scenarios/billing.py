"""Invoices: a draft over 250 approved entries (claims in batches of 98, so four transactions
besides the start: start, three claim batches, complete) and its finalize (one transaction:
the invoice, the series counter, the number's uniqueness item)."""

from __future__ import annotations

from chalicelib.core.scope import tenant_scope
from chalicelib.customers import service as customers

from bluehill_dev import billing_seed
from bluehill_dev.bench.harness import ROUTE_CEILING, Bench, Call, Steps, Target, scenario

ENTRIES = 250
DRAFT = Target("draft 250: ≤5 TransactWrites", ROUTE_CEILING, max_transactions=5, max_reads=14)
FINALIZE = Target("finalize: 1 TransactWrite", ROUTE_CEILING, max_transactions=1, max_reads=8)


def _customer_with_entries(bench: Bench) -> str:
    with tenant_scope(bench.tenant_id):
        customer = customers.create_customer(bench.principal("owner"), {"name": "Bench billed"})
    billing_seed.approved_entries(bench.tenant_id, bench.world.users["member"], customer.id, ENTRIES)
    return customer.id


def _draft_call(customer_id: str) -> Call:
    return Call("POST", "/invoices", {"customer_id": customer_id, "from": "2026-06-01", "to": "2026-06-30",
                                      "group_by": "detailed"})


@scenario(f"POST /invoices [{ENTRIES} entries]", group="billing", target=DRAFT)
def draft(bench: Bench) -> Steps:
    for _ in range(min(bench.repeats, 3)):
        answer = yield _draft_call(_customer_with_entries(bench))
        assert answer is not None and answer.status == 201, answer


@scenario(f"POST /invoices/{{id}}/finalize [{ENTRIES} entries]", group="billing", target=FINALIZE)
def finalize(bench: Bench) -> Steps:
    for _ in range(min(bench.repeats, 3)):
        drafted = bench.send(_draft_call(_customer_with_entries(bench)))
        answer = yield Call("POST", f"/invoices/{drafted.body['id']}/finalize")
        assert answer is not None and answer.status == 200 and answer.body["number"], answer
