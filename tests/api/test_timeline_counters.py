"""Property: whatever interactions are logged, changed and deleted, and whatever order (and how
many copies) their events arrive in, the heatmap's daily counters equal a count made from
scratch of the entries the feed shows."""

from __future__ import annotations

import random
import secrets
from collections import Counter
from typing import Any

import chalicelib.wiring  # noqa: F401 (registers the consumers)
from chalicelib.core.consumers import CONSUMERS, deliver
from chalicelib.core.events import Actor, Event
from chalicelib.core.scope import tenant_scope
from chalicelib.timeline import counters
from chalicelib.timeline.events import InteractionCreated, InteractionDeleted, InteractionUpdated
from chalicelib.timeline.models import DayCounter
from chalicelib.timeline.registry import Entry
from chalicelib.work.events import TaskCreated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CUSTOMERS, PROJECTS, AUTHORS = ("c1", "c2"), ("p1", None), ("u1", "u2")
TYPES, DAYS = ("call", "note", "meeting"), ("2026-11-01", "2026-11-02", "2026-11-09")

op = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(CUSTOMERS), st.sampled_from(PROJECTS), st.sampled_from(TYPES),
              st.sampled_from(DAYS), st.sampled_from(AUTHORS)),
    st.tuples(st.just("update"), st.integers(0, 5), st.sampled_from(TYPES), st.sampled_from(DAYS)),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("task"), st.sampled_from(CUSTOMERS), st.sampled_from(DAYS)),
)


def _events(tenant: str, ops: list[tuple[Any, ...]]) -> tuple[list[Event], list[Entry]]:
    """The events of the ops, and the entries the feed should show at the end."""
    events: list[Event] = []
    live: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    system: list[Entry] = []
    for step in ops:
        if step[0] == "create":
            _, customer, project, kind, day, author = step
            state = {"interaction_id": f"i{len(order)}", "customer_id": customer, "version": 1, "type": kind,
                     "occurred_at": f"{day}T10:00:00Z", "summary": "s", "visibility": "internal",
                     "project_id": project, "author_id": author}
            order.append(state["interaction_id"])
            live[state["interaction_id"]] = state
            events.append(InteractionCreated(**state).event(tenant, Actor(type="user", id=author)))
        elif step[0] == "update" and order:
            state = live.get(order[step[1] % len(order)])
            if state is None:
                continue
            state.update(version=state["version"] + 1, type=step[2], occurred_at=f"{step[3]}T10:00:00Z")
            events.append(InteractionUpdated(**state).event(tenant, Actor(type="user", id=state["author_id"])))
        elif step[0] == "delete" and order:
            state = live.pop(order[step[1] % len(order)], None)
            if state is None:
                continue
            events.append(InteractionDeleted(interaction_id=state["interaction_id"], customer_id=state["customer_id"],
                                             version=state["version"] + 1).event(tenant))
        elif step[0] == "task":
            event = TaskCreated(task_id=f"t{len(events)}", project_id="p9", customer_id=step[1], status="todo",
                                assignee_ids=[]).event(tenant, Actor(type="user", id="u1"))
            event = event.model_copy(update={"occurred_at": f"{step[2]}T08:00:00Z"})
            events.append(event)
            system.append(Entry(id=event.id, kind=event.type, occurred_at=event.occurred_at, summary="",
                                actor={"type": "user", "id": "u1"}, customer_id=step[1], project_id="p9",
                                task_id=event.data["task_id"]))
    shown = [Entry(id=s["interaction_id"], kind="interaction", etype=s["type"], occurred_at=s["occurred_at"],
                   summary="", actor={"type": "user", "id": s["author_id"]}, system=False,
                   customer_id=s["customer_id"], project_id=s["project_id"]) for s in live.values()]
    return events, shown + system


def _stored(tenant: str) -> Counter[tuple[str, ...]]:
    found: Counter[tuple[str, ...]] = Counter()
    scopes = ["ORG", *(f"C#{c}" for c in CUSTOMERS), "P#p1", "P#p9", *(f"M#{a}" for a in AUTHORS)]
    with tenant_scope(tenant):
        for scope in scopes:
            for rows in counters.ROWS:
                for item in DayCounter.query(DayCounter.pk(tenant, scope, rows)):
                    if int(item.count):
                        found[(scope, rows, item.day, item.row, item.etype)] += int(item.count)
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=12), seed=st.integers(0, 10_000))
def test_counters_equal_a_count_from_scratch(aws: Any, ops: list[tuple[Any, ...]], seed: int) -> None:
    tenant = "t" + secrets.token_hex(5)
    events, shown = _events(tenant, ops)
    shuffled = events + random.Random(seed).sample(events, k=len(events) // 2)  # any order, some copies twice
    random.Random(seed).shuffle(shuffled)
    feed = CONSUMERS["timeline_feed"]
    for event in shuffled:
        deliver(feed, event)
    expected = Counter(tuple(key) for entry in shown for key in counters.keys_of(entry))
    assert _stored(tenant) == expected
