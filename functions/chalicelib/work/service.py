"""Project (board) rules, and what other rooms call: `create_project_with_tasks`.

A project is created on a customer the caller reaches. Its board status is computed from its
counters in `auto` mode, or set by a person with a reason in `manual` mode; every change of it
is kept in the status history. Deleting a project archives it: it leaves every list, and so
do its tasks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, validation_error
from chalicelib.core.events import Event, new_event
from chalicelib.core.ids import new_id, parent_of
from chalicelib.core.pagination import (
    MAX_SORTED,
    Page,
    PageReader,
    drain,
    page_within_bytes,
    read_page,
    sorted_source,
)
from chalicelib.core.permissions import Reach, require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version
from chalicelib.customers import service as customers
from chalicelib.jobs import service as jobs
from chalicelib.team import service as team
from chalicelib.timeline import reports as timeline_reports

from . import access, ledger, listing, tasks
from .board_status import SEVERITY, auto_status
from .graph import critical_path, duration_days, find_cycle
from .ledger import AUTO, Plan, StatusMove, plain, today
from .models import (
    ACTIVE,
    ARCHIVED,
    DEFAULT_STATUSES,
    ActivityEntry,
    Project,
    ProjectMember,
    StatusHistoryEntry,
    Task,
    customer_projects_pk,
    due_sort,
    member_projects_pk,
    project_pk,
    projects_pk,
    refresh_pk,
    week_counter,
)
from .progress import percent
from .ranks import ranks_after

PROJECT_FIELDS = (
    "name", "customer_id", "owner_id", "member_ids", "start_date", "due_date", "status", "status_mode",
    "status_reason", "template_id", "portal_visible", "task_statuses",
)
WEEK_COUNTERS = ("created", "completed", "overdue_at_close")

# ---------- representation ----------


def project_fields(project: Project) -> dict[str, Any]:
    return {name: getattr(project, name) for name in PROJECT_FIELDS}


def _next_milestone(project: Project) -> dict[str, Any] | None:
    milestones = plain(project.open_milestones)
    if not milestones:
        return None
    task_id = min(milestones, key=lambda t: due_sort(milestones[t].get("due_date"), t))
    return {"task_id": task_id, **milestones[task_id]}


def _week(project: Project, week: str) -> dict[str, int]:
    weeks = plain(project.weeks)
    return {name: int(weeks.get(week_counter(week, name), 0)) for name in WEEK_COUNTERS}


def progress_of(project: Project) -> float:
    return percent(int(project.weight_done), int(project.weight_total))


def project_view(project: Project) -> dict[str, Any]:
    day = today()
    return {
        "id": project.id,
        **project_fields(project),
        "progress": progress_of(project),
        "counts": {name: int(n) for name, n in plain(project.counts).items() if int(n)},
        "task_count": int(project.task_count),
        "done_count": int(project.done_count),
        "overdue_count": ledger.overdue_count(plain(project.open_due), day),
        "next_milestone": _next_milestone(project),
        "this_week": _week(project, ledger.iso_week(day)),
        "last_week": _week(project, ledger.iso_week(day - timedelta(days=7))),
        "archived": project.archived,
        "template_version": int(project.template_version) if project.template_version is not None else None,
        "anchor": {"source": project.anchor_source, "date": project.anchor_date} if project.anchor_date else None,
        "version": int(project.version),
        "created_by": project.created_by,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


def _event(principal: Principal, detail_type: str, project: Project, **detail: Any) -> Event:
    return new_event(principal.tenant_id, detail_type,
                     {"project_id": project.id, "customer_id": project.customer_id, **detail})


# ---------- rules on project fields ----------


def _check_statuses(statuses: list[dict[str, str]]) -> None:
    names = [status["name"] for status in statuses]
    if len(set(names)) != len(names):
        raise validation_error("task_statuses", "status names must be unique")
    categories = {status["category"] for status in statuses}
    if "done" not in categories or categories == {"done"}:
        raise validation_error("task_statuses", "needs at least one done status and one that is not done")


def _check_project(project: Project) -> None:
    if project.start_date and project.due_date and project.due_date < project.start_date:
        raise validation_error("due_date", "due_date must be on or after start_date")
    _check_statuses(project.task_statuses)


def _check_manual_status(mode: str, changes: dict[str, Any]) -> None:
    """A person sets the status (with a reason) only in manual mode; auto mode computes it."""
    for name in ("status", "status_reason"):
        if mode == AUTO and name in changes:
            raise validation_error(name, "is computed in auto mode; send status_mode manual to set it")
    if mode != AUTO and "status" in changes and not changes.get("status_reason"):
        raise validation_error("status_reason", "a status set by hand needs a reason")


def _require_people(tx: Transaction, tenant_id: str, fields: dict[str, Any]) -> None:
    if fields.get("owner_id"):
        team.require_active_users(tx, tenant_id, [fields["owner_id"]], "owner_id")
    if fields.get("member_ids"):
        team.require_active_users(tx, tenant_id, fields["member_ids"], "member_ids")


def member_entries(project: Project) -> dict[str, ProjectMember]:
    """One entry per owner and member while the project is live."""
    if not project.live:
        return {}
    people = dict.fromkeys([p for p in [project.owner_id, *project.member_ids] if p])
    return {
        ProjectMember.sort(user): ProjectMember(
            project.PK, ProjectMember.sort(user), type="ProjectMember", tenant_id=project.tenant_id,
            project_id=project.id, user_id=user, GSI1PK=member_projects_pk(project.tenant_id, user),
            GSI1SK=due_sort(project.due_date, project.id),
        )
        for user in people
    }


def _sync_members(tx: Transaction, before: Project | None, after: Project) -> None:
    old, new = member_entries(before) if before else {}, member_entries(after)
    for sort, entry in new.items():
        if sort not in old or old[sort].GSI1SK != entry.GSI1SK:
            tx.put(entry)
    for sort, entry in old.items():
        if sort not in new:
            tx.delete(entry)


# ---------- creating ----------


def _new_project(principal: Principal, customer_id: str, fields: dict[str, Any], template_id: str | None,
                 project_id: str | None) -> Project:
    now, project_id = now_iso(), project_id or new_id()
    values = {name: value for name, value in fields.items() if value is not None}
    values.setdefault("task_statuses", [dict(status) for status in DEFAULT_STATUSES])
    values.setdefault("status_mode", AUTO)
    _check_manual_status(values["status_mode"], values)
    values.setdefault("status", "on_track")
    values.setdefault("owner_id", principal.user_id)
    project = Project(
        project_pk(principal.tenant_id, project_id), Project.SORT, type="Project", tenant_id=principal.tenant_id,
        id=project_id, customer_id=customer_id, template_id=template_id, created_by=principal.user_id, version=1,
        created_at=now, updated_at=now, archived=False, provisioning=False, counts={}, open_due={}, weeks={},
        open_milestones={}, column_tails={}, **values,
    )
    _check_project(project)
    return project


def _tasks_from_specs(principal: Principal, project: Project, specs: list[dict[str, Any]]) -> dict[str, Task]:
    """Task items from specs that refer to each other by `key` (`parent_key`, `depends_on`),
    placed in the order given, keyed by spec key. Their ids derive from the project's, so a
    retried build writes the same tasks; they remember their key."""
    ids = tasks.build_task_ids(project.id, project.id, [spec["key"] for spec in specs])
    if len(ids) != len(specs):
        raise validation_error("tasks", "task keys must be unique")
    built: dict[str, Task] = {}
    for index, spec in enumerate(specs):
        for name, keys in (("parent_key", [spec.get("parent_key")] if spec.get("parent_key") else []),
                           ("depends_on", spec.get("depends_on") or [])):
            missing = [key for key in keys if key not in ids]
            if missing:
                raise validation_error(f"tasks.{index}.{name}", f"no task with key {missing[0]}")
        task = tasks.new_task(principal, project, tasks.spec_fields(spec, ids), ids[spec["key"]])
        task.template_key = spec["key"] if project.template_id else None
        built[spec["key"]] = task
    by_id = {task.id: task for task in built.values()}
    for index, task in enumerate(built.values()):
        parent = by_id.get(task.parent_id or "")
        if parent is not None and parent.parent_id is not None:
            raise validation_error(f"tasks.{index}.parent_key", "subtasks go one level deep")
    cycle = find_cycle({task.id: task.depends_on for task in built.values()})
    if cycle:
        keys = {task_id: key for key, task_id in ids.items()}
        raise validation_error("tasks", "dependency cycle: " + " → ".join(keys[t] for t in cycle))
    _place_all(project, list(built.values()))
    return built


def _place_all(project: Project, new_tasks: list[Task]) -> None:
    """Positions in the given order, per column (top-level) or per parent (subtasks)."""
    lanes: dict[str, list[Task]] = {}
    for task in new_tasks:
        lanes.setdefault(f"{task.parent_id or ''}#{task.status if task.parent_id is None else ''}", []).append(task)
    for lane in lanes.values():
        tail = plain(project.column_tails).get(lane[0].status) if lane[0].parent_id is None else None
        for task, rank in zip(lane, ranks_after(tail, [task.id for task in lane]), strict=True):
            task.position = rank


@dataclass(frozen=True)
class Build:
    """How another room asks for a project with its tasks: `project_id` fixed by the caller
    makes a retry find the same project (`resume`); `customer`, already read through the
    customers room, is not read again; `first` are the caller's writes that go with the
    project's first write, `shown` those that go with the write that shows it."""

    project_id: str | None = None
    customer: Any = None  # the customer, if the caller already read it through the customers room
    resume: bool = False
    first: Callable[[Transaction], None] | None = None
    shown: Callable[[Transaction], None] | None = None


