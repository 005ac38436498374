"""The project's counters stay exact: after any sequence of creates, moves, re-weightings,
re-parentings and deletes through the task service, the counters the write path ADDed equal a
from-scratch recomputation over the board's tasks — weighted progress, counts per status,
open tasks per due date, and each parent's rollup of its children."""

from __future__ import annotations

from collections import Counter
from typing import Any

from chalicelib.core.scope import tenant_scope
from chalicelib.work import access, service, tasks
from chalicelib.work.ledger import plain, rollup
from chalicelib.work.progress import Rollup, Work, recompute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from work_helpers import customer, day

STATUSES = ("not_started", "in_progress", "blocked", "complete")

steps = st.lists(
    st.tuples(st.sampled_from(["create", "create", "move", "reweight", "reparent", "delete"]),
              st.integers(0, 99), st.integers(0, 99), st.integers(0, 5)),
    min_size=1, max_size=10,
)


def _apply(principal: Any, project_id: str, step: tuple[str, int, int, int]) -> None:
    op, pick, other, weight = step
    _, board = access.read_board(principal.tenant_id, project_id)
    top = sorted(t.id for t in board if t.parent_id is None)
    if op == "create" or not board:
        parent = top[other % len(top)] if top and other % 3 == 0 else None
        tasks.create_task(principal, project_id, {"title": "T", "weight": weight, "parent_id": parent,
                                                  "due_date": day(other % 7 - 3)})
        return
    task = sorted(board, key=lambda t: t.id)[pick % len(board)]
    if op == "move":
        tasks.move_task(principal, task.id, STATUSES[other % len(STATUSES)], None, None, None, force=True)
    elif op == "reweight":
        tasks.update_task(principal, task.id, {"weight": weight}, task.version)
    elif op == "reparent" and not task.children_count:
        candidates = [t for t in top if t != task.id]
        parent = candidates[other % len(candidates)] if candidates and other % 2 else None
        tasks.update_task(principal, task.id, {"parent_id": parent}, task.version)
    elif op == "delete" and not task.children_count:
        tasks.delete_task(principal, task.id)


def _assert_exact(tenant_id: str, project_id: str) -> None:
    project, board = access.read_board(tenant_id, project_id)
    assert project is not None
    works = [Work(t.id, t.parent_id, int(t.weight), not t.is_open) for t in board]
    assert (int(project.weight_total), int(project.weight_done)) == recompute(works)
    assert {k: v for k, v in plain(project.counts).items() if v} == Counter(t.status for t in board)
    open_due = Counter(t.due_date for t in board if t.is_open and t.due_date)
    assert {k: v for k, v in plain(project.open_due).items() if v} == open_due
    assert (int(project.task_count), int(project.done_count)) == (len(board), sum(not t.is_open for t in board))
    for parent in (t for t in board if t.parent_id is None):
        children = [t for t in board if t.parent_id == parent.id]
        expected = sum((w.as_child() for w in works if w.parent_id == parent.id), Rollup())
        assert rollup(parent) == expected, (parent.id, [c.id for c in children])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_incremental_counters_equal_a_recomputation_after_any_sequence_of_changes(acme: Any, sequence: Any) -> None:
    principal = acme.principal("owner")
    client = customer(acme.as_("owner"))
    with tenant_scope(acme.tenant_id):
        project, _ = service.create_project_with_tasks(principal, client["id"], {"name": "Counters"})
        for step in sequence:
            _apply(principal, project.id, step)
            _assert_exact(acme.tenant_id, project.id)
