"""The daily board-status refresh (EventBridge schedule, events/board-status-refresh.json): an
auto status moves as time passes, the move is kept in the status history once however often
the event is replayed, and boards whose status a person sets, archived or complete boards are
left alone."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalicelib.work import jobs
from foundation_helpers import EventLog
from work_helpers import day, move, ok, project, task

EVENT = json.loads((Path(__file__).parents[2] / "events" / "board-status-refresh.json").read_text())


@pytest.fixture(scope="module")
def events(aws: Any) -> Iterator[EventLog]:
    with EventLog.on_bus("work-job-events") as log:
        yield log


def run_on(offset: int) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    event["time"] = (datetime.now(UTC) + timedelta(days=offset)).strftime("%Y-%m-%dT00:10:00Z")
    return jobs.board_status_refresh(event, None)


def history(api: Any, project_id: str) -> list[tuple[str, str]]:
    return [(h["to_status"], h["changed_by"]) for h in ok(api.get(f"/projects/{project_id}/status-history"))["items"]]


def test_the_sample_event_runs_for_the_day_it_names(acme: Any) -> None:
    assert jobs.board_status_refresh(copy.deepcopy(EVENT), None)["day"] == EVENT["time"][:10]


def test_time_passing_moves_an_auto_board_once_however_often_the_event_is_replayed(acme: Any,
                                                                                  events: EventLog) -> None:
    api = acme.as_("owner")
    board = project(api, start_date=day(0), due_date=day(20))
    task(api, board["id"], due_date=day(18))
    assert ok(api.get(f"/projects/{board['id']}"))["status"] == "on_track"
    for _ in range(3):
        run_on(15)
    shown = ok(api.get(f"/projects/{board['id']}"))
    assert shown["status"] == "delayed" and "time gone" in shown["status_reason"]
    assert history(api, board["id"]) == [("delayed", "auto"), ("on_track", "auto")]
    assert len(events.of("Project.StatusChanged", project_id=board["id"], to="delayed")) == 1


def test_manual_archived_and_complete_boards_are_left_alone(acme: Any) -> None:
    api = acme.as_("owner")
    manual = project(api, start_date=day(0), due_date=day(5), status_mode="manual", status="on_track",
                     status_reason="kickoff")
    archived = project(api, start_date=day(0), due_date=day(5))
    ok(api.delete(f"/projects/{archived['id']}"))
    finished = project(api, start_date=day(0), due_date=day(5))
    move(api, task(api, finished["id"])["id"], status="complete")
    run_on(30)
    assert [ok(api.get(f"/projects/{p['id']}"))["status"] for p in (manual, archived, finished)] == [
        "on_track", "on_track", "complete"]
