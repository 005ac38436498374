"""Projects (boards), their tasks, and the items that index, log and count them.

A project's tasks live in the project's partition, so a board is a Query of one partition; the
project item holds the counters every task change ADDs in its own transaction (status counts,
weighted progress, open tasks per due date, weekly created/completed/overdue-at-close), so a
board's progress, status and weekly figures are read from one item.

| access pattern | index | key condition |
|---|---|---|
| project by id | table | PK = T#t#PROJECT#<id>, SK = PROJECT |
| project + its tasks (Kanban, Gantt, dependencies) | table | PK = T#t#PROJECT#<id>, SK between PROJECT and TASK$ |
| portfolio, by due date | GSI1 | GSI1PK = T#t#PROJECTS#<state>, GSI1SK = <due>#<id> |
| projects of an owner | GSI2 | GSI2PK = T#t#PROJECTS#<state>#OWNER#<user> |
| projects of a customer | GSI3 | GSI3PK = T#t#CUSTOMER#<customer>#PROJECTS#<state> |
| projects in a board status | GSI4 | GSI4PK = T#t#PROJECTS#<state>#STATUS#<status> |
| projects made from a template | GSI5 | GSI5PK = T#t#PROJECTS#<state>#TEMPLATE#<template> |
| a member's projects (contractor) | GSI1 on ProjectMember | GSI1PK = T#t#PROJECTS#MEMBER#<user>, then BatchGet |
| project status history, newest first | table | PK = T#t#PROJECT#<id>, SK begins_with HISTORY# |
| project activity, newest first | table | PK = T#t#PROJECT#<id>, SK begins_with ACT# |
| task by id (it starts with its project id) | table | BatchGet T#t#PROJECT#<id[:26]>: PROJECT, TASK#<id> |
| task activity, newest first | GSI1 on ActivityEntry | GSI1PK = T#t#TASK#<id>#ACTIVITY |
| all tasks, open first by due date (table view) | GSI1 | GSI1PK = T#t#TASKS, GSI1SK = <0 open / 1 done>#<due>#<id> |
| overdue tasks across all customers | GSI1 | GSI1PK = T#t#TASKS, GSI1SK between 0# and 0#<today> |
| tasks of a project by due date | GSI2 | GSI2PK = T#t#PROJECT#<id>#TASKS, same sort key |
| my tasks (first assignee), my overdue | GSI3 | GSI3PK = T#t#ASSIGNEE#<user>, same sort key (a range) |
| my tasks (other assignees) | GSI3 on TaskAssignment | GSI3PK = T#t#ASSIGNEE#<user>, then BatchGet |
| tasks of a customer | GSI4 | GSI4PK = T#t#CUSTOMER#<customer>#TASKS, same sort key |
| live auto-status boards of every tenant (daily job) | SYSDUE | SYSDUEPK = BOARDS#<shard> |

A project's index keys are set only while it is live: a project being provisioned (from a
template) or archived is in no list. An archived project's tasks leave the lists too. Tasks
written while their project is provisioned carry their index keys from the start, flagged
`hidden`: readers drop a hidden task unless its project is live (one BatchGet of the projects
a container has not yet seen shown), so the reveal is one write to the project item; the flag
goes with the task's next write.

A task's id starts with its project's id (`core.ids.child_id`), so a task is found from its
id alone: no lookup item, and the tasks of a build cost one item each.

Filters that are not keys. The table view reads the partition of its narrowest filter (assignee,
project, customer, else the tenant's) and the key range of its status and date filters;
`priority`, `tag`, `status_category` todo/doing and a second id filter are FilterExpressions
over that range, and a member's reach is checked in code. Such a filter may throw most of what
it reads away: no index per combination (five GSIs, already used by the partitions above; tags
are multi-valued), because every list page is bounded instead — at most 3 Queries reading ≤100
items each, then a short page with a cursor (core.pagination). A member's lists read one
partition per customer they reach, ≤3 per page. The portfolio's `owner_id`, `status`,
`template_id` past the first facet are FilterExpressions the same way, bounded the same way.
Sorts no index keeps (tasks by priority, projects by progress or risk) read the whole selection
into memory, refused (422 on `sort`) past 1,000 items or 3 Queries: narrow the filters.

Board and Gantt read the whole project partition (⌈items / 300⌉ Queries, a board's size) and
answer it in pages by size: descriptions (up to 10,000 characters) only with
`?include=description`, and as many tasks as keep the response under 5 MB as Lambda returns it
(core.pagination.page_within_bytes), the rest behind `next_cursor`.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)

from chalicelib.core.table import (
    GSI1,
    GSI2,
    GSI3,
    GSI4,
    GSI5,
    SystemDueIndex,
    TableItem,
    VersionedItem,
    tenant_key,
)

ACTIVE, ARCHIVED = "active", "archived"
NO_DUE_DATE = "9999-12-31"
OPEN, DONE = "0", "1"
TODO, DOING, DONE_CATEGORY = "todo", "doing", "done"
BLOCKED_STATUS = "blocked"
DEFAULT_STATUSES: tuple[dict[str, str], ...] = (
    {"name": "not_started", "category": TODO},
    {"name": "in_progress", "category": DOING},
    {"name": "waiting_on_customer", "category": DOING},
    {"name": "in_review", "category": DOING},
    {"name": BLOCKED_STATUS, "category": DOING},
    {"name": "complete", "category": DONE_CATEGORY},
)
# The fields a client sets on a task (its position is set by moving it).
TASK_FIELDS = (
    "title", "description", "status", "assignee_ids", "priority", "start_date", "due_date", "time_estimate",
    "time_unit", "weight", "parent_id", "depends_on", "is_milestone", "task_type", "tags", "portal_visible",
    "portal_status", "portal_start_date", "portal_due_date", "needs_approval", "portal_blocker",
)
REFRESH_SHARDS = 8
TASK_PREFIX = "TASK#"
BOARD_END = "TASK$"  # sorts after every TASK# key: the board Query's upper bound


def project_pk(tenant_id: str, project_id: str) -> str:
    return tenant_key(tenant_id, "PROJECT", project_id)


def projects_pk(tenant_id: str, state: str, *facet: str) -> str:
    return tenant_key(tenant_id, "PROJECTS", state, *facet)


def due_sort(due_date: str | None, item_id: str) -> str:
    return f"{due_date or NO_DUE_DATE}#{item_id}"


def task_sort(is_open: bool, due_date: str | None, task_id: str) -> str:
    """Open tasks first, each group by due date: overdue is the range 0# .. 0#<today>."""
    return f"{OPEN if is_open else DONE}#{due_sort(due_date, task_id)}"


