"""Events on the local stack as `make dev` runs it, spoken to over HTTP and through the
`bluehill events` commands: the relay reads the table's stream and delivers to the registered
consumers within seconds; a consumer that keeps failing is parked and a redrive applies it once."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from tests.e2e.test_local_stack import BLUEHILL, LocalStack

pytestmark = [pytest.mark.e2e,
              pytest.mark.local_only("a stack of its own with a failing consumer injected, and `bluehill events`")]

FAILING = "templates_count_task_completion"
TASKS = [{"key": "welcome", "title": "Welcome email", "day": 1},
         {"key": "kickoff", "title": "Kickoff", "day": 3, "depends_on": ["welcome"]}]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = LocalStack(tmp_path_factory.mktemp("e2e-events") / "local")
    running.env["BLUEHILL_FAIL_CONSUMERS"] = FAILING  # the stack's relay; the CLI below runs without it
    running.start()
    try:
        yield running
    finally:
        assert running.stop() == 0, running.output()


def run_bluehill(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BLUEHILL, *args], env=env, capture_output=True, text=True, timeout=60)


def within(seconds: float, check: Callable[[], Any]) -> tuple[Any, float]:
    began = time.monotonic()
    while True:
        answer = check()
        if answer or time.monotonic() - began > seconds:
            return answer, time.monotonic() - began
        time.sleep(0.1)


def _template_project(stack: LocalStack, admin: str, **apply: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = stack.request("POST", "/customers", admin, {"name": f"Events {time.time_ns()}",
                                                          "contract_start": "2026-06-12"}).body
    template = stack.request("POST", "/templates", admin, {"name": f"Events {time.time_ns()}", "category": "onboarding",
                                                          "tasks": TASKS}).body
    result = stack.request("POST", f"/templates/{template['id']}/apply", admin,
                           {"customer_id": customer["id"], **apply})
    assert result.status == 201, result.body
    return customer, result.body


def test_patching_contract_start_moves_the_following_project_within_five_seconds(stack: LocalStack) -> None:
    admin = stack.token("demo", "admin")
    customer, result = _template_project(stack, admin, anchor={"source": "contract_start"}, follow_anchor=True)
    assert result["anchor"]["date"] == "2026-06-12"
    moved = stack.request("PATCH", f"/customers/{customer['id']}", admin,
                          {"version": customer["version"], "contract_start": "2026-06-19"})
    assert moved.status == 200, moved.body

    def anchored() -> bool:
        project = stack.request("GET", f"/projects/{result['project']['id']}", admin).body
        return project["anchor"]["date"] == "2026-06-19"

    done, _ = within(5, anchored)
    assert done, f"the project did not move within 5 s:\n{stack.output()[-3000:]}"
    tail = stack.bluehill("events", "tail", "--once", "--type", "Customer.Updated")
    assert "templates_follow_contract_start: applied" in tail.stdout, tail


def test_a_failing_consumer_is_parked_and_a_redrive_applies_it_once(stack: LocalStack) -> None:
    admin = stack.token("demo", "admin")
    _, result = _template_project(stack, admin, anchor={"date": date.today().isoformat()})
    task = next(t for t in result["tasks"] if t["key"] == "welcome")
    done = stack.request("PATCH", f"/tasks/{task['id']}", admin, {"version": 1, "status": "complete"})
    assert done.status == 200, done.body

    def parked() -> dict[str, Any] | None:
        """This task's parked completion (the demo seed's completed template tasks are parked too:
        the stack fails this consumer throughout)."""
        listing = json.loads(stack.bluehill("events", "dlq", "--json").stdout)
        return next((entry for entry in listing if entry["consumer"] == FAILING
                     and entry["event"]["type"] == "Task.Completed"
                     and entry["event"]["data"]["task_id"] == task["id"]), None)

    entry, _ = within(10, parked)
    assert entry and "made to fail" in entry["error"] and entry["attempts"] == 4, stack.bluehill("events", "dlq").stdout
    template_id = result["template_id"]

    def completed() -> int:
        analytics = stack.request("GET", f"/templates/{template_id}/analytics", admin).body
        return next(t for t in analytics["tasks"] if t["key"] == "welcome")["completed"]

    assert completed() == 0
    env = {k: v for k, v in stack.env.items() if k != "BLUEHILL_FAIL_CONSUMERS"}
    parked_id = entry["id"]
    redrive = run_bluehill(env, "events", "redrive", parked_id)
    assert redrive.returncode == 0 and "applied" in redrive.stdout, redrive
    assert completed() == 1
    again = run_bluehill(env, "events", "redrive", parked_id)
    assert again.returncode == 1  # it left the store
    replay = run_bluehill(env, "events", "replay", "--since", "2000-01-01T00:00:00Z", "--type",
                                 "Task.Completed", "--consumer", FAILING)
    assert replay.returncode == 0, replay
    assert completed() == 1  # replaying the archive changes nothing
