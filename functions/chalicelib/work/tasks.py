"""Task rules: creating, changing, moving, completing, deleting and bulk-updating tasks.

Each operation reads the project and the tasks it touches, builds the new state, and hands it
to a `ledger.Plan`, which writes the change with its activity entries and the project's
counters in one transaction. A change computed from records that moved meanwhile is retried
from a fresh read (a stale client `version` is not: that is the client's 409)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, validation_error
from chalicelib.core.ids import child_id, child_ids
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import Reach, require
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version
from chalicelib.team import service as team

from . import access, ledger
from .graph import find_cycle, has_conflict, with_predecessors
from .ledger import Contended, Plan, is_done, rollup, today
from .models import TASK_FIELDS, ActivityEntry, Project, Task, project_pk
from .progress import task_percent
from .ranks import RankOrderError, rank_between

RETRIES = 3
# What a contractor may change on a task assigned to them.
CONTRACTOR_FIELDS = frozenset({"status", "start_date", "due_date", "description", "position"})

T = TypeVar("T")


def retrying(operation: Callable[[], T]) -> T:
    """Run `operation` again from a fresh read when another writer got there first."""
    for attempt in range(RETRIES):
        try:
            return operation()
        except Contended:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


# ---------- representation ----------


def task_view(task: Task, day: date | None = None) -> dict[str, Any]:
    day = day or today()
    children = rollup(task)
    dues = [date.fromisoformat(due) for due in task.predecessor_dues.values() if due]
    start = date.fromisoformat(task.start_date) if task.start_date else None
    return {
        "id": task.id,
        "project_id": task.project_id,
        "customer_id": task.customer_id,
        **{name: getattr(task, name) for name in TASK_FIELDS},
        "weight": int(task.weight),
        "status_category": task.status_category,
        "position": task.position,
        "completed_at": task.completed_at,
        "progress": task_percent(is_done(task), children),
        "subtask_count": children.count,
        "subtasks_done": children.done_count,
        "dependency_conflict": has_conflict(start, dues),
        "overdue": bool(task.is_open and task.due_date and task.due_date < day.isoformat()),
        "template_key": task.template_key,
        "dates_edited": bool(task.dates_edited),
        "version": int(task.version),
        "created_by": task.created_by,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


# ---------- building a task's new state ----------


def _require_open(project: Project) -> None:
    if project.archived:
        raise Conflict(f"project {project.id} is archived; its tasks cannot change")


def _check_fields(project: Project, task: Task) -> None:
    """Rules on one task's own fields (422 naming the field)."""
    for name in ("status", "portal_status"):
        value = getattr(task, name)
        if value is not None and project.category_of(value) is None:
            names = ", ".join(s["name"] for s in project.task_statuses)
            raise validation_error(name, f"{value} is not one of this project's statuses ({names})")
    for start, due in (("start_date", "due_date"), ("portal_start_date", "portal_due_date")):
        if getattr(task, start) and getattr(task, due) and getattr(task, due) < getattr(task, start):
            raise validation_error(due, f"{due} must be on or after {start}")
    if task.time_estimate is not None and task.time_unit is None:
        task.time_unit = "hour"


def _check_parent(task: Task, known: dict[str, Task]) -> None:
    if task.parent_id is None:
        return
    parent = known.get(task.parent_id)
    if parent is None:
        raise validation_error("parent_id", f"task {task.parent_id} is not in this project")
    if parent.id == task.id or parent.parent_id is not None:
        raise validation_error("parent_id", "subtasks go one level deep: the parent must be a top-level task")
    if int(task.children_count) > 0:
        raise validation_error("parent_id", "a task with subtasks cannot become a subtask")


def _check_predecessors(task: Task, known: dict[str, Task], graph: dict[str, list[str]] | None) -> None:
    for pred_id in task.depends_on:
        if pred_id not in known:
            raise validation_error("depends_on", f"task {pred_id} is not in this project")
    if graph is None:
        return
    cycle = find_cycle(with_predecessors(graph, task.id, task.depends_on))
    if cycle:
        raise validation_error("depends_on", "would create a dependency cycle: " + " → ".join(cycle))


def _place(project: Project, task: Task, known: dict[str, Task]) -> None:
    """Put a task at the bottom of its column (or of its parent's subtasks)."""
    if task.parent_id is None:
        tail = ledger.plain(project.column_tails).get(task.status)
    else:
        tail = known[task.parent_id].subtask_tail
    task.position = rank_between(tail, None, task.id)


