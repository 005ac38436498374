"""The one write path every task change takes.

An operation reads the project and the tasks it touches, builds each changed task's new state,
and stages it on a `Plan`. `finalize` then works out everything that follows — parents'
rollups, dependency links both ways, predecessors' due dates copied onto successors, the
project's counters and its auto status — and `transaction` turns it into one
TransactWriteItems: every task (conditional on the revision read), its activity entry, its
assignee index entries, the project's counters (ADD), a status-history entry when
the board status moves, and the audit entry. Events are published after the commit."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, validation_error
from chalicelib.core.events import Event, new_event
from chalicelib.core.ids import new_id
from chalicelib.core.table import Transaction, now_iso, sync_derived

from . import events as _declared_events  # noqa: F401 (declares the types new_event names)
from .board_status import BoardFacts, auto_status
from .models import (
    BLOCKED_STATUS,
    TASK_FIELDS,
    ActivityEntry,
    Project,
    StatusHistoryEntry,
    Task,
    TaskAssignment,
    assignee_pk,
    week_counter,
)
from .progress import UNITS, Rollup, Work, rollup_changes, standing

MAX_TRANSACTION_ITEMS = 100
AUTO = "auto"

# Fields a client sets on a task: changing any moves `version` and writes an activity entry.
CLIENT_FIELDS = (*TASK_FIELDS, "position")
DATE_FIELDS = ("start_date", "due_date")


class Contended(Conflict):
    """A record this change was computed from changed meanwhile: the operation may re-read
    and try again."""


def today() -> date:
    return datetime.now(UTC).date()


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def plain(value: Any) -> Any:
    """A raw map attribute's value as a dict (PynamoDB hands back a MapAttribute)."""
    return value.as_dict() if hasattr(value, "as_dict") else dict(value or {})


def client_fields(task: Task | None) -> dict[str, Any]:
    return {name: getattr(task, name) for name in CLIENT_FIELDS} if task is not None else {}


def is_done(task: Task | None) -> bool:
    return task is not None and not task.is_open


def rollup(task: Task | None) -> Rollup:
    if task is None:
        return Rollup()
    return Rollup(int(task.children_count), int(task.children_done), int(task.children_weight),
                  int(task.children_done_weight))


def task_id_of(before: Task | None, after: Task | None) -> str:
    task = after if after is not None else before
    if task is None:
        raise ValueError("a change needs a task before or after it")
    return task.id


def work(task: Task | None) -> Work | None:
    return Work(task.id, task.parent_id, int(task.weight), is_done(task)) if task is not None else None


def overdue_count(open_due: dict[str, Any], day: date) -> int:
    return sum(int(n) for due, n in open_due.items() if due < day.isoformat())


def board_facts(project: Project, day: date) -> BoardFacts:
    total_weight = int(project.weight_total)
    return BoardFacts(
        today=day,
        start_date=date.fromisoformat(project.start_date) if project.start_date else None,
        due_date=date.fromisoformat(project.due_date) if project.due_date else None,
        task_count=int(project.task_count),
        done_count=int(project.done_count),
        overdue_count=overdue_count(plain(project.open_due), day),
        blocked_count=int(plain(project.counts).get(BLOCKED_STATUS, 0)),
        progress=Fraction(int(project.weight_done), total_weight * UNITS) if total_weight else Fraction(0),
    )


# ---------- the project's counters ----------


