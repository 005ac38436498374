"""Finish-to-start dependencies: cycles, the critical path and date conflicts.

A graph is `{task: predecessors}`. Plain functions over plain values, so the rules are tested
without storage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from graphlib import CycleError, TopologicalSorter

Graph = Mapping[str, Iterable[str]]

HOURS_PER_DAY = 8


def find_cycle(graph: Graph) -> list[str] | None:
    """A cycle as a closed walk (`[a, b, c, a]`: a depends on b, b on c, c on a), or None."""
    try:
        TopologicalSorter({node: set(preds) for node, preds in graph.items()}).prepare()
    except CycleError as error:
        nodes: list[str] = list(error.args[1])
        # graphlib lists the cycle in successor order; report it as "depends on" order.
        return list(reversed(nodes))
    return None


def with_predecessors(graph: Graph, task: str, predecessors: Iterable[str]) -> dict[str, set[str]]:
    """The graph after `task`'s predecessors are replaced."""
    changed = {node: set(preds) for node, preds in graph.items()}
    changed[task] = set(predecessors)
    return changed


def duration_days(
    start: date | None,
    due: date | None,
    estimate: float | None = None,
    unit: str | None = None,
    is_milestone: bool = False,
) -> float:
    """How long a task takes: its scheduled span in days (inclusive), else its estimate
    (hours count as 1/8 day), else nothing. A milestone takes no time."""
    if is_milestone:
        return 0
    if start is not None and due is not None and due >= start:
        return (due - start).days + 1
    if estimate:
        return estimate / HOURS_PER_DAY if unit == "hour" else estimate
    return 0


def critical_path(durations: Mapping[str, float], graph: Graph) -> tuple[list[str], float]:
    """The longest chain of dependent tasks by total duration, first task first. Between
    chains of equal duration the one with more tasks wins (a closing milestone belongs on
    it), then the one through smaller ids, so the answer is stable. The graph must be acyclic;
    predecessors outside `durations` are ignored."""
    preds = {node: sorted(p for p in graph.get(node, ()) if p in durations) for node in durations}
    best: dict[str, tuple[float, int, str | None]] = {}  # node → (length, tasks, predecessor on the chain)
    for node in TopologicalSorter(preds).static_order():
        length, steps, via = max(((best[p][0], best[p][1], p) for p in preds[node]),
                                 key=lambda c: (c[0], c[1], _reverse(c[2])), default=(0.0, 0, None))
        best[node] = (length + durations[node], steps + 1, via)
    if not best:
        return [], 0
    end = max(best, key=lambda node: (best[node][0], best[node][1], _reverse(node)))
    path = [end]
    while (previous := best[path[-1]][2]) is not None:
        path.append(previous)
    return list(reversed(path)), best[end][0]


def _reverse(node: str) -> tuple[int, ...]:
    """Sorts a smaller id as the larger key, so `max` prefers it on a tie."""
    return (*(-ord(ch) for ch in node), 1)


def has_conflict(start: date | None, predecessor_dues: Iterable[date | None]) -> bool:
    """A task starting before one of its predecessors is due (dates are never moved for it)."""
    if start is None:
        return False
    return any(due is not None and start < due for due in predecessor_dues)