def create_project_with_tasks(
    principal: Principal,
    customer_id: str,
    fields: dict[str, Any],
    task_specs: list[dict[str, Any]] | None = None,
    template_id: str | None = None,
    build: Build = Build(),
) -> tuple[Project, dict[str, str]]:
    """Create a project on a customer with its tasks (specs with `key`, `parent_key`,
    `depends_on` by key, explicit dates and any task field). Returns the project and spec key →
    task id. What fits one transaction is written at once. A bigger project is written
    `provisioning` in batches of at most 100 items, every task already indexed but `hidden`,
    and shown by one write to the project item. With `build.resume`, the batches a failed
    attempt left out are written and the project shown; a project already shown is returned."""
    require(principal, "projects:write")
    customer = build.customer or customers.get_customer(principal, customer_id)
    if customer.archived and not build.resume:
        raise Conflict(f"customer {customer_id} is archived; it cannot take new projects")

    def plan_for(provisioning: bool) -> tuple[Plan, dict[str, Task]]:
        project = _new_project(principal, customer_id, fields, template_id, build.project_id)
        project.provisioning = provisioning
        built = _tasks_from_specs(principal, project, list(task_specs or []))
        plan = Plan(principal, project, {}, new_project=True, build=bool(built), budget_field="tasks")
        for task in built.values():
            plan.stage(None, task)
        people = {"owner_id": project.owner_id, "member_ids": project.member_ids}
        plan.checks.append(lambda tx: _require_people(tx, principal.tenant_id, people))
        plan.checks.append(lambda tx: _sync_members(tx, None, project))
        tasks.require_assignees(plan, [(None, task) for task in built.values()])
        plan.record("create", "project", project.id, audit.diff({}, {**project_fields(project),
                                                                      "task_count": len(built)}))
        plan.extras += [extra for extra in (build.first, None if provisioning else build.shown) if extra]
        plan.finalize()
        plan.events.append(_event(principal, "Project.Created", project, template_id=template_id,
                                  task_count=len(built)))
        return plan, built

    if build.resume:
        plan, built = plan_for(provisioning=True)
        project = _resume(principal, plan, build)
        return project, {key: task.id for key, task in built.items()}
    plan, built = plan_for(provisioning=False)
    if plan.fits():
        plan.commit()
        project = plan.project
    else:
        plan, built = plan_for(provisioning=True)
        commit_groups(plan.groups())
        project = _show(principal, plan.project, build, plan.events)  # every event goes out when it shows
    return project, {key: task.id for key, task in built.items()}