def new_task(principal: Principal, project: Project, fields: dict[str, Any], task_id: str | None = None) -> Task:
    """A task item for `project` from client fields (not yet written, not yet placed)."""
    now, task_id = now_iso(), task_id or child_id(project.id)
    values = {name: value for name, value in fields.items() if value is not None}
    values.setdefault("status", project.task_statuses[0]["name"])
    task = Task(
        project.PK, Task.sort_key(task_id), type="Task", tenant_id=project.tenant_id, id=task_id,
        project_id=project.id, customer_id=project.customer_id, status_category="todo", position="",
        created_by=principal.user_id, version=1, revision=1, created_at=now, updated_at=now, **values,
    )
    _check_fields(project, task)
    task.status_category = project.category_of(task.status) or "todo"
    return task


def apply_changes(project: Project, before: Task, changes: dict[str, Any]) -> Task:
    after = before.copy(**changes)
    _check_fields(project, after)
    after.status_category = project.category_of(after.status) or after.status_category
    return after


def require_assignees(plan: Plan, tasks: Iterable[tuple[Task | None, Task | None]]) -> None:
    """Newly assigned people must be active members of the team (checked in the transaction)."""
    added: list[str] = []
    for before, after in tasks:
        if after is not None:
            added += [user for user in after.assignee_ids if before is None or user not in before.assignee_ids]
    if added:
        plan.checks.append(lambda tx: team.require_active_users(tx, plan.project.tenant_id, added, "assignee_ids"))


def _contractor_may(reach: Reach, changes: Iterable[str]) -> None:
    refused = sorted(set(changes) - CONTRACTOR_FIELDS)
    if reach is Reach.ASSIGNED and refused:
        raise Forbidden(f"a contractor may not change {', '.join(refused)} of a task")


def _related(task: Task, changes: dict[str, Any], deleting: bool) -> set[str]:
    """Tasks a change of `task` writes besides itself, known from the task as read."""
    wanted: set[str] = set()
    if task.parent_id and (deleting or {"status", "weight", "parent_id"} & set(changes)):
        wanted.add(task.parent_id)
    if deleting or "due_date" in changes:
        wanted |= set(task.dependent_ids)
    if deleting:
        wanted |= set(task.depends_on)
    return wanted


def _named_in(changes: dict[str, Any]) -> set[str]:
    """Tasks a change names: a new parent, new predecessors."""
    named = set(changes.get("depends_on") or [])
    if changes.get("parent_id"):
        named.add(changes["parent_id"])
    return named


@dataclass
class Reading:
    """What an operation on existing tasks read: the project, tasks by id, and the whole
    dependency graph when a change of `depends_on` needs it."""

    project: Project
    known: dict[str, Task]
    graph: dict[str, list[str]] | None = None
    reach: Reach = Reach.ALL

    def complete(self, principal: Principal, wanted: set[str], whole_board: bool) -> None:
        if whole_board:
            project, tasks = access.read_board(principal.tenant_id, self.project.id)
            self.known.update({task.id: task for task in tasks})
            self.graph = {task.id: list(task.depends_on) for task in tasks}
            self.project = project or self.project
        elif wanted - set(self.known):
            pk = project_pk(principal.tenant_id, self.project.id)
            found = access.read_keys((pk, Task.sort_key(t)) for t in wanted - set(self.known))
            self.known.update({item.id: item for item in found if isinstance(item, Task)})


def _read_for_change(principal: Principal, task_id: str, action: str, changes: dict[str, Any],
                     also: Iterable[str] = (), deleting: bool = False) -> tuple[Task, Reading]:
    task, project, known, reach = access.load_task_with_project(
        principal, task_id, action, {*_named_in(changes), *also} - {task_id})
    _require_open(project)
    reading = Reading(project, known, reach=reach)
    reading.complete(principal, _related(task, changes, deleting), "depends_on" in changes)
    return reading.known[task_id], reading


def _updated(task: Task, reading: Reading, changes: dict[str, Any]) -> Task:
    """The task's new state after `changes`, checked against the project's rules."""
    _contractor_may(reading.reach, changes)
    after = apply_changes(reading.project, task, changes)
    if "parent_id" in changes:
        _check_parent(after, reading.known)
    if "depends_on" in changes:
        _check_predecessors(after, reading.known, reading.graph)
    changed_place = after.parent_id != task.parent_id or (after.parent_id is None and after.status != task.status)
    if changed_place and "position" not in changes:
        _place(reading.project, after, reading.known)
    return after


