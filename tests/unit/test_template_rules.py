"""Template rules without storage: validation, version diff, upgrade planning, save-as-template
conversion and the analytics arithmetic."""

from datetime import date

import pytest
from chalicelib.core.errors import ValidationFailed
from chalicelib.templates.rules import (
    DatedTask,
    ProjectTask,
    complete_task,
    diff_tasks,
    plan_upgrade,
    suggestion,
    to_template_tasks,
    validate_tasks,
    weighted_median,
)
from chalicelib.templates.schedule import CALENDAR_DAYS, WORKING_DAYS, WorkCalendar, date_of_day, schedule
from hypothesis import given, settings
from hypothesis import strategies as st

CALENDAR = WorkCalendar.of(CALENDAR_DAYS)


def task(key, day=1, **fields):
    return complete_task({"key": key, "title": key.title(), "day": day, **fields})


def failure_fields(tasks, roles=()):
    with pytest.raises(ValidationFailed) as failed:
        validate_tasks(tasks, roles)
    return {error.field for error in failed.value.errors}, failed.value.detail


def test_a_well_formed_task_list_passes():
    validate_tasks([task("a"), task("b", 2, depends_on=["a"], parent_key="a", assignee_role="csm")], ["csm"])


def test_a_dependency_cycle_is_rejected_naming_its_keys():
    _, detail = failure_fields([task("a", depends_on=["c"]), task("b", depends_on=["a"]),
                                task("c", depends_on=["b"])])
    assert "cycle" in detail and all(key in detail for key in "abc")


def test_unknown_keys_are_rejected():
    fields, detail = failure_fields([task("a", depends_on=["ghost"], parent_key="phantom")])
    assert fields == {"tasks.a.depends_on", "tasks.a.parent_key"}
    assert "ghost" in detail and "phantom" in detail


def test_a_subtask_of_a_subtask_is_rejected():
    fields, _ = failure_fields([task("a"), task("b", parent_key="a"), task("c", parent_key="b")])
    assert fields == {"tasks.c.parent_key"}


def test_a_predecessor_starting_after_its_dependant_is_rejected():
    fields, detail = failure_fields([task("early", 3, depends_on=["late"]), task("late", 5)])
    assert fields == {"tasks.early.depends_on"} and "late" in detail


def test_day_zero_duplicates_and_unknown_roles_are_rejected():
    fields, _ = failure_fields([task("a", 0), task("b"), task("b"), task("c", assignee_role="wizard")], ["csm"])
    assert fields == {"tasks.a.day", "tasks.b.key", "tasks.c.assignee_role"}


def test_diff_lists_added_removed_and_changed_fields():
    diff = diff_tasks([task("a"), task("b", weight=1)], [task("b", weight=3), task("c", 2)])
    assert [t["key"] for t in diff["added"]] == ["c"]
    assert [t["key"] for t in diff["removed"]] == ["a"]
    assert diff["changed"] == [{"key": "b", "fields": {"weight": {"before": 1, "after": 3}}}]


def project_task(key, category="todo", edited=False):
    return ProjectTask(f"id-{key}", key, category, edited, {})


def test_an_upgrade_adds_new_tasks_with_their_dates_and_leaves_completed_and_edited_tasks_alone():
    old = [task("done", title="Old"), task("edited", title="Old"), task("open", title="Old"), task("gone"),
           task("started")]
    new = [task("done", title="New"), task("edited", title="New"), task("open", 4, title="New", duration_days=2),
           task("added", 3)]
    plan = plan_upgrade(
        [project_task("done", "done"), project_task("edited", edited=True), project_task("open"),
         project_task("gone"), project_task("started", "doing")],
        old, new, date(2026, 6, 12), CALENDAR,
    )
    assert [(t["key"], t["start_date"]) for t in plan.added] == [("added", "2026-06-14")]
    assert [(c["key"], c["start_date"], c["due_date"]) for c in plan.changed] == [("open", "2026-06-15", "2026-06-16")]
    assert plan.changed[0]["fields"]["title"]["after"] == "New"
    assert [r["key"] for r in plan.removed] == ["gone"]
    assert {(k["key"], k["reason"]) for k in plan.kept} == {
        ("done", "completed"), ("edited", "dates edited by a person"), ("started", "already started")}


def test_a_removed_parent_whose_started_subtask_stays_is_kept_too():
    old = [task("grand"), task("parent"), task("child", parent_key="parent"), task("other")]
    project = [project_task("grand"), ProjectTask("id-parent", "parent", "todo", False, {}, "grand"),
               ProjectTask("id-child", "child", "doing", False, {}, "parent"), project_task("other")]
    plan = plan_upgrade(project, old, [], date(2026, 6, 12), CALENDAR)
    assert [r["key"] for r in plan.removed] == ["other"]
    assert {(k["key"], k["reason"]) for k in plan.kept} == {
        ("child", "already started"), ("parent", "has subtasks that stay"), ("grand", "has subtasks that stay")}


def test_an_upgrade_between_identical_versions_is_empty():
    assert plan_upgrade([project_task("a")], [task("a")], [task("a")], date(2026, 1, 1), CALENDAR).is_empty


def test_saving_as_template_keeps_hierarchy_dependencies_and_milestones():
    anchor = date(2026, 6, 12)
    tasks = [
        DatedTask("1", "kickoff", "Kickoff", date(2026, 6, 14), date(2026, 6, 14), None, [], {"is_milestone": True}),
        DatedTask("2", None, "Prep", date(2026, 6, 11), date(2026, 6, 13), "1", [], {"weight": 3}),
        DatedTask("3", None, "Undated", None, None, None, ["1"], {}),
    ]
    saved = to_template_tasks(tasks, anchor, CALENDAR)
    assert [(t["key"], t["day"], t["duration_days"]) for t in saved] == [
        ("kickoff", 3, 1), ("task-2", -1, 3), ("task-3", 1, 1)]
    assert saved[0]["is_milestone"] and saved[1]["parent_key"] == "kickoff" and saved[1]["weight"] == 3
    assert saved[2]["depends_on"] == ["kickoff"]


template_days = st.lists(
    st.tuples(st.integers(-60, 200).filter(bool), st.integers(1, 20)), min_size=1, max_size=15)
calendars = st.sampled_from([CALENDAR, WorkCalendar.of(WORKING_DAYS, [date(2026, 12, 25), date(2027, 1, 1)])])


@settings(max_examples=150, deadline=None)
@given(anchor=st.dates(date(2025, 1, 1), date(2028, 12, 31)), days=template_days, calendar=calendars)
def test_applying_then_saving_as_template_returns_the_same_days(anchor, days, calendar):
    dated = []
    for number, (day, duration) in enumerate(days):
        when = schedule(anchor, day, duration, calendar)
        dated.append(DatedTask(str(number), f"k{number}", "T", when.start, when.due, None, [], {}))
    saved = to_template_tasks(dated, anchor, calendar)
    assert [(t["day"], t["duration_days"]) for t in saved] == days
    assert all(date_of_day(anchor, t["day"], calendar) == d.start for t, d in zip(saved, dated, strict=True))


def test_medians_and_suggestions():
    assert weighted_median({9: 2, 11: 3}) == 11
    assert weighted_median({}) is None
    assert suggestion("Admin readiness check", 7, 5, 4, 11) == \
        "Admin readiness check: planned Day 7, typically done Day 11"
    assert suggestion("Admin readiness check", 7, 4, 4, 11) is None  # too few projects
    assert suggestion("Admin readiness check", 7, 9, 1, 8) is None  # slip too small