def _resume(principal: Principal, plan: Plan, build: Build) -> Project:
    """Finish a build a failed attempt began: write the tasks not yet written, then show it.
    A project already shown is returned as it is."""
    written, board = access.read_board(principal.tenant_id, plan.project.id)
    if written is None:
        raise Conflict(f"project {plan.project.id} was never begun; apply again with a new Idempotency-Key")
    if not written.provisioning:
        return written
    present = {task.id for task in board}
    commit_groups(plan.task_writes(task_id) for task_id in plan.after if task_id not in present)
    # The failed attempt published nothing (its events go with the write that shows the project).
    return _show(principal, written, build, plan.events)


def _show(principal: Principal, project: Project, build: Build, events: list[Event]) -> Project:
    """The one write that shows a provisioned project, its tasks with it (see models)."""
    shown = Project(project.PK, project.SK, **copy.deepcopy(project.attribute_values))
    shown.provisioning = False
    shown.set_index_keys()
    tx = Transaction()
    keys = ledger.key_actions(project, shown)
    tx.update(project, [Project.provisioning.set(False), *keys], Project.provisioning == True,  # noqa: E712
              lambda: Conflict(f"project {project.id} was already shown"))
    _sync_members(tx, None, shown)
    audit.record(tx, principal, "reveal", "project", project.id, {"provisioning": {"before": True, "after": False}})
    if build.shown:
        build.shown(tx)
    tx.publish(*events)
    tx.commit()
    return shown