def _commit_single(principal: Principal, reading: Reading, before: Task | None, after: Task | None,
                   force: bool = False) -> Plan:
    """Write one task's change (nothing, when it changes nothing a client sees)."""
    plan = Plan(principal, reading.project, dict(reading.known), force=force)
    if before is not None and after is not None and ledger.client_fields(before) == ledger.client_fields(after):
        plan.after[before.id] = before
        return plan
    plan.stage(before, after)
    require_assignees(plan, [(before, after)])
    task_id = ledger.task_id_of(before, after)
    action = "create" if before is None else "delete" if after is None else "update"
    plan.record(action, "task", task_id, audit.diff(ledger.client_fields(before), ledger.client_fields(after)))
    plan.finalize()
    plan.commit()
    return plan


# ---------- operations ----------


def create_task(principal: Principal, project_id: str, fields: dict[str, Any], task_id: str | None = None) -> Task:
    """`task_id` (a child id of the project, see core.ids): a consumer that must create the task
    once whatever the replays names it, and a second create of it is refused."""

    def attempt() -> Task:
        project, _ = access.load_project(principal, project_id, "tasks:write")
        _require_open(project)
        pk = project_pk(principal.tenant_id, project_id)
        named = _named_in(fields)
        known = {t.id: t for t in access.read_keys((pk, Task.sort_key(t)) for t in named) if isinstance(t, Task)}
        task = new_task(principal, project, fields, task_id)
        _check_parent(task, known)
        _check_predecessors(task, known, None)  # a new task has no successors: no cycle possible
        _place(project, task, known)
        return _commit_single(principal, Reading(project, known), None, task).written(task.id)

    return retrying(attempt)


def get_task(principal: Principal, task_id: str) -> Task:
    task, _ = access.load_task(principal, task_id, "tasks:read")
    return task


def task_activity(principal: Principal, task_id: str, limit: int, cursor: str | None) -> Page[ActivityEntry]:
    access.load_task(principal, task_id, "tasks:read")
    reader = query_reader(ActivityEntry.by_task, ActivityEntry.task_pk(principal.tenant_id, task_id),
                          newest_first=True)
    return read_page([reader], limit, cursor)


def update_task(principal: Principal, task_id: str, changes: dict[str, Any], expected_version: int,
                force: bool = False) -> Task:
    def attempt() -> Task:
        task, reading = _read_for_change(principal, task_id, "tasks:update", changes)
        require_version(task, expected_version, "task")
        after = _updated(task, reading, changes)
        return _commit_single(principal, reading, task, after, force).written(task_id)

    return retrying(attempt)


def move_task(principal: Principal, task_id: str, status: str | None, after_id: str | None,
              before_id: str | None, expected_version: int | None, force: bool = False) -> Task:
    """Change column and/or place between two neighbours (`after_id` above, `before_id` below;
    a missing neighbour is the column's edge)."""
    neighbours = [t for t in (after_id, before_id) if t]

    def attempt() -> Task:
        changes = {"status": status} if status else {}
        task, reading = _read_for_change(principal, task_id, "tasks:update", changes, neighbours)
        if expected_version is not None:
            require_version(task, expected_version, "task")
        target = status or task.status
        if neighbours:
            visible = {key: item for key, item in reading.known.items()
                       if access.reaches_task(principal, reading.reach, item)}
            changes["position"] = _between(visible, task, target, after_id, before_id)
        after = _updated(task, reading, changes)
        return _commit_single(principal, reading, task, after, force).written(task_id)

    return retrying(attempt)


def _between(known: dict[str, Task], task: Task, status: str, after_id: str | None, before_id: str | None) -> str:
    """The rank between two neighbours that must sit in the column (or subtask list) the task goes to.
    `known` holds only the tasks the caller sees: one it does not see is refused as an absent one is."""
    ranks = []
    for name, neighbour_id in (("after_id", after_id), ("before_id", before_id)):
        neighbour = known.get(neighbour_id) if neighbour_id else None
        if neighbour_id and (neighbour is None or neighbour.id == task.id or neighbour.parent_id != task.parent_id
                             or (task.parent_id is None and neighbour.status != status)):
            raise validation_error(name, f"task {neighbour_id} is not in the place this task moves to")
        ranks.append(neighbour.position if neighbour else None)
    try:
        return rank_between(ranks[0], ranks[1], task.id)
    except RankOrderError as error:
        raise Conflict("the neighbours are no longer in that order; reload the board and try again") from error


def delete_task(principal: Principal, task_id: str) -> list[dict[str, str]]:
    """Delete a task; the dependency links others had on it go too, and are returned."""

    def attempt() -> list[dict[str, str]]:
        task, reading = _read_for_change(principal, task_id, "tasks:write", {}, deleting=True)
        if int(task.children_count) > 0:
            raise Conflict(f"task {task_id} has {int(task.children_count)} subtasks; delete or move them first")
        return _commit_single(principal, reading, task, None).removed_links

    return retrying(attempt)


