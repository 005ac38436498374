"""Child ids: a task's id starts with its project's, so the task is found from its id alone."""

import re

from chalicelib.core.ids import child_id, child_ids, new_id, parent_of
from hypothesis import given, settings
from hypothesis import strategies as st


def test_a_child_id_names_its_parent_and_nothing_else_does():
    parent = new_id()
    child = child_id(parent)
    assert parent_of(child) == parent and re.fullmatch("[0-9a-z]+", child)
    assert parent_of(parent) is None and parent_of(child + "x") is None


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5000))
def test_ids_made_together_are_unique_ordered_and_the_same_for_the_same_seed(count):
    parent, seed = new_id(), new_id()
    ids = child_ids(parent, seed, count)
    assert len(set(ids)) == count and ids == sorted(ids)
    assert all(parent_of(i) == parent for i in ids)
    assert ids == child_ids(parent, seed, count)


def _later_id(than: str) -> str:
    later = new_id()
    while later[:10] == than[:10]:  # the next millisecond
        later = new_id()
    return later


def test_a_seed_from_another_millisecond_gives_other_ids_and_children_sort_by_time():
    parent, seed = new_id(), new_id()
    assert not set(child_ids(parent, seed, 200)) & set(child_ids(parent, _later_id(seed), 200))
    earlier = child_id(parent)
    later = next(i for i in iter(lambda: child_id(parent), None) if i[26:36] != earlier[26:36])
    assert earlier < later
