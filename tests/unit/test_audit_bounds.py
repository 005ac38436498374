"""An audit entry's changes as stored: whole while they fit the budget; past it, the largest
values give way to a summary (size, length, digest) until the entry fits DynamoDB's item limit."""

from __future__ import annotations

import json

from chalicelib.audit.service import CHANGES_BUDGET_BYTES, bounded, summary
from hypothesis import given
from hypothesis import strategies as st


def test_changes_that_fit_are_stored_whole() -> None:
    changes = {"name": {"before": "a", "after": "b"}}
    assert bounded(changes) == changes


def test_the_largest_values_are_summarised_first_and_the_small_ones_kept() -> None:
    big, bigger = ["x" * 1000] * 150, ["y" * 1000] * 160
    changes = {"tasks": {"before": big, "after": bigger}, "name": {"before": "a", "after": "b"}}
    stored = bounded(changes)
    assert stored["name"] == {"before": "a", "after": "b"}
    assert stored["tasks"]["after"] == summary(bigger) and stored["tasks"]["after"]["length"] == 160
    assert stored["tasks"]["before"] == big  # once the larger one is summarised, the rest fits
    assert changes["tasks"]["after"] == bigger  # the caller's dict is untouched


@given(st.dictionaries(st.text(min_size=1, max_size=5),
                       st.tuples(st.integers(0, 120_000), st.integers(0, 120_000)), max_size=8))
def test_whatever_a_change_describes_its_stored_form_fits_the_budget(sizes: dict[str, tuple[int, int]]) -> None:
    changes = {name: {"before": "b" * before, "after": "a" * after} for name, (before, after) in sizes.items()}
    stored = bounded(changes)
    assert len(json.dumps(stored, separators=(",", ":")).encode()) <= CHANGES_BUDGET_BYTES
    assert set(stored) == set(changes)