def tasks_pk(tenant_id: str) -> str:
    return tenant_key(tenant_id, "TASKS")


def project_tasks_pk(tenant_id: str, project_id: str) -> str:
    return tenant_key(tenant_id, "PROJECT", project_id, "TASKS")


def assignee_pk(tenant_id: str, user_id: str) -> str:
    return tenant_key(tenant_id, "ASSIGNEE", user_id)


def customer_tasks_pk(tenant_id: str, customer_id: str) -> str:
    return tenant_key(tenant_id, "CUSTOMER", customer_id, "TASKS")


def customer_projects_pk(tenant_id: str, customer_id: str, state: str) -> str:
    return tenant_key(tenant_id, "CUSTOMER", customer_id, "PROJECTS", state)


def member_projects_pk(tenant_id: str, user_id: str) -> str:
    return tenant_key(tenant_id, "PROJECTS", "MEMBER", user_id)


def refresh_pk(shard: int) -> str:
    return f"BOARDS#{shard}"


def refresh_shard(project_id: str) -> int:
    return int(hashlib.sha256(project_id.encode()).hexdigest()[:8], 16) % REFRESH_SHARDS


def week_counter(week: str, counter: str) -> str:
    """The key of one weekly counter in the project's `weeks` map: `2026-W05:completed`."""
    return f"{week}:{counter}"


