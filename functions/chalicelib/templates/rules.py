"""Template rules that need no storage: validation of a task list, the diff between two
versions, the plan for upgrading a running project, converting a project back into Days, and
the analytics arithmetic. Tasks are plain dicts with the fields of TASK_FIELDS."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from statistics import median
from typing import Any

from chalicelib.core.errors import FieldError, ValidationFailed

from .schedule import WorkCalendar, day_of_date, duration_of, schedule

TASK_DEFAULTS: dict[str, Any] = {
    "description": None,
    "duration_days": 1,
    "weight": 1,
    "is_milestone": False,
    "task_type": None,
    "tags": [],
    "portal_visible": False,
    "parent_key": None,
    "depends_on": [],
    "assignee_role": None,
}
TASK_FIELDS = ("key", "title", "day", *TASK_DEFAULTS)
# Fields an upgrade may carry into a running project's task (structure is not rewritten).
UPGRADABLE_FIELDS = ("title", "description", "day", "duration_days", "weight", "is_milestone", "task_type", "tags",
                     "portal_visible")
SUGGESTION_MIN_PROJECTS = 5
SUGGESTION_MIN_SLIP_DAYS = 2

Task = dict[str, Any]


def complete_task(task: Task) -> Task:
    """The task with every omitted field at its default, in field order."""
    values = {**TASK_DEFAULTS, **{name: value for name, value in task.items() if value is not None}}
    return {name: list(values[name]) if isinstance(values[name], list) else values[name] for name in TASK_FIELDS}


# ---------- validation ----------


def _find_cycle(tasks: dict[str, Task]) -> list[str] | None:
    """A dependency cycle as the list of keys around it, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(key: str) -> list[str] | None:
        state[key] = 1
        path.append(key)
        for predecessor in tasks[key]["depends_on"]:
            if predecessor not in tasks:
                continue
            if state.get(predecessor) == 1:
                return [*path[path.index(predecessor):], predecessor]
            if predecessor not in state and (cycle := visit(predecessor)):
                return cycle
        path.pop()
        state[key] = 2
        return None

    for key in tasks:
        if key not in state and (cycle := visit(key)):
            return cycle
    return None


def _structure_errors(task: Task, by_key: dict[str, Task], roles: set[str]) -> Iterable[FieldError]:
    key = task["key"]
    parent = task["parent_key"]
    if parent is not None:
        if parent == key:
            yield FieldError(f"tasks.{key}.parent_key", f"task {key} cannot be its own parent")
        elif parent not in by_key:
            yield FieldError(f"tasks.{key}.parent_key", f"task {key} names unknown parent {parent}")
        elif by_key[parent]["parent_key"] is not None:
            yield FieldError(f"tasks.{key}.parent_key",
                             f"task {key} is a subtask of {parent}, which is itself a subtask; one level only")
    for predecessor in task["depends_on"]:
        if predecessor == key:
            yield FieldError(f"tasks.{key}.depends_on", f"task {key} cannot depend on itself")
        elif predecessor not in by_key:
            yield FieldError(f"tasks.{key}.depends_on", f"task {key} depends on unknown task {predecessor}")
        elif by_key[predecessor]["day"] > task["day"]:
            yield FieldError(
                f"tasks.{key}.depends_on",
                f"task {key} (Day {task['day']}) depends on {predecessor}, which starts later (Day "
                f"{by_key[predecessor]['day']})",
            )
    if task["day"] == 0:
        yield FieldError(f"tasks.{key}.day", f"task {key}: Day 0 does not exist (Day 1 is the anchor)")
    if task["assignee_role"] is not None and task["assignee_role"] not in roles:
        yield FieldError(f"tasks.{key}.assignee_role", f"task {key} names role {task['assignee_role']}, "
                                                       "which is not one of the template's roles")


def validate_tasks(tasks: list[Task], roles: Iterable[str]) -> None:
    """422 naming the task keys: duplicate keys, unknown keys, a subtask of a subtask, a
    dependency cycle, a predecessor that starts after its dependant, Day 0, an unknown role."""
    errors: list[FieldError] = []
    by_key: dict[str, Task] = {}
    for task in tasks:
        if task["key"] in by_key:
            errors.append(FieldError(f"tasks.{task['key']}.key", f"key {task['key']} is used by more than one task"))
        by_key[task["key"]] = task
    role_names = set(roles)
    for task in by_key.values():
        errors.extend(_structure_errors(task, by_key, role_names))
    cycle = _find_cycle(by_key)
    if cycle:
        errors.append(FieldError(f"tasks.{cycle[0]}.depends_on", "dependency cycle: " + " -> ".join(cycle)))
    if errors:
        detail = "; ".join(error.message for error in errors[:5])
        raise ValidationFailed(f"invalid template tasks: {detail}", errors)


def parents_first(tasks: list[Task]) -> list[Task]:
    """Top-level tasks before subtasks, otherwise in template order (a parent must exist first)."""
    return sorted(tasks, key=lambda task: task["parent_key"] is not None)


# ---------- versions ----------


def diff_tasks(before: list[Task], after: list[Task]) -> dict[str, Any]:
    """Tasks added, removed, and changed fields (field → {before, after}) between two versions."""
    old = {task["key"]: complete_task(task) for task in before}
    new = {task["key"]: complete_task(task) for task in after}
    changed = {}
    for key in old.keys() & new.keys():
        fields = {name: {"before": old[key][name], "after": new[key][name]}
                  for name in TASK_FIELDS if old[key][name] != new[key][name]}
        if fields:
            changed[key] = fields
    return {
        "added": [new[key] for key in new if key not in old],
        "removed": [old[key] for key in old if key not in new],
        "changed": [{"key": key, "fields": changed[key]} for key in sorted(changed)],
    }