def commit_groups(groups: Iterable[Callable[[Transaction], None]]) -> None:
    """Groups of writes, in order, in transactions of at most 100 items (a project written
    hidden in batches, or its tasks taken out of the lists)."""
    for batch in ledger.pack(groups):
        batch.commit()


# ---------- reading ----------


def get_project(principal: Principal, project_id: str) -> Project:
    project, _ = access.load_project(principal, project_id, "projects:read")
    return project


def status_history(principal: Principal, project_id: str, limit: int, cursor: str | None) -> Page[Any]:
    access.load_project(principal, project_id, "projects:read")
    pk = project_pk(principal.tenant_id, project_id)
    reader = query_reader(StatusHistoryEntry, pk, StatusHistoryEntry.SK.startswith(StatusHistoryEntry.PREFIX),
                          newest_first=True)
    return read_page([reader], limit, cursor)


def project_activity(principal: Principal, project_id: str, limit: int, cursor: str | None) -> Page[Any]:
    """Newest first. A contractor sees the entries of their own tasks only."""
    _, reach = access.load_project(principal, project_id, "projects:read")
    pk = project_pk(principal.tenant_id, project_id)
    keep = None
    if reach is Reach.ASSIGNED:
        mine = {task.id for task in drain([listing.assigned_in(principal, project_id)], MAX_SORTED, "project_id")}
        keep = lambda entry: entry.task_id in mine  # noqa: E731
    reader = query_reader(ActivityEntry, pk, ActivityEntry.SK.startswith(ActivityEntry.PREFIX), newest_first=True,
                          keep=keep)
    return read_page([reader], limit, cursor)


def _visible_board(principal: Principal, project_id: str) -> tuple[Project, list[Task]]:
    reach = require(principal, "projects:read")
    project, board = access.read_board(principal.tenant_id, project_id)
    project = access.check_project(principal, reach, project, project_id)
    if reach is Reach.ASSIGNED:
        board = [task for task in board if principal.user_id in task.assignee_ids]
    return project, board


def _without_description(view: dict[str, Any]) -> dict[str, Any]:
    """A task as a board or Gantt shows it by default: without its description (up to 10,000
    characters), which `?include=description` adds."""
    return {name: value for name, value in view.items() if name != "description"}


