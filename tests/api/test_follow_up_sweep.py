"""The follow-up sweep (EventBridge schedule, events/follow-up-sweep.json): it marks each open
follow-up overdue once its due time has passed in its assignee's timezone and publishes
FollowUp.Overdue exactly once — under replays and concurrent runs — reading only what is due.

Its follow-ups are due in 2002 (the sample event's time is 2002-03-04T12:00Z), earlier than
any other test's follow-ups, so the cross-tenant sweep touches only them."""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chalicelib.followups import jobs, service, sweep

from bluehill_dev import fidelity as aws_fidelity

EVENT = json.loads((Path(__file__).parents[2] / "events" / "follow-up-sweep.json").read_text())


def event_at(moment: str) -> dict:
    event = copy.deepcopy(EVENT)
    event["time"] = moment
    return event


def run_sweep(moment: str | None = None) -> dict:
    aws_fidelity.settle()  # a scheduled sweep runs after the due index caught up with the writes
    return jobs.follow_up_sweep(event_at(moment) if moment else EVENT, None)


@pytest.fixture
def desk(fresh_tenant, monkeypatch):
    monkeypatch.setattr(service, "now", lambda: datetime(2002, 2, 1, 9, 0, tzinfo=UTC))
    fresh_tenant.customer_id = fresh_tenant.as_("owner").post("/customers", {"name": "Initech"}).json["id"]
    return fresh_tenant


@pytest.fixture
def published(deliver):
    seen: list = []

    def overdue(*follow_ups: dict) -> list[str]:
        seen.extend(delivered.event for delivered in deliver())
        wanted = {f["id"] for f in follow_ups}
        return sorted(e.data["follow_up_id"] for e in seen if e.type == "FollowUp.Overdue"
                      and e.data["follow_up_id"] in wanted)

    return overdue


def follow_up(world, **fields) -> dict:
    body = {"customer_id": world.customer_id, "title": "Call back", **fields}
    answer = world.as_("owner").post("/follow-ups", body)
    assert answer.status == 201, answer.body
    return answer.json


def read(world, item) -> dict:
    return world.as_("owner").get(f"/follow-ups/{item['id']}").json


def test_the_sample_event_marks_what_is_due_once_under_five_replays(desk, published):
    due = [follow_up(desk, due_date="2002-03-01"), follow_up(desk, due_at="2002-03-04T11:59:00Z")]
    not_yet = follow_up(desk, due_at="2002-03-04T12:01:00Z")
    first = run_sweep()
    assert first["follow_ups_marked"] >= 2
    assert published(*due, not_yet) == sorted(f["id"] for f in due)
    for _ in range(5):
        assert run_sweep()["follow_ups_marked"] == 0
    assert published(*due, not_yet) == sorted(f["id"] for f in due)
    for item in due:
        after = read(desk, item)
        assert (after["status"], after["overdue_at"], after["version"]) == ("overdue", "2002-03-04T12:00:00Z", 2)
        assert [h["action"] for h in after["history"]] == ["created", "overdue"]
    assert read(desk, not_yet)["status"] == "open"


def test_the_due_time_passes_in_the_assignees_timezone(desk, published):
    users = {u["id"]: u for u in desk.as_("owner").get("/users").json["items"]}
    member = users[desk.users["member"]]
    desk.as_("owner").patch(f"/users/{member['id']}", {"version": member["version"], "timezone": "Australia/Sydney"})
    theirs = follow_up(desk, due_date="2002-02-10", assignee_id=member["id"])  # ends 2002-02-10T13:00Z (AEDT)
    mine = follow_up(desk, due_date="2002-02-10")  # the tenant's UTC: ends 2002-02-11T00:00Z
    assert theirs["due_at"] == "2002-02-10T13:00:00Z"
    run_sweep("2002-02-10T12:59:00Z")
    assert published(theirs, mine) == []
    run_sweep("2002-02-10T13:00:00Z")
    assert published(theirs, mine) == [theirs["id"]]
    run_sweep("2002-02-11T00:00:00Z")
    assert published(theirs, mine) == sorted([theirs["id"], mine["id"]])


def test_a_postponed_follow_up_is_due_again_and_marked_again_once(desk, published, monkeypatch):
    item = follow_up(desk, due_date="2002-02-12")
    run_sweep("2002-02-13T00:00:00Z")
    monkeypatch.setattr(service, "now", lambda: datetime(2002, 2, 13, 9, 0, tzinfo=UTC))
    postponed = desk.as_("owner").post(f"/follow-ups/{item['id']}/postpone", {"preset": "tomorrow", "reason": "r"})
    assert postponed.status == 200 and postponed.json["status"] == "open" and postponed.json["overdue_at"] is None
    for _ in range(3):
        run_sweep("2002-02-15T00:00:00Z")
    assert published(item) == [item["id"], item["id"]]  # once per due time
    assert [h["action"] for h in read(desk, item)["history"]] == ["created", "overdue", "postponed", "overdue"]


def test_completed_and_cancelled_follow_ups_are_never_marked(desk, published):
    done = follow_up(desk, due_date="2002-02-16")
    dropped = follow_up(desk, due_date="2002-02-16")
    desk.as_("owner").post(f"/follow-ups/{done['id']}/complete", {"resolution": "done"})
    desk.as_("owner").post(f"/follow-ups/{dropped['id']}/cancel", {"reason": "lost"})
    report = run_sweep("2002-02-18T00:00:00Z")
    assert published(done, dropped) == []
    assert report["follow_ups_read"] == 0  # closed ones left the due index: nothing read


def test_the_sweep_reads_only_what_is_due(desk):
    for day in range(20, 28):
        follow_up(desk, due_date=f"2002-02-{day}")
    report = run_sweep("2002-02-23T00:00:00Z")  # the 20th, 21st and 22nd have ended
    assert (report["follow_ups_read"], report["follow_ups_marked"]) == (3, 3)


def test_two_concurrent_sweeps_never_double_mark_or_double_publish(desk, published, monkeypatch):
    """Both sweeps read the same due follow-ups before either writes; the writes take turns (moto
    does not serialize concurrent transactions as DynamoDB does), and the loser's condition (the
    version it read) turns its write into a no-op."""
    items = [follow_up(desk, due_date="2002-01-15") for _ in range(5)]
    both_read, one_writer, seen = threading.Barrier(2), threading.Lock(), threading.local()
    mark = sweep.mark_overdue

    def mark_after_both_have_read(found, moment):
        if not getattr(seen, "first", False):
            seen.first = True
            both_read.wait(timeout=30)
        with one_writer:
            return mark(found, moment)

    monkeypatch.setattr(sweep, "mark_overdue", mark_after_both_have_read)
    aws_fidelity.settle()
    reports: list = []
    threads = [threading.Thread(target=lambda: reports.append(jobs.run(datetime(2002, 1, 16, tzinfo=UTC))))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 2 and sum(r.read for r in reports) > len(items)  # both read some of the same
    assert sum(r.marked for r in reports) == len(items)
    assert published(*items) == sorted(f["id"] for f in items)
    for item in items:
        assert [h["action"] for h in read(desk, item)["history"]] == ["created", "overdue"]


def test_the_overdue_count_reaches_the_report(desk):
    follow_up(desk, due_date="2002-02-05")
    run_sweep("2002-02-06T00:00:00Z")
    answer = desk.as_("owner").get("/reports/follow-ups?group_by=customer&from=2002-02-01&to=2002-02-01")
    assert [(row["key"], row["created"], row["overdue"]) for row in answer.json["groups"]] == [
        (desk.customer_id, 1, 1)]
