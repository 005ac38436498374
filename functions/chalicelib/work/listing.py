"""The Table view (`GET /tasks`) and the list helpers the portfolio shares.

Each request picks the narrowest partition its filters name — the assignee's, the project's,
the customer's, else the tenant's — and reads only the sort-key range its status and date
filters allow: open tasks sort first by due date, so "overdue" is the key range
`0#` .. `0#<today>` and reads only overdue tasks. The remaining filters are conditions on what
that range holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.core.auth import Principal
from chalicelib.core.pagination import Page, PageReader, read_page, sorted_source
from chalicelib.core.permissions import Reach, require
from chalicelib.core.table import query_reader

from . import access
from .ledger import today
from .models import (
    DONE,
    NO_DUE_DATE,
    OPEN,
    Task,
    TaskAssignment,
    assignee_pk,
    customer_tasks_pk,
    project_tasks_pk,
    tasks_pk,
)

PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
LAST_DUE = "9999-12-30"  # the upper end of a due-date filter: tasks without a due date fall outside


# ---------- the table view ----------


def _ranges(filters: dict[str, Any], day: date) -> list[tuple[str, str]]:
    """Sort-key ranges (inclusive) for the status-category and due-date filters, open first."""
    category, low = filters.get("status_category"), filters.get("due_after") or ""
    high = filters.get("due_before") or (LAST_DUE if low else NO_DUE_DATE)
    if filters.get("overdue"):
        # Overdue means open and due before today; `0#<today>` sorts before any key due today.
        return [(f"{OPEN}#{low}", min(f"{OPEN}#{high}$", f"{OPEN}#{day.isoformat()}"))]
    groups = [OPEN] if category in ("todo", "doing") else [DONE] if category == "done" else [OPEN, DONE]
    return [(f"{group}#{low}", f"{group}#{high}$") for group in groups]


def _conditions(filters: dict[str, Any], partition: str) -> Condition | None:
    terms: list[Condition] = []
    if filters.get("status_category") in ("todo", "doing"):
        terms.append(Task.status_category == filters["status_category"])
    if filters.get("priority"):
        terms.append(Task.priority == filters["priority"])
    if filters.get("tag"):
        terms.append(Task.tags.contains(filters["tag"]))
    for name in ("project_id", "customer_id"):
        if filters.get(name) and name != partition:
            terms.append(getattr(Task, name) == filters[name])
    condition: Condition | None = None
    for term in terms:
        condition = term if condition is None else condition & term
    if condition is not None and partition == "assignee_id":
        # Assignment entries hold no task fields: they pass, and are checked once resolved.
        condition = (Task.type == "TaskAssignment") | condition
    return condition


def _matches(task: Task, filters: dict[str, Any], day: date) -> bool:
    checks = {
        "project_id": lambda v: task.project_id == v,
        "customer_id": lambda v: task.customer_id == v,
        "assignee_id": lambda v: v in task.assignee_ids,
        "priority": lambda v: task.priority == v,
        "tag": lambda v: v in task.tags,
        "status_category": lambda v: task.status_category == v,
        "overdue": lambda v: not v or bool(task.is_open and task.due_date and task.due_date < day.isoformat()),
        "due_after": lambda v: bool(task.due_date and task.due_date >= v),
        "due_before": lambda v: bool(task.due_date and task.due_date <= v),
    }
    return all(checks[name](value) for name, value in filters.items() if value not in (None, False) and name in checks)


def _resolve(found: list[Task | TaskAssignment]) -> list[Task | None]:
    """Assignment entries resolved to their tasks (one BatchGet), less what is still being
    provisioned; aligned with what the Query found."""
    entries = [item for item in found if isinstance(item, TaskAssignment)]
    resolved: dict[str, Task] = {}
    if entries:
        keys = ((entry.PK, Task.sort_key(entry.task_id)) for entry in entries)
        resolved = {task.id: task for task in access.read_keys(keys) if isinstance(task, Task)}
    tasks = [resolved.get(item.task_id) if isinstance(item, TaskAssignment) else item for item in found]
    listed = {id(task) for task in access.shown([task for task in tasks if task is not None])}
    return [task if task is not None and id(task) in listed else None for task in tasks]


def _reader(index: Any, partition_key: str, key_range: tuple[str, str], condition: Condition | None,
            keep: Callable[[Task], bool] | None) -> PageReader[Task]:
    """One Query page of an index range; assignment entries are resolved to their tasks, and
    what the caller may not see (or the filters exclude) is dropped."""
    sort_key = getattr(Task, f"{index.Meta.index_name}SK")
    return query_reader(index, partition_key, sort_key.between(*key_range), condition,
                        models=[Task, TaskAssignment], resolve=_resolve, keep=keep)


def _partitions(principal: Principal, reach: Reach, filters: dict[str, Any]) -> tuple[str, Any, list[str]]:
    """(the filter that picked it, index, partition keys) for the narrowest partition."""
    tenant = principal.tenant_id
    if reach is Reach.ASSIGNED:
        return "assignee_id", Task.by_assignee, [assignee_pk(tenant, principal.user_id)]
    if filters.get("assignee_id"):
        return "assignee_id", Task.by_assignee, [assignee_pk(tenant, filters["assignee_id"])]
    if filters.get("project_id"):
        return "project_id", Task.by_project, [project_tasks_pk(tenant, filters["project_id"])]
    if filters.get("customer_id"):
        return "customer_id", Task.by_customer, [customer_tasks_pk(tenant, filters["customer_id"])]
    if reach is Reach.OWNED:
        customers = access.reachable_customer_ids(principal)
        return "customer_id", Task.by_customer, [customer_tasks_pk(tenant, c) for c in customers]
    return "all", Task.all_tasks, [tasks_pk(tenant)]


def assigned_in(principal: Principal, project_id: str) -> PageReader[Task]:
    """The caller's tasks in one project: their assignee partition, filtered to the project."""
    condition = _conditions({"project_id": project_id}, "assignee_id")
    key_range = (f"{OPEN}#", f"{DONE}#~")
    return _reader(Task.by_assignee, assignee_pk(principal.tenant_id, principal.user_id), key_range, condition,
                   lambda task: task.project_id == project_id and principal.user_id in task.assignee_ids)


def list_tasks(principal: Principal, filters: dict[str, Any], limit: int, cursor: str | None) -> Page[Task]:
    reach = require(principal, "tasks:read")
    filters = dict(filters)
    if filters.get("assignee_id") == "me":
        filters["assignee_id"] = principal.user_id
    day = today()
    partition, index, partition_keys = _partitions(principal, reach, filters)
    reachable: set[str] | None = None

    def visible(task: Task) -> bool:
        nonlocal reachable
        if not _matches(task, filters, day):
            return False
        if reach is not Reach.OWNED or principal.user_id in task.assignee_ids:
            return reach is not Reach.ASSIGNED or principal.user_id in task.assignee_ids
        if reachable is None:
            reachable = set(access.reachable_customer_ids(principal))
        return task.customer_id in reachable

    condition = _conditions(filters, partition)
    # `visible` drops only what a filter or the caller's reach excludes: without either, a page
    # reads no more than it returns.
    keep = visible if condition is not None or reach is not Reach.ALL else None
    sources = [_reader(index, key, key_range, condition, keep)
               for key in partition_keys for key_range in _ranges(filters, day)]
    sort = filters.get("sort") or "due_date"
    if sort == "priority":
        sources = [sorted_source(sources, lambda task: (PRIORITY_ORDER.get(task.priority, 9), task.due_key()))]
    return read_page(sources, limit, cursor)