def board(principal: Principal, project_id: str, include_description: bool = False,
          cursor: str | None = None) -> dict[str, Any]:
    """Kanban: the project's columns in order, each with its top-level tasks by position. The
    cards are paged in column order by size: a response never passes Lambda's 6 MB (a board
    without descriptions fits one page but for thousands of cards)."""
    project, all_tasks = _visible_board(principal, project_id)
    day, counts = today(), plain(project.counts)
    order = {status["name"]: n for n, status in enumerate(project.task_statuses)}
    cards = sorted((t for t in all_tasks if t.parent_id is None and t.status in order),
                   key=lambda t: (order[t.status], t.position))
    columns = [{**status, "count": int(counts.get(status["name"], 0)), "tasks": []}
               for status in project.task_statuses]
    response = {"project": project_view(project), "columns": columns, "next_cursor": None}
    views = [tasks.task_view(t, day) for t in cards]
    page = page_within_bytes(views if include_description else [_without_description(v) for v in views],
                             response, cursor)
    for card in page.items:
        columns[order[card["status"]]]["tasks"].append(card)
    return {**response, "next_cursor": page.next_cursor}


def gantt(principal: Principal, project_id: str) -> dict[str, Any]:
    """Every task with its dates, progress and links, the conflicts, and the critical path
    (whole: for the rooms that read a project's plan; the route pages it, see gantt_page)."""
    project, all_tasks = _visible_board(principal, project_id)
    day = today()
    visible = {task.id for task in all_tasks}
    edges = [{"predecessor_id": pred, "successor_id": task.id}
             for task in all_tasks for pred in task.depends_on if pred in visible]
    durations = {task.id: duration_days(_date(task.start_date), _date(task.due_date), task.time_estimate,
                                        task.time_unit, task.is_milestone) for task in all_tasks}
    path, length = critical_path(durations, {task.id: task.depends_on for task in all_tasks})
    ordered = sorted(all_tasks, key=lambda t: (t.start_date or t.due_date or "9999", t.position))
    views = [tasks.task_view(task, day) for task in ordered]
    return {
        "project": project_view(project),
        "tasks": views,
        "dependencies": edges,
        "conflicts": [view["id"] for view in views if view["dependency_conflict"]],
        "critical_path": {"task_ids": path, "duration_days": length},
    }


def gantt_page(principal: Principal, project_id: str, include_description: bool = False,
               cursor: str | None = None) -> dict[str, Any]:
    """The Gantt as the API sends it: tasks paged by size like the board's cards (descriptions
    only when asked for); each page carries the links into its tasks and its tasks' conflicts,
    and the critical path over the whole project."""
    whole = gantt(principal, project_id)
    links: dict[str, list[dict[str, str]]] = {}
    for edge in whole["dependencies"]:
        links.setdefault(edge["successor_id"], []).append(edge)
    # A task travels with its links (≤ 50): they count against its page.
    entries = [{"task": view if include_description else _without_description(view), "links": links.get(view["id"], [])}
               for view in whole["tasks"]]
    fixed = {**whole, "tasks": [], "dependencies": [], "conflicts": [], "next_cursor": None}
    page = page_within_bytes(entries, fixed, cursor)
    views = [entry["task"] for entry in page.items]
    return {
        **fixed,
        "tasks": views,
        "dependencies": [link for entry in page.items for link in entry["links"]],
        "conflicts": [view["id"] for view in views if view["dependency_conflict"]],
        "next_cursor": page.next_cursor,
    }


def activity_overlay(principal: Principal, project: dict[str, Any], bucket: str) -> list[dict[str, Any]]:
    """The Gantt's activity overlay (the caller reached the project): per bucket, the project's
    interactions and status changes, read from the timeline's daily counters."""
    start = _date(project.get("start_date")) or date.fromisoformat(project["created_at"][:10])
    end = max(filter(None, [_date(project.get("due_date")), today()]))
    start = max(start, end - timedelta(days=timeline_reports.MAX_DAYS - 1))
    return timeline_reports.activity_overlay(principal.tenant_id, project["id"], bucket, min(start, end), end)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# ---------- changing ----------


def _check_status_change(project: Project, statuses: list[dict[str, str]]) -> None:
    """A status that still has tasks must stay, with its category."""
    categories = {status["name"]: status["category"] for status in statuses}
    for name, count in plain(project.counts).items():
        if int(count) and categories.get(name) != project.category_of(name):
            change = "be removed" if name not in categories else "change category"
            raise Conflict(f"status {name} has {int(count)} tasks and cannot {change}; move them first")