# ---------- upgrading a running project ----------


@dataclass(frozen=True)
class ProjectTask:
    """What an upgrade needs to know about one template-made task of the project."""

    task_id: str
    key: str
    status_category: str  # todo | doing | done
    dates_edited: bool
    values: dict[str, Any]  # the task's current values of UPGRADABLE_FIELDS (where it has them)
    parent_key: str | None = None  # the template key of its parent task in the project


@dataclass
class UpgradePlan:
    added: list[dict[str, Any]] = field(default_factory=list)  # template task + start/due
    changed: list[dict[str, Any]] = field(default_factory=list)  # task_id, key, fields, start/due
    removed: list[dict[str, Any]] = field(default_factory=list)  # task_id, key
    kept: list[dict[str, Any]] = field(default_factory=list)  # task_id, key, reason

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def _dated(task: Task, anchor: date, calendar: WorkCalendar) -> dict[str, Any]:
    dates = schedule(anchor, task["day"], task["duration_days"], calendar)
    return {"start_date": dates.start.isoformat(), "due_date": dates.due.isoformat()}


def plan_upgrade(
    project_tasks: list[ProjectTask],
    old_tasks: list[Task],
    new_tasks: list[Task],
    anchor: date,
    calendar: WorkCalendar,
) -> UpgradePlan:
    """What moving a project from one template version to another does: new tasks with their
    computed dates; changed fields for tasks neither completed nor date-edited by a person;
    removal of tasks that are no longer in the template and have not been started."""
    versions = diff_tasks(old_tasks, new_tasks)
    present = {task.key: task for task in project_tasks}
    new_by_key = {task["key"]: complete_task(task) for task in new_tasks}
    plan = UpgradePlan()
    for task in versions["added"]:
        if task["key"] not in present:
            plan.added.append({**task, **_dated(task, anchor, calendar)})
    for change in versions["changed"]:
        current = present.get(change["key"])
        fields = {name: value for name, value in change["fields"].items() if name in UPGRADABLE_FIELDS}
        if current is None or not fields:
            continue
        if current.status_category == "done" or current.dates_edited:
            reason = "completed" if current.status_category == "done" else "dates edited by a person"
            plan.kept.append({"task_id": current.task_id, "key": current.key, "reason": reason})
            continue
        shaped = {name: {"before": current.values.get(name, value["before"]), "after": value["after"]}
                  for name, value in fields.items()}
        entry: dict[str, Any] = {"task_id": current.task_id, "key": current.key, "fields": shaped}
        if "day" in fields or "duration_days" in fields:
            entry.update(_dated(new_by_key[current.key], anchor, calendar))
        plan.changed.append(entry)
    for task in versions["removed"]:
        current = present.get(task["key"])
        if current is None:
            continue
        if current.status_category == "todo":
            plan.removed.append({"task_id": current.task_id, "key": current.key})
        else:
            plan.kept.append({"task_id": current.task_id, "key": current.key, "reason": "already started"})
    _keep_parents_of_staying_subtasks(plan, project_tasks)
    return plan


def _keep_parents_of_staying_subtasks(plan: UpgradePlan, project_tasks: list[ProjectTask]) -> None:
    """A task goes only with all its subtasks: one whose subtask stays stays too."""
    while True:
        going = {entry["key"] for entry in plan.removed}
        parents = {task.parent_key for task in project_tasks if task.parent_key in going and task.key not in going}
        if not parents:
            return
        for entry in [entry for entry in plan.removed if entry["key"] in parents]:
            plan.removed.remove(entry)
            plan.kept.append({**entry, "reason": "has subtasks that stay"})


# ---------- a project back into a template ----------


@dataclass(frozen=True)
class DatedTask:
    task_id: str
    key: str | None  # its template key, when it came from a template
    title: str
    start: date | None
    due: date | None
    parent_id: str | None
    depends_on: list[str]
    values: dict[str, Any]  # description, weight, is_milestone, task_type, tags, portal_visible


def to_template_tasks(tasks: list[DatedTask], anchor: date, calendar: WorkCalendar) -> list[Task]:
    """Dates → Days from the anchor, ids → keys, keeping hierarchy, dependencies, weights and
    milestones. A task without dates is placed on Day 1; one with only a due date starts then."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for number, task in enumerate(tasks, start=1):
        key = task.key if task.key and task.key not in taken else f"task-{number}"
        keys[task.task_id] = key
        taken.add(key)
    converted = []
    for task in tasks:
        start = task.start or task.due
        day = day_of_date(anchor, start, calendar) if start else 1
        converted.append(complete_task({
            **{name: value for name, value in task.values.items() if name in TASK_DEFAULTS},
            "key": keys[task.task_id],
            "title": task.title,
            "day": day,
            "duration_days": duration_of(start, task.due, calendar) if start else 1,
            "parent_key": keys.get(task.parent_id) if task.parent_id else None,
            "depends_on": [keys[other] for other in task.depends_on if other in keys],
        }))
    return converted


# ---------- analytics ----------


def weighted_median(counts: dict[int, int]) -> float | None:
    values = [value for value, count in sorted(counts.items()) for _ in range(count)]
    return float(median(values)) if values else None


def suggestion(title: str, planned_day: int, completed: int, median_slip: float | None,
               median_actual_day: float | None) -> str | None:
    """A nudge when enough projects show the task is typically done noticeably later than planned."""
    if completed < SUGGESTION_MIN_PROJECTS or median_slip is None or median_actual_day is None:
        return None
    if median_slip < SUGGESTION_MIN_SLIP_DAYS:
        return None
    return f"{title}: planned Day {planned_day}, typically done Day {round(median_actual_day)}"


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
