"""No request fails because of a hot item: tickets created at once in one queue, and tasks
moved at once in one project, all succeed with the AWS-fidelity layer on (concurrent
transactions on one item conflict, as on DynamoDB), and the figures they move stay exact — the
project's counts (in the task's transaction, resent after a conflict); the week's SLA rollup,
the queue's loads and the template's projects created (moved by consumers of the requests'
events, once their events are delivered: the requests' transactions never touch them). The same scenarios at 20 requests
are a `make bench` figure (bluehill_dev.bench.scenarios.contention)."""

from __future__ import annotations

from typing import Any

import pytest
from chalicelib.core import counters, table

from bluehill_dev.bench.scenarios import contention

REQUESTS = 8


def test_tickets_created_at_once_in_one_queue_all_succeed_and_the_counters_are_exact(chalice_app: Any,
                                                                                     fresh_tenant: Any) -> None:
    outcome = contention.ticket_creates(chalice_app, fresh_tenant, REQUESTS)
    assert outcome.failed == [] and outcome.statuses == {201: REQUESTS}
    assert outcome.counters["rollup_created"] == REQUESTS
    assert sorted(outcome.counters["queue_loads"].values()) == [2, 3, 3]  # round robin, no turn given twice
    assert outcome.counters_exact
    assert not [item for item in outcome.conflicted_items if "SLAROLLUP" in item or "QUEUELOADS" in item]


def test_tasks_moved_at_once_in_one_project_all_succeed_and_the_counts_are_exact(chalice_app: Any,
                                                                                fresh_tenant: Any) -> None:
    outcome = contention.task_moves(chalice_app, fresh_tenant, REQUESTS)
    assert outcome.failed == [] and outcome.statuses == {200: REQUESTS}
    assert outcome.counters["counts"] == {"in_progress": REQUESTS}
    assert outcome.conflicts > 0, "nothing conflicted: the test proved nothing"


def test_one_template_applied_at_once_many_times_counts_every_project(chalice_app: Any, fresh_tenant: Any) -> None:
    outcome = contention.template_applies(chalice_app, fresh_tenant, REQUESTS)
    assert outcome.failed == [] and outcome.counters == {"projects_created": REQUESTS}


def test_one_rollup_item_and_no_resends_fail_no_request_any_more(chalice_app: Any, fresh_tenant: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """One rollup item and one load item per member, and a conflict a 409 at once: when the
    request's transaction moved them this failed requests; the consumers move them now."""
    monkeypatch.setattr(counters, "SHARDS", 1)
    monkeypatch.setattr(table, "COMMIT_ATTEMPTS", 1)
    outcome = contention.ticket_creates(chalice_app, fresh_tenant, REQUESTS)
    assert outcome.statuses == {201: REQUESTS}
    assert outcome.counters["rollup_created"] == REQUESTS and outcome.counters_exact