def bulk_update(principal: Principal, project_id: str, updates: list[dict[str, Any]], force: bool) -> list[Task]:
    """Status, assignees and dates of up to 40 tasks in one transaction: all or none."""
    task_ids = [update["task_id"] for update in updates]

    def attempt() -> list[Task]:
        reach = require(principal, "tasks:write")
        pk = project_pk(principal.tenant_id, project_id)
        items = access.read_keys([(pk, Project.SORT), *((pk, Task.sort_key(t)) for t in task_ids)])
        project = access.check_project(principal, reach, next((i for i in items if isinstance(i, Project)), None),
                                       project_id)
        _require_open(project)
        known = {item.id: item for item in items if isinstance(item, Task)}
        for index, task_id in enumerate(task_ids):
            if task_id not in known or not access.reaches_task(principal, reach, known[task_id]):
                raise validation_error(f"updates.{index}.task_id", f"task {task_id} is not in this project")
        reading = Reading(project, known, reach=reach)
        changes_of = {u["task_id"]: {k: v for k, v in u.items() if k not in ("task_id", "version")} for u in updates}
        wanted = set().union(*(_related(known[t], changes_of[t], False) for t in task_ids))
        reading.complete(principal, wanted, False)
        plan = Plan(principal, reading.project, dict(reading.known), force=force, budget_field="updates")
        befores = {t: reading.known[t] for t in task_ids}
        for update in updates:
            before = befores[update["task_id"]]
            if update.get("version") is not None:
                require_version(before, update["version"], f"task {before.id}")
            plan.stage(before, _updated(before, reading, changes_of[update["task_id"]]))
        require_assignees(plan, [(befores[t], plan.after[t]) for t in task_ids])
        plan.record("bulk_update", "project", project_id, {
            t: audit.diff(ledger.client_fields(befores[t]), ledger.client_fields(plan.after[t])) for t in task_ids})
        plan.finalize()
        plan.commit()
        return [plan.written(t) for t in task_ids]

    return retrying(attempt)


# ---------- re-planning from a template ----------


REPLAN_CHUNK = 40  # task changes per transaction when a re-plan may span several
TEMPLATE_FACTS = ("template_version", "anchor_source", "anchor_date")  # on the project item
PLAN_DATES = ("start_date", "due_date")  # the project's: its template tasks' span, unless a person set them


