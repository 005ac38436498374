"""Sharded counters: a figure that many concurrent events move — a week's SLA rollup, a queue's
open tickets per member, a template's projects per version — lives on SHARDS items instead of
one. Its consumer adds each event's delta to one shard chosen at random, in a transaction with
its replay guard (core.consumers.commit_once), and two concurrent deliveries meet on the same
item — a TransactionConflict on DynamoDB, retried — one time in SHARDS instead of every time.
A reader reads every shard (one Query of their partition) and sums them.

The shard is the last part of the item's sort key: `<sort key>#<shard>`."""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

SHARDS = 16

K = TypeVar("K", bound=Hashable)


def shard_sort_key(sort_key: str) -> str:
    """The sort key of one shard of the counter at `sort_key`, chosen at random."""
    return f"{sort_key}#{random.randrange(SHARDS)}"


def summed(rows: Iterable[Any], key: Callable[[Any], K], names: Sequence[str]) -> dict[K, dict[str, int]]:
    """The shards' counters `names` added up per `key(row)` (rows without a counter count 0)."""
    totals: dict[K, dict[str, int]] = {}
    for row in rows:
        total = totals.setdefault(key(row), dict.fromkeys(names, 0))
        for name in names:
            total[name] += int(getattr(row, name, 0) or 0)
    return totals