class Project(VersionedItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    owner_id = UnicodeAttribute(null=True)
    member_ids = ListAttribute(default=list)
    start_date = UnicodeAttribute(null=True)
    due_date = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    status_mode = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)
    template_version = NumberAttribute(null=True)
    anchor_source = UnicodeAttribute(null=True)  # contract_start | date, for a project made from a template
    anchor_date = UnicodeAttribute(null=True)
    portal_visible = BooleanAttribute(default=False)
    task_statuses = JSONAttribute()
    archived = BooleanAttribute(default=False)
    provisioning = BooleanAttribute(default=False)
    created_by = UnicodeAttribute()
    # Counters, changed only by ADD (or SET x = if_not_exists(x, 0) + n) in task transactions.
    task_count = NumberAttribute(default=0)
    done_count = NumberAttribute(default=0)
    weight_total = NumberAttribute(default=0)
    weight_done = NumberAttribute(default=0)  # micro-units, see progress.py
    counts = MapAttribute(default=dict)  # status → tasks
    open_due = MapAttribute(default=dict)  # due date → open tasks due that day
    weeks = MapAttribute(default=dict)  # "<ISO week>:<counter>" → n
    open_milestones = MapAttribute(default=dict)  # task id → {"title", "due_date"}
    column_tails = MapAttribute(default=dict)  # status → a rank at or below the column's last
    by_due = GSI1()
    by_owner = GSI2()
    by_customer = GSI3()
    by_status = GSI4()
    by_template = GSI5()
    to_refresh = SystemDueIndex()

    SORT = "PROJECT"

    @property
    def live(self) -> bool:
        return not (self.archived or self.provisioning)

    def state(self) -> str:
        return ARCHIVED if self.archived else ACTIVE

    def category_of(self, status: str) -> str | None:
        return next((s["category"] for s in self.task_statuses if s["name"] == status), None)

    def index_keys(self) -> dict[str, str | None]:
        """Every GSI key from the fields (all None while provisioning): builders live here."""
        tenant, state, sort = self.tenant_id, self.state(), due_sort(self.due_date, self.id)
        partitions = {
            "GSI1": projects_pk(tenant, state),
            "GSI2": projects_pk(tenant, state, "OWNER", self.owner_id) if self.owner_id else None,
            "GSI3": customer_projects_pk(tenant, self.customer_id, state),
            "GSI4": projects_pk(tenant, state, "STATUS", self.status),
            "GSI5": projects_pk(tenant, state, "TEMPLATE", self.template_id) if self.template_id else None,
        }
        keys: dict[str, str | None] = {}
        for index, partition in partitions.items():
            indexed = partition is not None and not self.provisioning
            keys[f"{index}PK"], keys[f"{index}SK"] = (partition, sort) if indexed else (None, None)
        refreshed = self.live and self.status_mode == "auto" and self.status != "complete"
        keys["SYSDUEPK"], keys["SYSDUESK"] = (
            (refresh_pk(refresh_shard(self.id)), f"T#{tenant}#{self.id}") if refreshed else (None, None))
        return keys

    def set_index_keys(self) -> None:
        for name, value in self.index_keys().items():
            setattr(self, name, value)


class ProjectMember(TableItem):
    """One per owner and member of a live project: a contractor's projects are one Query."""

    project_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    by_user = GSI1()

    @staticmethod
    def sort(user_id: str) -> str:
        return f"MEMBER#{user_id}"


class StatusHistoryEntry(TableItem):
    id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute()
    changed_by = UnicodeAttribute()  # a user id, or "auto"
    reason = UnicodeAttribute(null=True)
    changed_at = UnicodeAttribute()

    PREFIX = "HISTORY#"