@dataclass
class Tally:
    """How a set of task changes moves the project item's counters."""

    tasks: int = 0
    done: int = 0
    weight_total: int = 0
    weight_done: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    open_due: Counter[str] = field(default_factory=Counter)
    weeks: Counter[str] = field(default_factory=Counter)
    milestones: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    tails: dict[str, str] = field(default_factory=dict)

    def add(self, before: Task | None, after: Task | None, day: date) -> None:
        self.tasks += (after is not None) - (before is not None)
        self.done += is_done(after) - is_done(before)
        for task, sign in ((before, -1), (after, 1)):
            if task is None:
                continue
            self.counts[task.status] += sign
            if task.is_open and task.due_date:
                self.open_due[task.due_date] += sign
        weight_before, units_before = standing(work(before), rollup(before))
        weight_after, units_after = standing(work(after), rollup(after))
        self.weight_total += weight_after - weight_before
        self.weight_done += units_after - units_before
        self._milestone(before, after)
        self._weeks(before, after, day)
        if after is not None and after.parent_id is None:
            self.tails[after.status] = max(self.tails.get(after.status, ""), after.position)

    def _milestone(self, before: Task | None, after: Task | None) -> None:
        if after is not None and after.is_milestone and after.is_open:
            self.milestones[after.id] = {"title": after.title, "due_date": after.due_date}
        elif before is not None and before.is_milestone and before.is_open:
            self.milestones[before.id] = None

    def _weeks(self, before: Task | None, after: Task | None, day: date) -> None:
        if before is None and after is not None:
            self.weeks[week_counter(iso_week(day), "created")] += 1
        if after is not None and is_done(after) and not is_done(before):
            self._closed(after, day, 1)
        elif before is not None and is_done(before) and after is not None and not is_done(after):
            # A reopened task no longer counts as completed in the week it was closed.
            self._closed(before, date.fromisoformat((before.completed_at or day.isoformat())[:10]), -1)

    def _closed(self, task: Task, day: date, sign: int) -> None:
        week = iso_week(day)
        self.weeks[week_counter(week, "completed")] += sign
        if task.due_date and task.due_date < day.isoformat():
            self.weeks[week_counter(week, "overdue_at_close")] += sign

    def new_tails(self, project: Project) -> dict[str, str]:
        current = plain(project.column_tails)
        return {status: rank for status, rank in self.tails.items() if rank > current.get(status, "")}

    def apply(self, project: Project) -> None:
        """The counters after the change, on an in-memory project (to compute the status, or
        to write a new project whole)."""
        project.task_count = int(project.task_count) + self.tasks
        project.done_count = int(project.done_count) + self.done
        project.weight_total = int(project.weight_total) + self.weight_total
        project.weight_done = int(project.weight_done) + self.weight_done
        for name in ("counts", "open_due", "weeks"):
            merged = Counter(plain(getattr(project, name)))
            merged.update(getattr(self, name))
            setattr(project, name, dict(merged))
        milestones = plain(project.open_milestones)
        for task_id, info in self.milestones.items():
            if info is None:
                milestones.pop(task_id, None)
            else:
                milestones[task_id] = info
        project.open_milestones = milestones
        project.column_tails = {**plain(project.column_tails), **self.new_tails(project)}

    def actions(self, project: Project) -> list[Action]:
        """The same change as UpdateItem actions: ADD for numbers, `if_not_exists + n` inside maps."""
        actions: list[Action] = [
            getattr(Project, name).add(value)
            for name, value in (("task_count", self.tasks), ("done_count", self.done),
                                ("weight_total", self.weight_total), ("weight_done", self.weight_done))
            if value
        ]
        for name in ("counts", "open_due", "weeks"):
            attribute = getattr(Project, name)
            for key, delta in getattr(self, name).items():
                if delta:
                    actions.append(attribute[key].set((attribute[key] | 0) + delta))
        for task_id, info in self.milestones.items():
            path = Project.open_milestones[task_id]
            actions.append(path.remove() if info is None else path.set(info))
        actions += [Project.column_tails[status].set(rank) for status, rank in self.new_tails(project).items()]
        return actions


# ---------- the plan ----------


@dataclass
class StatusMove:
    before: str  # "" for a new project
    after: str
    reason: str | None
    changed_by: str  # a user id, or "auto"


