"""Dependencies: cycles are found and named, the critical path is the longest chain by
duration, and a task starting before a predecessor is due is flagged (never moved)."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from chalicelib.work.graph import critical_path, duration_days, find_cycle, has_conflict, with_predecessors
from hypothesis import given
from hypothesis import strategies as st


def test_a_chain_has_no_cycle():
    assert find_cycle({"b": {"a"}, "c": {"b"}}) is None


def test_a_cycle_is_named_in_depends_on_order():
    cycle = find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    assert cycle is not None and cycle[0] == cycle[-1]
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert all(successor in graph and predecessor in graph[successor] for successor, predecessor in pairwise(cycle))


def test_a_task_depending_on_itself_is_a_cycle():
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_replacing_predecessors_can_close_a_cycle():
    graph = {"b": {"a"}, "c": {"b"}}
    assert find_cycle(with_predecessors(graph, "a", {"c"})) is not None


def test_duration_is_the_inclusive_span_else_the_estimate_and_milestones_take_none():
    assert duration_days(date(2026, 1, 5), date(2026, 1, 9)) == 5
    assert duration_days(None, None, 16, "hour") == 2
    assert duration_days(None, None, 3, "day") == 3
    assert duration_days(date(2026, 1, 5), date(2026, 1, 9), is_milestone=True) == 0
    assert duration_days(None, None) == 0


def test_the_critical_path_is_the_longest_chain():
    durations = {"a": 2, "b": 5, "c": 1, "d": 3}
    graph = {"b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
    assert critical_path(durations, graph) == (["a", "b", "d"], 10)


def test_a_board_without_dependencies_has_its_longest_task_as_the_path():
    assert critical_path({"a": 1, "b": 4}, {}) == (["b"], 4)


def test_an_empty_board_has_no_critical_path():
    assert critical_path({}, {}) == ([], 0)


def test_starting_before_a_predecessor_is_due_is_a_conflict():
    assert has_conflict(date(2026, 1, 4), [date(2026, 1, 5)])
    assert not has_conflict(date(2026, 1, 5), [date(2026, 1, 5), None])
    assert not has_conflict(None, [date(2026, 1, 5)])


# ---------- properties ----------

@st.composite
def dags(draw):
    """A random acyclic graph: edges only point from a later node to an earlier one."""
    size = draw(st.integers(1, 9))
    nodes = [f"n{i}" for i in range(size)]
    graph = {node: {nodes[j] for j in range(i) if draw(st.booleans())} for i, node in enumerate(nodes)}
    durations = {node: draw(st.integers(0, 10)) for node in nodes}
    return graph, durations


def all_chains(graph, node):
    preds = graph.get(node, set())
    if not preds:
        return [[node]]
    return [[node], *[[*chain, node] for pred in preds for chain in all_chains(graph, pred)]]


@given(dags())
def test_a_dag_never_reports_a_cycle(dag):
    graph, _ = dag
    assert find_cycle(graph) is None


@given(dags(), st.data())
def test_adding_an_edge_back_along_a_path_is_reported_as_that_cycle(dag, data):
    graph, _ = dag
    chains = [chain for node in graph for chain in all_chains(graph, node) if len(chain) > 1]
    if not chains:
        return
    chain = data.draw(st.sampled_from(chains))  # chain[-1] depends, transitively, on chain[0]
    cyclic = with_predecessors(graph, chain[0], graph[chain[0]] | {chain[-1]})
    cycle = find_cycle(cyclic)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert all(predecessor in cyclic[successor] for successor, predecessor in pairwise(cycle))


@given(dags())
def test_the_critical_path_is_a_real_chain_at_least_as_long_as_any_other(dag):
    graph, durations = dag
    path, length = critical_path(durations, graph)
    assert all(earlier in graph[later] for earlier, later in pairwise(path))
    assert length == sum(durations[node] for node in path)
    longest = max(sum(durations[n] for n in chain) for node in graph for chain in all_chains(graph, node))
    assert length == longest
