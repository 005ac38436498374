"""Weighted progress: subtasks count through their parent's weight, and the incremental
counters the write path keeps always equal a from-scratch recomputation."""

from __future__ import annotations

from fractions import Fraction

from chalicelib.work.progress import (
    UNITS,
    Rollup,
    Work,
    contribution,
    percent,
    recompute,
    rollup_changes,
    standing,
    task_percent,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def test_a_done_task_counts_its_whole_weight_and_an_open_one_nothing():
    total, done = recompute([Work("a", None, 3, True), Work("b", None, 1, False)])
    assert (total, done) == (4, 3 * UNITS)
    assert percent(done, total) == 75.0


def test_subtasks_count_through_their_parents_weight_split_by_their_own_weights():
    tasks = [Work("p", None, 4, False), Work("c1", "p", 1, True), Work("c2", "p", 3, False), Work("q", None, 4, False)]
    total, done = recompute(tasks)
    assert total == 8  # subtasks add no weight of their own
    assert Fraction(done, UNITS) == 1  # 4 * 1/4
    assert percent(done, total) == 12.5


def test_a_done_parent_counts_fully_even_with_open_children():
    assert contribution(5, True, Rollup(2, 0, 2, 0)) == 5 * UNITS


def test_a_parent_without_children_weights_is_zero_until_done():
    assert contribution(2, False, Rollup()) == 0


def test_a_tasks_own_progress_is_its_childrens_weighted_completion():
    assert task_percent(False, Rollup(2, 1, 4, 1)) == 25.0
    assert task_percent(True, Rollup(2, 0, 4, 0)) == 100.0
    assert task_percent(False, Rollup()) == 0.0


def test_an_empty_project_is_at_zero():
    assert percent(0, 0) == 0.0


# ---------- the incremental path equals a recomputation ----------

ops = st.lists(
    st.tuples(st.sampled_from(["create", "toggle", "reweight", "reparent", "delete"]), st.integers(0, 50),
              st.integers(0, 50), st.integers(0, 9)),
    max_size=60,
)


class Store:
    """The write path in miniature: tasks, parents' rollups and the project's two counters,
    changed only through `rollup_changes` and `standing` deltas, as the service does."""

    def __init__(self) -> None:
        self.tasks: dict[str, Work] = {}
        self.rollups: dict[str, Rollup] = {}
        self.total = self.done = 0
        self.serial = 0

    def change(self, before: Work | None, after: Work | None) -> None:
        task_id = after.id if after is not None else before.id if before is not None else ""
        moved = rollup_changes(before, after)
        affected = {task_id, *moved}
        old = {tid: standing(self.tasks.get(tid), self.rollups.get(tid, Rollup())) for tid in affected}
        if after is None:
            self.tasks.pop(task_id)
        else:
            self.tasks[task_id] = after
        for parent, delta in moved.items():
            self.rollups[parent] = self.rollups.get(parent, Rollup()) + delta
        for tid in affected:
            weight, units = standing(self.tasks.get(tid), self.rollups.get(tid, Rollup()))
            self.total += weight - old[tid][0]
            self.done += units - old[tid][1]

    def apply(self, op: str, pick: int, other: int, weight: int) -> None:
        ids = sorted(self.tasks)
        tops = [tid for tid in ids if self.tasks[tid].parent_id is None]
        if op == "create" or not ids:
            self.serial += 1
            parent = tops[other % len(tops)] if tops and other % 3 == 0 else None
            self.change(None, Work(f"t{self.serial:03d}", parent, weight, False))
            return
        task = self.tasks[ids[pick % len(ids)]]
        has_children = self.rollups.get(task.id, Rollup()).count > 0
        if op == "toggle":
            self.change(task, Work(task.id, task.parent_id, task.weight, not task.done))
        elif op == "reweight":
            self.change(task, Work(task.id, task.parent_id, weight, task.done))
        elif op == "reparent" and not has_children:
            candidates = [tid for tid in tops if tid != task.id]
            parent = candidates[other % len(candidates)] if candidates and other % 2 else None
            self.change(task, Work(task.id, parent, task.weight, task.done))
        elif op == "delete" and not has_children:
            self.change(task, None)


@settings(max_examples=200)
@given(ops)
def test_incremental_counters_equal_a_recomputation_after_any_sequence(sequence):
    store = Store()
    for step in sequence:
        store.apply(*step)
        assert (store.total, store.done) == recompute(store.tasks.values())


@given(st.integers(0, 1000), st.integers(1, 20), st.data())
def test_progress_never_exceeds_the_weight_nor_goes_below_zero(weight, children, data):
    done_weights = data.draw(st.lists(st.integers(0, 50), min_size=children, max_size=children))
    flags = data.draw(st.lists(st.booleans(), min_size=children, max_size=children))
    rollup = Rollup(children, sum(flags), sum(done_weights),
                    sum(w for w, done in zip(done_weights, flags, strict=True) if done))
    assert 0 <= contribution(weight, False, rollup) <= weight * UNITS
