"""Weighted progress, in exact integers.

Project progress = Σ weight of done work ÷ Σ weight of all work, over top-level tasks. A
subtask counts through its parent: a parent that is not done contributes its weight times the
done share of its children's weights. Contributions are kept in micro-units of weight
(rounded half-to-even once per parent), so the project item's counters are integers that the
write path ADDs and a from-scratch recomputation reproduces exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass
from fractions import Fraction

UNITS = 1_000_000  # micro-units per unit of weight


@dataclass(frozen=True)
class Rollup:
    """What a parent task holds about its children, kept with ADD as children change."""

    count: int = 0
    done_count: int = 0
    weight: int = 0
    done_weight: int = 0

    def __add__(self, other: Rollup) -> Rollup:
        return Rollup(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __neg__(self) -> Rollup:
        return Rollup(*(-a for a in astuple(self)))


@dataclass(frozen=True)
class Work:
    """A task as progress sees it: id, parent (None for top-level), weight, done."""

    id: str
    parent_id: str | None
    weight: int
    done: bool

    def as_child(self) -> Rollup:
        return Rollup(1, int(self.done), self.weight, self.weight if self.done else 0)


def rollup_changes(before: Work | None, after: Work | None) -> dict[str, Rollup]:
    """How one task's change (None = absent) moves its parents' rollups."""
    changes: dict[str, Rollup] = {}
    if before is not None and before.parent_id is not None:
        changes[before.parent_id] = -before.as_child()
    if after is not None and after.parent_id is not None:
        changes[after.parent_id] = changes.get(after.parent_id, Rollup()) + after.as_child()
    return {parent: change for parent, change in changes.items() if change != Rollup()}


def contribution(weight: int, done: bool, children: Rollup) -> int:
    """A top-level task's done weight, in micro-units."""
    if done:
        return weight * UNITS
    if children.weight <= 0:
        return 0
    return round(Fraction(weight * UNITS * children.done_weight, children.weight))


def standing(task: Work | None, children: Rollup) -> tuple[int, int]:
    """What one task adds to the project's (total weight, done micro-units). Subtasks and
    absent tasks add nothing of their own: subtasks count through their parent's rollup."""
    if task is None or task.parent_id is not None:
        return 0, 0
    return task.weight, contribution(task.weight, task.done, children)


def task_percent(done: bool, children: Rollup) -> float:
    """A task's own progress: 100 when done, else its children's weighted completion."""
    if done:
        return 100.0
    return round(children.done_weight * 100 / children.weight, 1) if children.weight > 0 else 0.0


def percent(done_units: int, total_weight: int) -> float:
    """Progress as a percentage with one decimal."""
    if total_weight <= 0:
        return 0.0
    return round(done_units * 100 / (total_weight * UNITS), 1)


def recompute(tasks: Iterable[Work]) -> tuple[int, int]:
    """(Σ top-level weight, Σ done micro-units) computed from every task at once: the value the
    incremental counters must always equal."""
    tasks = list(tasks)
    children: dict[str, Rollup] = {}
    for task in tasks:
        if task.parent_id is not None:
            children[task.parent_id] = children.get(task.parent_id, Rollup()) + task.as_child()
    standings = [standing(task, children.get(task.id, Rollup())) for task in tasks]
    return sum(weight for weight, _ in standings), sum(units for _, units in standings)
