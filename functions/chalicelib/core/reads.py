"""Reads several rooms need for one request, gathered into one BatchGetItem.

A room's service function registers the item it needs on a `ReadPlan` and returns a function
that, once the plan has run, turns that item (or its absence) into the answer — its own rules
(reach, defaults) stay in the room. The caller runs the plan once, then asks each answer:

    plan = ReadPlan()
    customer = customers.customer_for(plan, principal, customer_id)
    policy = sla.policy_in_force_for(plan, tenant_id)
    plan.run()                      # one consistent BatchGetItem
    tier = customer().tier
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.table import TableItem, read_items


class ReadPlan:
    def __init__(self) -> None:
        self._wanted: dict[tuple[str, str], type[TableItem]] = {}
        self._found: dict[tuple[str, str], Any] | None = None

    def want(self, model: type[TableItem], pk: str, sk: str) -> tuple[str, str]:
        """Register one item to read; the key to ask `item` for after `run`."""
        if self._found is not None:
            raise RuntimeError("this plan already ran")
        self._wanted[(pk, sk)] = model
        return pk, sk

    def run(self) -> None:
        models = list(dict.fromkeys(self._wanted.values()))
        found = read_items(self._wanted, models) if self._wanted else []
        self._found = {(item.PK, item.SK): item for item in found}

    def item(self, key: tuple[str, str]) -> Any:
        """The item at `key`, or None if it does not exist."""
        if self._found is None:
            raise RuntimeError("run the plan first")
        return self._found.get(key)
