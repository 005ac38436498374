"""The time room: timer start (stopping the running one) and stop, entry create, a 200-entry
week's approval (the route: one transaction — the timesheet is the lock; the entries' own
status follows in the consumer's transactions of 90, counted apart), and the time report at 1x
and 10x the entries over the same rollup rows (its reads follow the rows, not the entries)."""

from __future__ import annotations

from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import Transaction
from chalicelib.customers import service as customers
from chalicelib.timekeeping.entries import build_entry, stage_create
from chalicelib.timekeeping.settings import context
from chalicelib.timekeeping.targets import Target as On

from bluehill_dev.bench.harness import ROUTE_CEILING, Bench, Call, Steps, Target, scenario

WEEK_ENTRIES = 200
REPORT_ENTRIES = (20, 200)  # 10x the entries, the same days x customers: the same rollup rows
TIMER = Target("timer: 1 TransactWrite", ROUTE_CEILING, max_transactions=1, max_reads=3)
ENTRY = Target("entry: 1 TransactWrite", ROUTE_CEILING, max_transactions=1, max_reads=2)
APPROVE = Target("approve 200: 1 TransactWrite", ROUTE_CEILING, max_transactions=1, max_reads=8)
REPORT = Target("report: reads ∝ rollup rows", ROUTE_CEILING, max_transactions=0, max_reads=3)


def _customer(bench: Bench, name: str) -> str:
    with tenant_scope(bench.tenant_id):
        return customers.create_customer(bench.principal("owner"), {"name": name,
                                                                    "owner_id": bench.world.users["member"]}).id


def _entries(bench: Bench, role: str, customer_id: str, count: int, days: tuple[str, ...]) -> None:
    """`count` entries through the room's own service (unmeasured), in transactions of 90."""
    principal = bench.principal(role)
    with tenant_scope(bench.tenant_id):
        ctx = context(bench.tenant_id)
        for start in range(0, count, 90):
            tx = Transaction()
            for n in range(start, min(count, start + 90)):
                stage_create(tx, principal, build_entry(principal, principal.user_id, On(customer_id), ctx,
                                                        {"date": days[n % len(days)], "minutes": 5}))
            tx.commit()


def _shared_customer(bench: Bench) -> str:
    return bench.prepared(lambda b: _customer(b, "Bench time"))


@scenario("POST /timers [one running]", group="time", target=TIMER)
def start_timer(bench: Bench) -> Steps:
    customer_id = _shared_customer(bench)
    bench.api("member").post("/timers", {"customer_id": customer_id})
    for _ in range(bench.repeats):
        answer = yield Call("POST", "/timers", {"customer_id": customer_id}, role="member")
        assert answer is not None and answer.status == 201 and answer.body["stopped"], answer


@scenario("POST /timers/{id}/stop", group="time", target=TIMER)
def stop_timer(bench: Bench) -> Steps:
    customer_id = _shared_customer(bench)
    for _ in range(bench.repeats):
        timer = bench.api("member").post("/timers", {"customer_id": customer_id}).body["timer"]
        answer = yield Call("POST", f"/timers/{timer['id']}/stop", {}, role="member")
        assert answer is not None and answer.status == 200, answer


@scenario("POST /time-entries", group="time", target=ENTRY)
def create_entry(bench: Bench) -> Steps:
    customer_id = _shared_customer(bench)
    for _ in range(bench.repeats):
        answer = yield Call("POST", "/time-entries", {"customer_id": customer_id, "date": "2026-05-05",
                                                      "minutes": 30}, role="member")
        assert answer is not None and answer.status == 201, answer


@scenario(f"POST /timesheets/{{id}}/approve [{WEEK_ENTRIES} entries]", group="time", target=APPROVE)
def approve_week(bench: Bench) -> Steps:
    from bluehill_dev.harness_env import event_bus

    weeks = ["2026-W10", "2026-W11", "2026-W12"][: min(bench.repeats, 3)]
    days = {"2026-W10": ("2026-03-02", "2026-03-03"), "2026-W11": ("2026-03-09", "2026-03-10"),
            "2026-W12": ("2026-03-16", "2026-03-17")}
    customer_id = _shared_customer(bench)
    for week in weeks:
        _entries(bench, "admin", customer_id, WEEK_ENTRIES, days[week])
        sheet = f"{bench.world.users['admin']}--{week}"
        bench.api("admin").post(f"/timesheets/{sheet}/submit", {})
        answer = yield Call("POST", f"/timesheets/{sheet}/approve", {})
        assert answer is not None and answer.status == 200 and answer.body["entry_count"] == WEEK_ENTRIES, answer
        event_bus().drain()  # the entries follow (3 transactions of ≤90), outside the route


def _report_over(bench: Bench, count: int, month: str) -> Steps:
    """The report over four days of `month` holding `count` entries (4 rollup rows)."""
    from bluehill_dev.harness_env import event_bus

    customer_id = _customer(bench, f"Bench report {count}")
    days = tuple(f"2026-{month}-0{d}" for d in range(6, 10))
    _entries(bench, "member", customer_id, count, days)
    event_bus().drain()  # the rollup consumer counts them
    for _ in range(bench.repeats):
        answer = yield Call("GET", f"/reports/time?from={days[0]}&to={days[-1]}&group_by=customer")
        assert answer is not None and answer.status == 200, answer
        assert sum(r["minutes"] for r in answer.body["rows"]) >= count * 5, answer.body


@scenario(f"GET /reports/time [{REPORT_ENTRIES[0]} entries]", group="time", target=REPORT)
def report_small(bench: Bench) -> Steps:
    yield from _report_over(bench, REPORT_ENTRIES[0], "04")


@scenario(f"GET /reports/time [{REPORT_ENTRIES[1]} entries]", group="time", target=REPORT)
def report_large(bench: Bench) -> Steps:
    yield from _report_over(bench, REPORT_ENTRIES[1], "07")