def spec_fields(spec: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """A task spec's fields, with its `parent_key` and `depends_on` keys turned into the task
    ids `ids` gives them (a key it does not know links nothing)."""
    fields = {name: value for name, value in spec.items() if name not in ("key", "parent_key", "depends_on")}
    fields["parent_id"] = ids.get(spec.get("parent_key") or "")
    fields["depends_on"] = [ids[key] for key in spec.get("depends_on") or [] if key in ids]
    return fields


def build_task_ids(project_id: str, seed: str, keys: list[str]) -> dict[str, str]:
    """The ids tasks created together get, by key: derived from `seed` (the project's id for a
    project built with its tasks), so a retry gives the same ones."""
    return dict(zip(keys, child_ids(project_id, seed, len(keys)), strict=True))


@dataclass
class Replan:
    """What a template does to a project's tasks: `changes` (task id → fields, dates included:
    not a person's edit), `removals` (task ids), `additions` (template tasks with `key`,
    `parent_key` and `depends_on` by key, naming each other or the project's tasks in
    `key_ids`, and dates; their ids come from `additions_seed`, see `build_task_ids`).
    `extras` (another room's writes), `project_facts` (TEMPLATE_FACTS to set on the project)
    and the audit entry (`action`, `audit`) join the last transaction. `spans`: the old plan's
    and the new plan's {start_date, due_date}; the project's dates follow from the one to the
    other unless they are not the old plan's (a person set them), and then `dates_kept` says so."""

    changes: dict[str, dict[str, Any]]
    removals: list[str] = field(default_factory=list)
    additions: list[dict[str, Any]] = field(default_factory=list)
    additions_seed: str = ""
    key_ids: dict[str, str] = field(default_factory=dict)  # tasks the additions may name, by key
    extras: list[Callable[[Transaction], None]] = field(default_factory=list)
    project_facts: dict[str, Any] = field(default_factory=dict)
    action: str = "replan"
    audit: dict[str, Any] = field(default_factory=dict)
    spans: tuple[dict[str, str], dict[str, str]] | None = None
    dates_kept: bool = False  # set by `replan`


def _following_dates(project: Project, change: Replan) -> dict[str, str]:
    """The project's dates that move with its plan (see Replan.spans)."""
    if change.spans is None:
        return {}
    old, new = change.spans
    change.dates_kept = {name: getattr(project, name) for name in PLAN_DATES} != old
    if change.dates_kept:
        return {}
    return {name: new[name] for name in PLAN_DATES if getattr(project, name) != new[name]}


class _Oversized(Exception):
    """A re-plan step that does not fit one transaction: take fewer tasks at once."""


def replan(principal: Principal, project_id: str, change: Replan, atomic: bool, budget_field: str) -> dict[str, str]:
    """Carry out a re-plan; returns the added tasks' ids by key. `atomic`: one transaction, or a
    422 naming `budget_field` when it cannot fit one. Otherwise the field changes go in as few
    transactions as fit (at most REPLAN_CHUNK tasks each, fewer when their links make them
    bigger), the last one with the rest; a retry after a failure finds the tasks already changed
    and changes only the others."""
    require(principal, "tasks:write")
    pending = list(change.changes.items())
    if atomic:
        return retrying(lambda: _replan_step(principal, project_id, dict(pending), change, True, budget_field,
                                             False))
    while True:
        take = min(REPLAN_CHUNK, len(pending))
        while True:
            chunk, last = dict(pending[:take]), take == len(pending)
            try:
                added = retrying(lambda chunk=chunk, last=last: _replan_step(
                    principal, project_id, chunk, change, last, budget_field, True))
                break
            except _Oversized:
                take //= 2
        pending = pending[take:]
        if last:
            return added


def _replan_step(principal: Principal, project_id: str, changes: dict[str, dict[str, Any]], change: Replan,
                 last: bool, budget_field: str, divisible: bool) -> dict[str, str]:
    reach = require(principal, "tasks:write")
    project, board = access.read_board(principal.tenant_id, project_id)
    project = access.check_project(principal, reach, project, project_id)
    _require_open(project)
    known = {task.id: task for task in board}
    plan = Plan(principal, project, dict(known), replan=True, budget_field=budget_field)
    for task_id, fields in changes.items():
        after = apply_changes(project, known[task_id], fields) if task_id in known else None
        if after is not None and ledger.client_fields(after) != ledger.client_fields(known[task_id]):
            plan.stage(known[task_id], after)  # (a task deleted meanwhile, or already changed, is left)
    added: dict[str, str] = {}
    recorded: dict[str, Any] = {}
    if last:
        for task_id in (task_id for task_id in change.removals if task_id in known):
            staying = [t for t in board if t.parent_id == task_id and t.id not in change.removals]
            if staying:
                raise Conflict(f"task {task_id} would go but its subtask {staying[0].id} stays")
            plan.stage(known[task_id], None)
        added = _stage_additions(principal, plan, board, change)
        plan.extras += change.extras
        dates = _following_dates(project, change)
        facts = {name: value for name, value in change.project_facts.items() if name in TEMPLATE_FACTS}
        plan.project_changes.update({**facts, **dates})
        recorded = {**change.audit, **audit.diff({name: getattr(project, name) for name in dates}, dates)}
    require_assignees(plan, [(known.get(task_id), plan.after[task_id]) for task_id in plan.primary])
    plan.record(change.action, "project", project_id, {**recorded, **{
        task_id: audit.diff(ledger.client_fields(known.get(task_id)), ledger.client_fields(plan.after[task_id]))
        for task_id in plan.primary}})
    plan.finalize()
    if divisible and len(changes) > 1 and not plan.fits():
        raise _Oversized()
    plan.commit()
    return added


def _stage_additions(principal: Principal, plan: Plan, board: list[Task], change: Replan) -> dict[str, str]:
    """New template tasks (parents first), each at the bottom of its column or its parent's
    subtasks, linked by key to each other and to the project's tasks in `key_ids`."""
    additions = change.additions
    fresh = build_task_ids(plan.project.id, change.additions_seed, [spec["key"] for spec in additions])
    ids = {key: task_id for key, task_id in change.key_ids.items() if task_id in plan.known}
    ids.update(fresh)
    tails: dict[str, str | None] = {task.id: task.subtask_tail for task in board}
    tails.update({f"#{status}": rank for status, rank in ledger.plain(plan.project.column_tails).items()})
    for spec in additions:
        task = new_task(principal, plan.project, spec_fields(spec, ids), fresh[spec["key"]])
        task.template_key = spec["key"]
        lane = task.parent_id or f"#{task.status}"
        task.position = tails[lane] = rank_between(tails.get(lane), None, task.id)
        plan.stage(None, task)
    return fresh
