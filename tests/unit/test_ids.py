"""Ids made together share a locator prefix and come out the same for the same seed."""

import re

from chalicelib.core.ids import GROUP_PREFIX, GROUP_SIZE, grouped_ids, new_id
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 3 * GROUP_SIZE))
def test_grouped_ids_are_unique_url_safe_and_share_a_prefix_per_thousand(count):
    seed = new_id()
    ids = grouped_ids(seed, count)
    assert len(set(ids)) == count == len(ids)
    assert all(len(i) == len(seed) and re.fullmatch("[0-9a-z]+", i) for i in ids)
    prefixes = [i[:GROUP_PREFIX] for i in ids]
    assert len(set(prefixes)) == -(-count // GROUP_SIZE)
    assert all(i[:10] == seed[:10] for i in ids)  # as time-sortable as the seed


def test_the_same_seed_gives_the_same_ids_and_another_seed_others():
    seed = new_id()
    assert grouped_ids(seed, 200) == grouped_ids(seed, 200)
    assert not set(grouped_ids(seed, 200)) & set(grouped_ids(new_id(), 200))
