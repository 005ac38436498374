"""No request fails because of a hot item: tickets created at once in one queue, and tasks
moved at once in one project, all succeed with the AWS-fidelity layer on (concurrent
transactions on one item conflict, as on DynamoDB), and the figures they move stay exact — the
week's SLA rollup and the queue's loads (sharded counters, core.counters), the project's
counts (in the task's transaction, resent after a conflict), the template's projects created
(sharded). The same scenarios at 20 requests
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


def test_tasks_moved_at_once_in_one_project_all_succeed_and_the_counts_are_exact(chalice_app: Any,
                                                                                fresh_tenant: Any) -> None:
    outcome = contention.task_moves(chalice_app, fresh_tenant, REQUESTS)
    assert outcome.failed == [] and outcome.statuses == {200: REQUESTS}
    assert outcome.counters["counts"] == {"in_progress": REQUESTS}
    assert outcome.conflicts > 0, "nothing conflicted: the test proved nothing"


def test_one_template_applied_at_once_many_times_counts_every_project(chalice_app: Any, fresh_tenant: Any) -> None:
    outcome = contention.template_applies(chalice_app, fresh_tenant, REQUESTS)
    assert outcome.failed == [] and outcome.counters == {"projects_created": REQUESTS}


def test_control_one_rollup_item_and_no_resends_fail_requests(chalice_app: Any, fresh_tenant: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """As before: one rollup item for every ticket change, and a conflict is a 409 at once."""
    monkeypatch.setattr(counters, "SHARDS", 1)
    monkeypatch.setattr(table, "COMMIT_ATTEMPTS", 1)
    outcome = contention.ticket_creates(chalice_app, fresh_tenant, REQUESTS)
    assert outcome.statuses.get(409, 0) > 0
    assert outcome.counters["rollup_created"] == outcome.statuses.get(201, 0)  # exact all the same
