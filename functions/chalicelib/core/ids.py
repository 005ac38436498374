"""Opaque, URL-safe, time-sortable identifiers (ULIDs)."""

from __future__ import annotations

import hashlib

from ulid import ULID


def new_id() -> str:
    return str(ULID()).lower()


_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
GROUP_SIZE = len(_CROCKFORD) ** 2
GROUP_PREFIX = 24


def grouped_ids(seed: str, count: int) -> list[str]:
    """`count` ids derived from `seed` (an id): each 1,024 share their first 24 characters,
    so one record keyed by that prefix can serve them all. The same seed gives the same ids, so
    a retried build writes the same records; they sort by time like the seed."""
    ids = []
    for group in range(-(-count // GROUP_SIZE)):
        digest = hashlib.sha256(f"{seed}#{group}".encode()).digest()
        prefix = seed[:10] + "".join(_CROCKFORD[byte % 32] for byte in digest[:GROUP_PREFIX - 10])
        size = min(GROUP_SIZE, count - group * GROUP_SIZE)
        ids += [prefix + _CROCKFORD[n // 32] + _CROCKFORD[n % 32] for n in range(size)]
    return ids