def update_project(principal: Principal, project_id: str, changes: dict[str, Any], expected_version: int) -> Project:
    project, _ = access.load_project(principal, project_id, "projects:write")
    require_version(project, expected_version, "project")
    if project.archived:
        raise Conflict("archived projects cannot be edited")
    after = Project(project.PK, project.SK, **copy.deepcopy(project.attribute_values))
    for name, value in changes.items():
        setattr(after, name, value)
    _check_manual_status(after.status_mode, changes)
    _check_project(after)
    if "task_statuses" in changes:
        _check_status_change(project, after.task_statuses)
    changed_by = principal.user_id
    if after.status_mode == AUTO:
        after.status, after.status_reason = auto_status(ledger.board_facts(after, today()))
        changed_by = AUTO
    changed = audit.diff(project_fields(project), project_fields(after))
    if not changed:
        return project
    now = now_iso()
    after.version, after.updated_at = int(project.version) + 1, now
    actions = [getattr(Project, name).set(change["after"]) for name, change in changed.items()]
    actions += [Project.version.add(1), Project.updated_at.set(now), *ledger.key_actions(project, after)]
    tx = Transaction()
    tx.update(project, actions, Project.version == project.version,
              lambda: Conflict(f"project {project_id} was changed by someone else; reload and retry"))
    _require_people(tx, principal.tenant_id, {k: changes.get(k) for k in ("owner_id", "member_ids")})
    _sync_members(tx, project, after)
    move = StatusMove(project.status, after.status, after.status_reason, changed_by) \
        if after.status != project.status else None
    if move is not None:
        tx.put(ledger.history_entry(after, move, now))
    audit.record(tx, principal, "update", "project", project_id, changed)
    tx.publish(_event(principal, "Project.Updated", after, version=after.version, changes=changed))
    if move is not None:
        tx.publish(ledger.project_status_event(after, move))
    tx.commit()
    return after


# Taking this many tasks out of the lists is a few transactions, well inside API Gateway's 29 s;
# a bigger board's tasks leave the lists in a job, after the request has archived the project.
ARCHIVE_IN_REQUEST_TASKS = 500


def archive_project(principal: Principal, project_id: str, in_request: bool = False) -> Project:
    """Archive (the DELETE of a project): it and its tasks leave every list; all stay readable.
    Repeating it finishes taking the tasks out of the lists if an earlier call stopped midway.
    `in_request`: the project is archived at once, and past ARCHIVE_IN_REQUEST_TASKS listed
    tasks the rest runs as a job (RunAsJob)."""
    project, _ = access.load_project(principal, project_id, "projects:write")
    archived = project
    if not project.archived:
        archived = Project(project.PK, project.SK, **copy.deepcopy(project.attribute_values))
        archived.archived, archived.version, archived.updated_at = True, int(project.version) + 1, now_iso()
        tx = Transaction()
        tx.update(project, [Project.archived.set(True), Project.version.add(1),
                            Project.updated_at.set(archived.updated_at), *ledger.key_actions(project, archived)],
                  Project.version == project.version,
                  lambda: Conflict(f"project {project_id} was changed by someone else; retry"))
        _sync_members(tx, project, archived)
        audit.record(tx, principal, "archive", "project", project_id, audit.diff({"archived": False},
                                                                                   {"archived": True}))
        tx.publish(_event(principal, "Project.Archived", archived, version=archived.version))
        tx.commit()
    _, board_tasks = access.read_board(principal.tenant_id, project_id)
    listed = [task for task in board_tasks if task.GSI1PK]
    if in_request and len(listed) > ARCHIVE_IN_REQUEST_TASKS:
        raise jobs.RunAsJob(f"{len(listed)} listed tasks: more than {ARCHIVE_IN_REQUEST_TASKS} leave the lists "
                            "in a job", len(listed))
    commit_groups(_unindex_task(task) for task in listed)
    return archived


def _unindex_task(task: Task) -> Callable[[Transaction], None]:
    def write(tx: Transaction) -> None:
        keys = [getattr(Task, name).remove() for name, value in task.index_keys(True).items() if value]
        tx.update(task, keys, Task.PK.exists())
        for entry in ledger.assignments(task, True).values():
            tx.delete(entry)

    return write


# ---------- lists ----------


