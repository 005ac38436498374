"""Fractional ranks: a task dropped between two neighbours lands strictly between them, and no
two tasks ever share a position, however the moves interleave."""

from __future__ import annotations

import pytest
from chalicelib.core.ids import new_id
from chalicelib.work.ranks import DIGITS, RankOrderError, rank_between, ranks_after
from hypothesis import given, settings
from hypothesis import strategies as st

task_ids = st.builds(new_id)
ranks = st.text(alphabet=DIGITS, min_size=1, max_size=12).filter(lambda r: not r.endswith("0"))


def test_appending_to_an_empty_column_then_below_keeps_order():
    first, second, third = ranks_after(None, [new_id(), new_id(), new_id()])
    assert first < second < third


def test_dropping_between_neighbours_lands_between_them():
    above, below = ranks_after(None, [new_id(), new_id()])
    moved = rank_between(above, below, new_id())
    assert above < moved < below


def test_the_top_of_a_column_is_above_its_first_task():
    (first,) = ranks_after(None, [new_id()])
    assert rank_between(None, first, new_id()) < first


def test_neighbours_in_the_wrong_order_are_refused():
    above, below = ranks_after(None, [new_id(), new_id()])
    with pytest.raises(RankOrderError):
        rank_between(below, above, new_id())


def test_two_tasks_dropped_into_the_same_gap_get_different_positions():
    above, below = ranks_after(None, [new_id(), new_id()])
    one, other = rank_between(above, below, new_id()), rank_between(above, below, new_id())
    assert one != other
    assert above < min(one, other) < max(one, other) < below


@given(st.one_of(st.none(), ranks), st.one_of(st.none(), ranks), task_ids)
def test_a_rank_is_strictly_between_its_bounds_and_never_ends_in_zero(low, high, task_id):
    if low is not None and high is not None and low >= high:
        return
    rank = rank_between(low, high, task_id)
    assert (low is None or low < rank) and (high is None or rank < high)
    assert not rank.endswith("0")


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=60))
def test_random_moves_keep_a_column_totally_ordered_without_duplicates(moves):
    """Each move takes a task out and drops it into a random gap, as a Kanban user would."""
    ids = [new_id() for _ in range(8)]
    column = dict(zip(ids, ranks_after(None, ids), strict=True))
    for pick, gap in moves:
        task = ids[pick % len(ids)]
        others = sorted((rank, tid) for tid, rank in column.items() if tid != task)
        slot = gap % (len(others) + 1)
        above = others[slot - 1][0] if slot > 0 else None
        below = others[slot][0] if slot < len(others) else None
        column[task] = rank_between(above, below, task)
        order = [tid for _, tid in sorted((rank, tid) for tid, rank in column.items())]
        assert order.index(task) == slot
    assert len(set(column.values())) == len(ids)


@given(st.lists(task_ids, min_size=2, max_size=20, unique=True))
def test_concurrent_drops_into_one_gap_never_collide(movers):
    """Every mover computed its rank from the same stale neighbours."""
    above, below = ranks_after(None, [new_id(), new_id()])
    landed = [rank_between(above, below, task) for task in movers]
    assert len(set(landed)) == len(movers)
    assert all(above < rank < below for rank in landed)


def test_five_thousand_appends_keep_short_increasing_ranks():
    """Every new task is appended to its column: halving towards the end grew a rank by a digit
    per ~6 appends, and at 4,855 tasks on one board the 999-digit rank's recursion answered 500."""
    ranks = ranks_after(None, [f"{n:026d}" for n in range(5_000)])
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert max(len(rank) for rank in ranks) <= 26 + 1 + 90
