"""Opaque, URL-safe, time-sortable identifiers (ULIDs)."""

from __future__ import annotations

from ulid import ULID


def new_id() -> str:
    return str(ULID()).lower()


_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
ULID_LENGTH = 26
CHILD_SUFFIX = 14  # a ULID's 10 time characters, then 4 more


def child_id(parent_id: str) -> str:
    """A new id for a record that lives inside `parent_id`'s (a task in its project): the
    parent's id, then a new ULID's time and 4 random characters. Whoever holds the id knows
    where the record is, with no lookup; it stays opaque to clients and sorts by time."""
    return parent_id + new_id()[:CHILD_SUFFIX]


def child_ids(parent_id: str, seed: str, count: int) -> list[str]:
    """`count` child ids made together, in order, derived from `seed` (an id): the same seed
    gives the same ids, so a retried build writes the same records. Seeds made in the same
    millisecond give the same ids: records are created conditionally, so such a clash is
    refused, never overwritten."""
    if count > len(_CROCKFORD) ** 4:
        raise ValueError("at most 1,048,576 ids from one seed")
    return [parent_id + seed[:10] + "".join(_CROCKFORD[n >> shift & 31] for shift in (15, 10, 5, 0))
            for n in range(count)]


def parent_of(child: str) -> str | None:
    """The parent id a child id starts with (None for an id no child could have)."""
    return child[:ULID_LENGTH] if len(child) == ULID_LENGTH + CHILD_SUFFIX else None