def _due_range(model: Any, index: Any, filters: dict[str, Any]) -> Condition | None:
    """A due-date range on an index whose sort key is `<due>#<id>` (no due date sorts last, and
    is outside any range)."""
    if not (filters.get("due_after") or filters.get("due_before")):
        return None
    sort_key = getattr(model, f"{index.Meta.index_name}SK")
    return sort_key.between(f"{filters.get('due_after') or ''}#", f"{filters.get('due_before') or '9999-12-30'}$")


_PROJECT_FACETS = (  # filter → (index, partition key builder)
    ("customer_id", "by_customer", lambda tenant, state, value: customer_projects_pk(tenant, value, state)),
    ("owner_id", "by_owner", lambda tenant, state, value: projects_pk(tenant, state, "OWNER", value)),
    ("status", "by_status", lambda tenant, state, value: projects_pk(tenant, state, "STATUS", value)),
    ("template_id", "by_template", lambda tenant, state, value: projects_pk(tenant, state, "TEMPLATE", value)),
)


def _filter(filters: dict[str, Any], skip: str | None) -> Condition | None:
    condition: Condition | None = None
    for name, _, _ in _PROJECT_FACETS:
        if filters.get(name) and name != skip:
            term = getattr(Project, name) == filters[name]
            condition = term if condition is None else condition & term
    return condition


def _project_source(tenant: str, state: str, filters: dict[str, Any]) -> PageReader[Project]:
    for name, index_name, partition in _PROJECT_FACETS:
        if filters.get(name):
            index = getattr(Project, index_name)
            return query_reader(index, partition(tenant, state, filters[name]), _due_range(Project, index, filters),
                                _filter(filters, name))
    return query_reader(Project.by_due, projects_pk(tenant, state), _due_range(Project, Project.by_due, filters),
                        _filter(filters, None))


def _member_projects(principal: Principal, filters: dict[str, Any]) -> PageReader[Project]:
    """A contractor's projects: their membership entries, then the projects (BatchGet)."""

    def resolve(entries: list[ProjectMember]) -> list[Project | None]:
        projects = access.read_keys((entry.PK, Project.SORT) for entry in entries)
        by_id = {p.id: p for p in projects if isinstance(p, Project)}
        return [by_id.get(entry.project_id) for entry in entries]

    wanted = {name: filters[name] for name, _, _ in _PROJECT_FACETS if filters.get(name)}
    return query_reader(ProjectMember.by_user, member_projects_pk(principal.tenant_id, principal.user_id),
                        _due_range(ProjectMember, ProjectMember.by_user, filters), resolve=resolve,
                        keep=(lambda p: all(getattr(p, name) == value for name, value in wanted.items()))
                        if wanted else None)


def _project_sources(principal: Principal, reach: Reach, filters: dict[str, Any]) -> list[PageReader[Project]]:
    tenant = principal.tenant_id
    if reach is Reach.ASSIGNED:
        return [_member_projects(principal, filters)]
    states = [ACTIVE, ARCHIVED] if filters.get("include_archived") else [ACTIVE]
    if reach is Reach.OWNED:
        reachable = access.reachable_customer_ids(principal)
        wanted = [filters["customer_id"]] if filters.get("customer_id") else reachable
        return [_project_source(tenant, state, {**filters, "customer_id": customer_id})
                for state in states for customer_id in wanted if customer_id in reachable]
    return [_project_source(tenant, state, filters) for state in states]


def _risk(project: Project) -> tuple[int, int, float]:
    facts = ledger.board_facts(project, today())
    return (-SEVERITY.get(project.status, 0), -facts.overdue_count, float(facts.progress))


SORTS: dict[str, Callable[[Project], Any]] = {
    "progress": lambda project: (progress_of(project), project.id),
    "risk": lambda project: (*_risk(project), project.id),
}


def list_projects(principal: Principal, filters: dict[str, Any], limit: int, cursor: str | None) -> Page[Project]:
    reach = require(principal, "projects:read")
    sources = _project_sources(principal, reach, filters)
    sort = filters.get("sort") or "due_date"
    if sort in SORTS:
        sources = [sorted_source(sources, SORTS[sort])]
    return read_page(sources, limit, cursor)


