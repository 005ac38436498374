"""Projects and tasks: the 500-task board (Kanban and Gantt), the writes that must each be one
transaction (create, move, complete, a bulk update of 40), and "my overdue tasks across every
board" (items read per item returned).

The seed (through the services, once per run): a 500-task board created whole (so it goes
through the hidden, batched provisioning path), with subtasks, dependency chains and a spread
of due dates; three more boards holding the member's overdue tasks, one in five of them shared
with the owner as first assignee (so the member is on an assignment entry, resolved with a
BatchGet), plus tasks of other people. A task's id starts with its project's, so task writes
read the task and its project (and the tasks it touches) in one BatchGet, then commit one
TransactWriteItems: two calls."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.core.scope import tenant_scope
from chalicelib.customers import service as customers
from chalicelib.work import service as work

from bluehill_dev.bench.harness import LIST, READ, Bench, Call, Steps, Target, scenario

BOARD_TASKS = 500
OVERDUE_BOARDS = 3
OVERDUE_PER_BOARD = 30
SHARED_ONE_IN = 5
BULK = 40

BOARD = Target("board: ⌈tasks / page⌉ Queries", 2, 2)
TASK_WRITE = Target("task write: 1 TransactWrite", 2)
TASK_READ = Target("task read: task + project, one BatchGet", 1)


@dataclass(frozen=True)
class Seed:
    board_id: str
    task_ids: list[str]  # top-level tasks of the big board, in column order
    leaf_ids: list[str]  # top-level tasks without subtasks
    overdue_board_ids: list[str]


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def _board_specs(count: int) -> list[dict[str, object]]:
    specs: list[dict[str, object]] = []
    for n in range(count):
        spec: dict[str, object] = {"key": f"t{n}", "title": f"Step {n}", "start_date": _day(n % 40 - 20),
                                   "due_date": _day(n % 40 - 15), "weight": 1 + n % 3}
        if n % 10 in (1, 2):
            spec["parent_key"] = f"t{n - n % 10}"
        if n % 10 == 5:
            spec["depends_on"] = [f"t{n - 5}"]
        specs.append(spec)
    return specs


def _overdue_specs(member: str, owner: str) -> list[dict[str, object]]:
    return [{"key": f"o{n}", "title": f"Overdue {n}", "due_date": _day(-1 - n % 9),
             "assignee_ids": [owner, member] if n % SHARED_ONE_IN == 0 else [member]}
            for n in range(OVERDUE_PER_BOARD)] + [{"key": f"x{n}", "title": f"Theirs {n}", "due_date": _day(-2),
                                                   "assignee_ids": [owner]} for n in range(10)]


def _seed(bench: Bench) -> Seed:
    owner = bench.principal("owner")
    member, owner_id = bench.world.users["member"], owner.user_id
    with tenant_scope(bench.tenant_id):
        client = customers.create_customer(owner, {"name": "Bench boards", "owner_id": member})
        board, keys = work.create_project_with_tasks(owner, client.id, {"name": "500 tasks"},
                                                     _board_specs(BOARD_TASKS))
        top = [keys[f"t{n}"] for n in range(BOARD_TASKS) if n % 10 not in (1, 2)]
        leaves = [keys[f"t{n}"] for n in range(BOARD_TASKS) if n % 10 not in (0, 1, 2)]
        overdue = [work.create_project_with_tasks(owner, client.id, {"name": f"Overdue {n}"},
                                                  _overdue_specs(member, owner_id))[0].id
                   for n in range(OVERDUE_BOARDS)]
    return Seed(board.id, top, leaves, overdue)


def seed(bench: Bench) -> Seed:
    return bench.prepared(_seed)


def _idempotency_key() -> dict[str, str]:
    return {"Idempotency-Key": f"bench-{secrets.token_hex(6)}"}


# ---------- reads ----------


@scenario("GET /projects/{id}/board [500 tasks]", group="work", target=BOARD)
def kanban(bench: Bench) -> Steps:
    for _ in range(bench.repeats):
        yield Call("GET", f"/projects/{seed(bench).board_id}/board")


@scenario("GET /projects/{id}/gantt [500 tasks]", group="work", target=BOARD)
def gantt(bench: Bench) -> Steps:
    for _ in range(bench.repeats):
        yield Call("GET", f"/projects/{seed(bench).board_id}/gantt")


@scenario("GET /projects/{id}", group="work", target=READ)
def read_project(bench: Bench) -> Steps:
    for _ in range(bench.repeats):
        yield Call("GET", f"/projects/{seed(bench).board_id}")


@scenario("GET /tasks/{id}", group="work", target=TASK_READ)
def read_task(bench: Bench) -> Steps:
    for task_id in seed(bench).task_ids[: bench.repeats]:
        yield Call("GET", f"/tasks/{task_id}")


@scenario("GET /tasks?assignee_id=me&overdue=true", group="work", target=LIST)
def my_overdue(bench: Bench) -> Steps:
    seed(bench)
    for _ in range(bench.repeats):
        yield Call("GET", "/tasks?assignee_id=me&overdue=true&limit=200", role="member")


@scenario("GET /tasks?overdue=true", group="work", target=LIST)
def all_overdue(bench: Bench) -> Steps:
    seed(bench)
    for _ in range(bench.repeats):
        yield Call("GET", "/tasks?overdue=true&limit=100")


@scenario("GET /projects?sort=risk", group="work", target=LIST)
def portfolio_by_risk(bench: Bench) -> Steps:
    seed(bench)
    for _ in range(bench.repeats):
        yield Call("GET", "/projects?sort=risk")


# ---------- writes ----------


@scenario("POST /projects/{id}/tasks", group="work", target=TASK_WRITE)
def create_task(bench: Bench) -> Steps:
    for n in range(bench.repeats):
        body = {"title": f"New {n}", "due_date": _day(5), "assignee_ids": [bench.world.users["member"]]}
        yield Call("POST", f"/projects/{seed(bench).board_id}/tasks", body, headers=_idempotency_key())


@scenario("POST /tasks/{id}/move [between neighbours]", group="work", target=TASK_WRITE)
def move_between(bench: Bench) -> Steps:
    ids = seed(bench).task_ids
    for n in range(bench.repeats):
        # Task 10+n goes between the first two tasks of the column (all start in the first one).
        yield Call("POST", f"/tasks/{ids[10 + n]}/move", {"after_id": ids[0], "before_id": ids[1]},
                   headers=_idempotency_key())


@scenario("POST /tasks/{id}/move [complete]", group="work", target=TASK_WRITE)
def complete(bench: Bench) -> Steps:
    ids = seed(bench).leaf_ids
    for n in range(bench.repeats):
        yield Call("POST", f"/tasks/{ids[100 + n]}/move", {"status": "complete"}, headers=_idempotency_key())


@scenario("POST /projects/{id}/tasks/bulk [40 tasks]", group="work", target=TASK_WRITE)
def bulk(bench: Bench) -> Steps:
    ids = seed(bench).task_ids
    for n in range(bench.repeats):
        chosen = ids[200 + n * BULK: 200 + (n + 1) * BULK]
        updates = [{"task_id": task_id, "status": "in_progress", "due_date": _day(30)} for task_id in chosen]
        yield Call("POST", f"/projects/{seed(bench).board_id}/tasks/bulk", {"updates": updates},
                   headers=_idempotency_key())