@dataclass
class Plan:
    principal: Principal
    project: Project
    known: dict[str, Task]  # every task read, as read
    new_project: bool = False  # the project item is written whole (created with these tasks)
    write_project: bool = True
    build: bool = False  # a project built with its tasks: one activity entry for them all
    replan: bool = False  # dates set by the template (re-anchoring, upgrading), not by a person
    extras: list[Callable[[Transaction], None]] = field(default_factory=list)  # other rooms' writes, in the head
    project_changes: dict[str, Any] = field(default_factory=dict)  # project fields to SET (a new version)
    force: bool = False  # complete tasks whose subtasks are still open
    budget_field: str = "body"
    after: dict[str, Task | None] = field(default_factory=dict)
    primary: list[str] = field(default_factory=list)
    removed_links: list[dict[str, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    audits: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    status_move: StatusMove | None = None
    checks: list[Callable[[Transaction], None]] = field(default_factory=list)  # e.g. assignees are active
    now: str = field(default_factory=now_iso)

    # ----- staging -----

    def stage(self, before: Task | None, after: Task | None) -> None:
        """A task the operation changes: created (before None), deleted (after None) or updated."""
        task_id = task_id_of(before, after)
        if task_id not in self.primary:
            self.primary.append(task_id)
        if before is not None:
            self.known.setdefault(task_id, before)
        self.after[task_id] = after

    def record(self, action: str, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        self.audits.append((action, entity_type, entity_id, changes))

    def written(self, task_id: str) -> Task:
        task = self.after.get(task_id)
        if task is None:
            raise KeyError(f"task {task_id} is not written by this plan")
        return task

    def current(self, task_id: str) -> Task:
        """The task as this plan leaves it so far (a copy of what was read, if untouched)."""
        if task_id not in self.after:
            if task_id not in self.known:
                raise RuntimeError(f"task {task_id} was not read before planning")  # a bug in the operation
            self.after[task_id] = self.known[task_id].copy()
        task = self.after[task_id]
        if task is None:
            raise RuntimeError(f"task {task_id} is deleted in this plan")
        return task

    # ----- consequences -----

    def finalize(self) -> None:
        for task_id in list(self.primary):
            self._follow(self.known.get(task_id), self.after[task_id])
        for task_id in self.primary:
            after = self.after[task_id]
            if after is not None:
                self._check_subtasks(after)
        day = today()
        for task_id, after in self.after.items():
            before = self.known.get(task_id)
            if after is not None:
                self._stamp(before, after)
            self.tally.add(before, after, day)
        self._status(day)
        if self.new_project:
            self._settle_new_project()
        self._collect_events()

    def _settle_new_project(self) -> None:
        """A project written whole carries its counters and first status from the start."""
        self.tally.apply(self.project)
        if self.status_move is not None:
            self.project.status, self.project.status_reason = self.status_move.after, self.status_move.reason
        self.project.set_index_keys()

    def _follow(self, before: Task | None, after: Task | None) -> None:
        """Parents' rollups, both ends of each dependency link, successors' copy of our due date."""
        for parent_id, delta in rollup_changes(work(before), work(after)).items():
            if parent_id in self.after and self.after[parent_id] is None:
                continue  # the parent goes too
            parent = self.current(parent_id)
            totals = rollup(parent) + delta
            parent.children_count, parent.children_done = totals.count, totals.done_count
            parent.children_weight, parent.children_done_weight = totals.weight, totals.done_weight
        old_preds = set(before.depends_on) if before is not None else set()
        new_preds = set(after.depends_on) if after is not None else set()
        task_id = task_id_of(before, after)
        for pred_id in old_preds - new_preds:
            if self.after.get(pred_id, self.known.get(pred_id)) is not None:
                pred = self.current(pred_id)
                pred.dependent_ids = [t for t in pred.dependent_ids if t != task_id]
        for pred_id in new_preds - old_preds:
            pred = self.current(pred_id)
            pred.dependent_ids = sorted({*pred.dependent_ids, task_id})
        if after is not None and new_preds != old_preds:
            after.predecessor_dues = {p: self.current(p).due_date for p in sorted(new_preds)}
        if after is not None and after.parent_id is not None:
            tail = self.after.get(after.parent_id) or self.known[after.parent_id]
            if after.position > (tail.subtask_tail or ""):
                self.current(after.parent_id).subtask_tail = after.position
        if before is None or (after is not None and after.due_date == before.due_date):
            return
        for successor_id in before.dependent_ids:
            if self.after.get(successor_id, self.known.get(successor_id)) is None:
                continue
            successor = self.current(successor_id)
            dues = dict(successor.predecessor_dues)
            if after is None:
                dues.pop(task_id, None)
                successor.depends_on = [p for p in successor.depends_on if p != task_id]
                self.removed_links.append({"task_id": successor_id, "depended_on": task_id})
            else:
                dues[task_id] = after.due_date
            successor.predecessor_dues = dues

    def _check_subtasks(self, task: Task) -> None:
        before = self.known.get(task.id)
        open_children = int(task.children_count) - int(task.children_done)
        if is_done(task) and not is_done(before) and open_children > 0 and not self.force:
            raise Conflict(f"task {task.id} has {open_children} incomplete subtasks; complete them first or send "
                           "force=true")

    def _stamp(self, before: Task | None, after: Task) -> None:
        after.revision = int(before.revision) + 1 if before is not None else 1
        after.updated_at = self.now
        if before is not None and client_fields(before) != client_fields(after):
            after.version = int(before.version) + 1
        if is_done(after) and not is_done(before):
            after.completed_at = self.now
        elif not is_done(after):
            after.completed_at = None
        redated = before is not None and any(getattr(before, name) != getattr(after, name) for name in DATE_FIELDS)
        if redated and after.template_key:
            after.dates_edited = not self.replan  # dates a template gives are its own again
        after.hidden = bool(self.project.provisioning)
        after.set_index_keys(indexed(self.project))

    def _status(self, day: date) -> None:
        """A new project's first status, or the auto status the change moves the board to."""
        project = self.project
        if not self.write_project:
            return
        if project.status_mode == AUTO:
            projected = self._changed_project()
            self.tally.apply(projected)
            status, reason = auto_status(board_facts(projected, day))
            changed_by = AUTO
        else:
            status, reason, changed_by = project.status, project.status_reason, self.principal.user_id
        before = "" if self.new_project else project.status
        if status != before:
            self.status_move = StatusMove(before, status, reason, changed_by)

    def _changed_project(self) -> Project:
        """A copy of the project with `project_changes` set (not its counters)."""
        changed = Project(self.project.PK, self.project.SK, **copy.deepcopy(self.project.attribute_values))
        for name, value in self.project_changes.items():
            setattr(changed, name, value)
        return changed

    def _collect_events(self) -> None:
        tenant = self.principal.tenant_id
        for task_id in self.primary:
            before, after = self.known.get(task_id), self.after[task_id]
            ids = {"task_id": task_id, "project_id": self.project.id, "customer_id": self.project.customer_id}
            if before is None and after is not None:
                self.events.append(new_event(tenant, "Task.Created", {
                    **ids, "status": after.status, "assignee_ids": after.assignee_ids}))
            elif after is None:
                self.events.append(new_event(tenant, "Task.Deleted", ids))
            elif before is not None and before.status != after.status:
                self.events.append(new_event(tenant, "Task.StatusChanged", {
                    **ids, "from": before.status, "to": after.status}))
            if after is not None and is_done(after) and not is_done(before):
                late = bool(after.due_date and after.due_date < self.now[:10])
                self.events.append(new_event(tenant, "Task.Completed", {
                    **ids, "completed_at": after.completed_at, "late": late}))
            if before is not None and after is not None:
                self.events += self._moved(before, after, ids)
        if self.status_move is not None and not self.new_project:
            self.events.append(project_status_event(self.project, self.status_move))

    def _moved(self, before: Task, after: Task, ids: dict[str, str]) -> list[Event]:
        """Task.Assigned / Task.DueDateChanged for an updated task whose assignees or due date moved."""
        tenant, moved = self.principal.tenant_id, []
        if list(before.assignee_ids) != list(after.assignee_ids):
            moved.append(new_event(tenant, "Task.Assigned", {
                **ids, "before": list(before.assignee_ids), "after": list(after.assignee_ids),
                "added": [u for u in after.assignee_ids if u not in before.assignee_ids],
                "removed": [u for u in before.assignee_ids if u not in after.assignee_ids]}))
        if before.due_date != after.due_date:
            moved.append(new_event(tenant, "Task.DueDateChanged", {
                **ids, "before": before.due_date, "after": after.due_date, "replanned": self.replan}))
        return moved

    # ----- writing -----

    def groups(self) -> list[Callable[[Transaction], None]]:
        """The writes in groups that stay together: the head first, then each task's."""
        return [self.head_writes, *(self.task_writes(task_id) for task_id in self.after)]

    def head_writes(self, tx: Transaction) -> None:
        """The project's writes, with the checks, the audit, a build's activity entry, and what
        other rooms add."""
        for check in self.checks:
            check(tx)
        if self.write_project:
            self._write_project(tx)
        for action, entity_type, entity_id, changes in self.audits:
            audit.record(tx, self.principal, action, entity_type, entity_id, changes)
        if self.build:
            tx.put(self._build_entry())
        for extra in self.extras:
            extra(tx)

    def task_writes(self, task_id: str) -> Callable[[Transaction], None]:
        """One task with its index entries and activity entry."""

        def write(tx: Transaction) -> None:
            before, after = self.known.get(task_id), self.after[task_id]
            self._write_task(tx, before, after)
            entry = self._activity(before, after) if task_id in self.primary and not self.build else None
            if entry is not None:
                tx.put(entry)

        return write

    def _assemble(self) -> Transaction:
        tx = Transaction()
        for group in self.groups():
            group(tx)
        tx.publish(*self.events)
        return tx

    def transaction(self) -> Transaction:
        tx = self._assemble()
        if len(tx) > MAX_TRANSACTION_ITEMS:
            raise validation_error(self.budget_field, f"this change needs {len(tx)} writes and one transaction holds "
                                   f"{MAX_TRANSACTION_ITEMS}; change fewer tasks at once")
        return tx

    def fits(self) -> bool:
        return len(self._assemble()) <= MAX_TRANSACTION_ITEMS

    def commit(self) -> None:
        self.transaction().commit()

    def _write_task(self, tx: Transaction, before: Task | None, after: Task | None) -> None:
        task_id = task_id_of(before, after)
        contended = contention(f"task {task_id}")
        if before is None and after is not None:
            tx.create(after, contended)
        elif after is None and before is not None:
            tx.delete(before, Task.revision == before.revision, contended)
        elif before is not None and after is not None:
            tx.put(after, Task.revision == before.revision, contended)
        listed = indexed(self.project)
        sync_derived(tx, assignments(before, listed), assignments(after, listed))

    def _activity(self, before: Task | None, after: Task | None) -> ActivityEntry | None:
        kinds, changes = activity_of(before, after)
        if not kinds:
            return None
        task_id, tenant, entry_id = task_id_of(before, after), self.project.tenant_id, new_id()
        return ActivityEntry(
            self.project.PK, f"{ActivityEntry.PREFIX}{entry_id}", type="ActivityEntry", tenant_id=tenant,
            id=entry_id, project_id=self.project.id, task_id=task_id, actor_id=self.principal.user_id,
            kinds=kinds, changes=changes, occurred_at=self.now,
            GSI1PK=ActivityEntry.task_pk(tenant, task_id), GSI1SK=entry_id,
        )

    def _build_entry(self) -> ActivityEntry:
        entry_id, created = new_id(), sum(task is not None for task in self.after.values())
        return ActivityEntry(
            self.project.PK, f"{ActivityEntry.PREFIX}{entry_id}", type="ActivityEntry",
            tenant_id=self.project.tenant_id, id=entry_id, project_id=self.project.id, task_id=None,
            actor_id=self.principal.user_id, kinds=["created"], changes={"task_count": {"from": 0, "to": created}},
            occurred_at=self.now,
        )

    def _write_project(self, tx: Transaction) -> None:
        project, move = self.project, self.status_move
        if self.new_project:
            tx.create(project, lambda: Conflict("project already exists"))
        else:
            actions = self.tally.actions(project)
            condition = Project.archived == False  # noqa: E712
            moved = self._changed_project()
            if self.project_changes:  # the project's own fields: a new version, as a PATCH makes
                actions += [getattr(Project, name).set(value) for name, value in self.project_changes.items()]
                actions += [Project.version.add(1), Project.updated_at.set(self.now)]
                condition &= Project.version == project.version
            if move is not None:
                moved.status = move.after
                actions += status_actions(project, moved, move.reason)
                condition &= Project.status == move.before
            else:
                actions += key_actions(project, moved)  # e.g. the due-date sort keys
            if actions:
                tx.update(project, actions, condition, contention(f"project {project.id}"))
        if move is not None:
            tx.put(history_entry(project, move, self.now))


def pack(groups: Iterable[Callable[[Transaction], None]]) -> list[Transaction]:
    """Groups of writes, in order, in as few transactions of at most 100 items as they fit."""
    batches = [Transaction()]
    for group in groups:
        measured = Transaction()
        group(measured)
        if len(batches[-1]) and len(batches[-1]) + len(measured) > MAX_TRANSACTION_ITEMS:
            batches.append(Transaction())
        group(batches[-1])
    return batches


def contention(what: str) -> Any:
    return lambda: Contended(f"{what} was changed by someone else meanwhile; retry")


def indexed(project: Project) -> bool:
    """Whether the project's tasks carry index keys: all but an archived project's (a project
    being provisioned hides its tasks by their `hidden` flag instead, see models)."""
    return not project.archived


def assignments(task: Task | None, live: bool) -> dict[str, TaskAssignment]:
    """The index entries for every assignee after the first, while the task is listed."""
    if task is None or not live:
        return {}
    entries = {}
    for user_id in task.assignee_ids[1:]:
        sort = TaskAssignment.sort(task.id, user_id)
        entries[sort] = TaskAssignment(
            task.PK, sort, type="TaskAssignment", tenant_id=task.tenant_id, task_id=task.id, user_id=user_id,
            GSI3PK=assignee_pk(task.tenant_id, user_id), GSI3SK=task.due_key(),
        )
    return entries


def activity_of(before: Task | None, after: Task | None) -> tuple[list[str], dict[str, Any]]:
    """What the activity log says about a change: its kinds and each field from → to."""
    old, new = client_fields(before), client_fields(after)
    changes = {name: {"from": old.get(name), "to": new.get(name)}
               for name in CLIENT_FIELDS if old.get(name) != new.get(name)}
    if before is None:
        return ["created"], changes
    if after is None:
        return ["deleted"], changes
    kinds = []
    if "status" in changes:
        kinds.append("status_changed")
        if is_done(after) != is_done(before):
            kinds.append("completed" if is_done(after) else "reopened")
    if "assignee_ids" in changes:
        kinds.append("assigned")
    if any(name in changes for name in DATE_FIELDS):
        kinds.append("dates_changed")
    if "position" in changes:
        kinds.append("moved")
    if set(changes) - {"status", "assignee_ids", "position", *DATE_FIELDS}:
        kinds.append("updated")
    return kinds, changes


# ---------- project status ----------


def key_actions(before: Project, after: Project) -> list[Action]:
    """SET (or REMOVE) the index keys that differ between two states of a project."""
    old, new = before.index_keys(), after.index_keys()
    return [getattr(Project, name).set(value) if value else getattr(Project, name).remove()
            for name, value in new.items() if value != old[name]]


def status_actions(before: Project, after: Project, reason: str | None) -> list[Action]:
    """SET the status and its reason, and the index keys a status moves."""
    return [Project.status.set(after.status), Project.status_reason.set(reason), *key_actions(before, after)]


def history_entry(project: Project, move: StatusMove, at: str) -> StatusHistoryEntry:
    entry_id = new_id()
    return StatusHistoryEntry(
        project.PK, f"{StatusHistoryEntry.PREFIX}{entry_id}", type="StatusHistoryEntry", tenant_id=project.tenant_id,
        id=entry_id, project_id=project.id, from_status=move.before or None, to_status=move.after,
        changed_by=move.changed_by, reason=move.reason, changed_at=at,
    )


def project_status_event(project: Project, move: StatusMove) -> Event:
    return new_event(project.tenant_id, "Project.StatusChanged", {
        "project_id": project.id, "customer_id": project.customer_id, "from": move.before or None,
        "to": move.after, "changed_by": move.changed_by, "reason": move.reason})