def list_customer_projects(principal: Principal, customer_id: str, filters: dict[str, Any], limit: int,
                           cursor: str | None) -> Page[Project]:
    require(principal, "projects:read")
    customers.get_customer(principal, customer_id)
    return list_projects(principal, {**filters, "customer_id": customer_id}, limit, cursor)


# ---------- time passing ----------


def refresh_auto_status(project: Project, day: date) -> bool:
    """For the daily job, in the project's tenant scope: the auto status as of `day` (elapsed
    time grows, tasks fall overdue, due dates pass). True when it moved; a no-op when nothing
    changed or a task change moved the board meanwhile (that change computed its own)."""
    if project.status_mode != AUTO or not project.live:
        return False
    status, reason = auto_status(ledger.board_facts(project, day))
    if status == project.status:
        return False
    moved = Project(project.PK, project.SK, **copy.deepcopy(project.attribute_values))
    moved.status = status
    move = StatusMove(project.status, status, reason, AUTO)
    automation = Principal(tenant_id=project.tenant_id, user_id=AUTO, role="owner", email="")
    tx = Transaction()
    unchanged = (Project.status == project.status) & (Project.status_mode == AUTO) & (Project.archived == False)  # noqa: E712
    tx.update(project, ledger.status_actions(project, moved, reason), unchanged,
              ledger.contention(f"project {project.id}"))
    tx.put(ledger.history_entry(moved, move, now_iso()))
    audit.record(tx, automation, "update", "project", project.id, {"status": {"before": project.status,
                                                                             "after": status}})
    tx.publish(ledger.project_status_event(moved, move))
    try:
        tx.commit()
    except ledger.Contended:
        return False
    return True


def boards_to_refresh(shard: int) -> Iterable[Project]:
    """Live auto-status boards of every tenant in one shard (system scope)."""
    return Project.to_refresh.query(refresh_pk(shard))


# ---------- reads for the time room ----------

ESTIMATE_MINUTES = {"hour": 60, "day": 8 * 60}  # a day of estimate is a working day of 8 hours


def task_for_time(principal: Principal, task_id: str) -> dict[str, Any]:
    """For the time room: the task a person logs time on (404 unless they may read it), with
    what an entry needs: its customer, project and task type."""
    task, _ = access.load_task(principal, task_id, "tasks:read")
    return {"id": task.id, "customer_id": task.customer_id, "project_id": task.project_id,
            "task_type": task.task_type}


def task_estimates(tenant_id: str, task_ids: Iterable[str]) -> dict[str, int | None]:
    """For the time report: each task's `time_estimate` in minutes (None when it has none),
    read by key (BatchGets of 100); tasks that no longer exist are absent."""
    keys = [(project_pk(tenant_id, project_id), Task.sort_key(task_id))
            for task_id in dict.fromkeys(task_ids) if (project_id := parent_of(task_id)) is not None]
    found = [item for item in access.read_keys(keys) if isinstance(item, Task)] if keys else []
    return {task.id: None if task.time_estimate is None
            else round(float(task.time_estimate) * ESTIMATE_MINUTES.get(task.time_unit or "hour", 60))
            for task in found}


def names_for(plan: ReadPlan, tenant_id: str, project_ids: Iterable[str],
              task_ids: Iterable[str]) -> Callable[[], dict[str, str]]:
    """For other rooms (documents that name the work, e.g. invoice lines): each project's name
    and each task's title by id, read by key as part of the caller's batch (core.reads).
    Projects and tasks that no longer exist are absent."""
    keys = {project_id: plan.want(Project, project_pk(tenant_id, project_id), Project.SORT)
            for project_id in dict.fromkeys(project_ids)}
    keys |= {task_id: plan.want(Task, project_pk(tenant_id, project_id), Task.sort_key(task_id))
             for task_id in dict.fromkeys(task_ids) if (project_id := parent_of(task_id)) is not None}

    def answer() -> dict[str, str]:
        found = {item_id: plan.item(key) for item_id, key in keys.items()}
        return {item_id: item.title if isinstance(item, Task) else item.name
                for item_id, item in found.items() if item is not None}

    return answer