class Task(VersionedItem):
    id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    status_category = UnicodeAttribute()
    assignee_ids = ListAttribute(default=list)
    priority = UnicodeAttribute(default="normal")
    start_date = UnicodeAttribute(null=True)
    due_date = UnicodeAttribute(null=True)
    time_estimate = NumberAttribute(null=True)
    time_unit = UnicodeAttribute(null=True)
    weight = NumberAttribute(default=1)
    parent_id = UnicodeAttribute(null=True)
    depends_on = ListAttribute(default=list)
    dependent_ids = ListAttribute(default=list)
    predecessor_dues = JSONAttribute(default=dict)  # predecessor id → its due date (or None)
    is_milestone = BooleanAttribute(default=False)
    task_type = UnicodeAttribute(null=True)
    tags = ListAttribute(default=list)
    position = UnicodeAttribute()
    portal_visible = BooleanAttribute(default=False)
    portal_status = UnicodeAttribute(null=True)
    portal_start_date = UnicodeAttribute(null=True)
    portal_due_date = UnicodeAttribute(null=True)
    needs_approval = BooleanAttribute(default=False)  # a milestone the customer approves in the portal
    portal_blocker = UnicodeAttribute(null=True)  # a blocker the team chose to share with the customer
    approval = JSONAttribute(null=True)  # the customer's last decision: {"state", "comment", "by", "at", "event_id"}
    completed_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    children_count = NumberAttribute(default=0)
    children_done = NumberAttribute(default=0)
    children_weight = NumberAttribute(default=0)
    children_done_weight = NumberAttribute(default=0)
    subtask_tail = UnicodeAttribute(null=True)
    hidden = BooleanAttribute(default=False)  # written while its project was provisioned (see above)
    template_key = UnicodeAttribute(null=True)  # the template task it was made from
    dates_edited = BooleanAttribute(default=False)  # a person changed the dates its template Day gave it
    revision = NumberAttribute(default=1)  # every write; `version` moves only with what a client changes
    all_tasks = GSI1()
    by_project = GSI2()
    by_assignee = GSI3()
    by_customer = GSI4()

    @staticmethod
    def sort_key(task_id: str) -> str:
        return f"{TASK_PREFIX}{task_id}"

    @property
    def is_open(self) -> bool:
        return self.status_category != DONE_CATEGORY

    def due_key(self) -> str:
        return task_sort(self.is_open, self.due_date, self.id)

    def index_keys(self, live: bool) -> dict[str, str | None]:
        tenant, sort = self.tenant_id, self.due_key()
        lead = self.assignee_ids[0] if self.assignee_ids else None
        partitions = {
            "GSI1": tasks_pk(tenant),
            "GSI2": project_tasks_pk(tenant, self.project_id),
            "GSI3": assignee_pk(tenant, lead) if lead else None,
            "GSI4": customer_tasks_pk(tenant, self.customer_id),
        }
        keys: dict[str, str | None] = {}
        for index, partition in partitions.items():
            keys[f"{index}PK"], keys[f"{index}SK"] = (partition, sort) if live and partition else (None, None)
        return keys

    def set_index_keys(self, live: bool) -> None:
        for name, value in self.index_keys(live).items():
            setattr(self, name, value)

    def copy(self, **changes: Any) -> Task:
        """An independent copy (lists and maps too), with `changes` applied."""
        return Task(self.PK, self.SK, **{**copy.deepcopy(self.attribute_values), **changes})


class TaskAssignment(TableItem):
    """One per assignee after the first (the first is on the task's own GSI3 key), so "my
    tasks" is one Query for every assignee of a multi-assignee task."""

    task_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    by_assignee = GSI3()

    @staticmethod
    def sort(task_id: str, user_id: str) -> str:
        return f"ASSIGNEE#{task_id}#{user_id}"


class ActivityEntry(TableItem):
    """A task's change, or (task_id None, in no task's activity) a project built with its tasks."""

    id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    task_id = UnicodeAttribute(null=True)
    actor_id = UnicodeAttribute()
    kinds = ListAttribute()  # created, status_changed, completed, reopened, assigned, dates_changed, updated, deleted
    changes = JSONAttribute()  # field → {"from", "to"}
    occurred_at = UnicodeAttribute()
    by_task = GSI1()

    PREFIX = "ACT#"

    @staticmethod
    def task_pk(tenant_id: str, task_id: str) -> str:
        return tenant_key(tenant_id, "TASK", task_id, "ACTIVITY")
