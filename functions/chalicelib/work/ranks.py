"""Fractional ranks: the `position` of a task in its column.

A rank is a string over base-62 digits in ASCII order, compared as plain strings. A new rank
between two neighbours is their midpoint, so a move writes only the moved task. Each rank
ends with the moved task's id plus a terminator digit: two tasks dropped into the same gap at
the same moment get the same midpoint but different suffixes, so positions never collide,
and because every suffix has the same length, two different (midpoint, task) pairs can never
spell the same rank. No rank ends in the zero digit, which keeps a gap open between any two.
"""

from __future__ import annotations

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ZERO = DIGITS[0]
TERMINATOR = "1"


class RankOrderError(ValueError):
    """The neighbours given are not in ascending order (a stale board)."""


def _after(low: str) -> str:
    """The shortest string above `low` with no upper bound, not ending in the zero digit: the
    first digit that can still go up, one step up (`V1x…` → `W`, `zz3…` → `zz4`); an empty or
    all-top `low` takes the middle digit one place further. Appends to a column (every new task)
    therefore grow a rank by one digit per ~60 appends, not per ~6 as halving towards the end
    did: 4,855 appends made a 999-digit rank, and the recursion over it answered 500."""
    for place, digit in enumerate(low):
        if digit != DIGITS[-1]:
            return low[:place] + DIGITS[DIGITS.index(digit) + 1]
    return low + DIGITS[len(DIGITS) // 2]


def _midpoint(low: str, high: str | None) -> str:
    """A string strictly between `low` ("" = the start) and `high` (None = the end), not
    ending in the zero digit. Neither bound may end in the zero digit."""
    if high is None:
        return _after(low)
    shared = 0
    while shared < len(high) and (low[shared] if shared < len(low) else ZERO) == high[shared]:
        shared += 1
    if shared:
        return high[:shared] + _midpoint(low[shared:], high[shared:])
    low_digit = DIGITS.index(low[0]) if low else 0
    high_digit = DIGITS.index(high[0])
    if high_digit - low_digit > 1:
        return DIGITS[(low_digit + high_digit + 1) // 2]
    if len(high) > 1:
        return high[0]
    return DIGITS[low_digit] + _after(low[1:])


def _check(rank: str | None) -> None:
    if rank is not None and (rank.endswith(ZERO) or any(ch not in DIGITS for ch in rank)):
        raise ValueError(f"{rank!r} is not a rank")


def suffix_for(task_id: str) -> str:
    """The tail that makes a task's rank unique (task ids are base-32 digits of one length)."""
    return task_id + TERMINATOR


def rank_between(before: str | None, after: str | None, task_id: str) -> str:
    """A rank for `task_id` strictly between the rank above it (`before`, None = the top of the
    column) and the rank below it (`after`, None = the bottom)."""
    _check(before)
    _check(after)
    if before is not None and after is not None and before >= after:
        raise RankOrderError(f"{before!r} is not above {after!r}")
    suffix = suffix_for(task_id)
    low = before or ""
    while True:
        middle = _midpoint(low, after)
        candidate = middle + suffix
        if after is None or candidate < after:
            return candidate
        # `middle` is a prefix of `after`: step closer to `after` until the suffix fits.
        low = middle


def ranks_after(last: str | None, task_ids: list[str]) -> list[str]:
    """Ranks for tasks appended in order below `last`."""
    ranks: list[str] = []
    for task_id in task_ids:
        last = rank_between(last, None, task_id)
        ranks.append(last)
    return ranks
