"""Request and response bodies of the projects and tasks routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from chalicelib.core.models import (
    Id,
    ListQuery,
    LongText,
    Measure,
    Name,
    Out,
    ShortText,
    Strict,
    Tag,
    Version,
    ordered_range,
)

StatusName = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
Category = Literal["todo", "doing", "done"]
BoardStatus = Literal["on_track", "at_risk", "delayed", "ahead", "on_hold", "complete"]
StatusMode = Literal["auto", "manual"]
Priority = Literal["low", "normal", "high", "urgent"]
TimeUnit = Literal["hour", "day"]
MAX_BULK = 40


def _unique(values: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if values.get(name) is not None:
            values[name] = list(dict.fromkeys(values[name]))
    return values


# ---------- projects ----------


class TaskStatus(Strict):
    name: StatusName
    category: Category


class ProjectFields(Strict):
    owner_id: Id | None = None
    member_ids: list[Id] = Field(None, max_length=50)
    start_date: date | None = None
    due_date: date | None = None
    status_mode: StatusMode = Field(None, description="auto: computed from the tasks; manual: set with a reason")
    status: BoardStatus = Field(None, description="only in manual mode")
    status_reason: ShortText | None = Field(None, description="required with a status set by hand")
    portal_visible: bool = Field(None)
    task_statuses: list[TaskStatus] = Field(None, min_length=2, max_length=20,
                                            description="the Kanban columns, in order")

    def changes(self) -> dict[str, Any]:
        return _unique(self.model_dump(mode="json", exclude_unset=True, exclude={"version"}), "member_ids")


class CreateProject(ProjectFields):
    name: Name

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"name": "Initech onboarding", "start_date": "2026-03-02", "due_date": "2026-04-24"}]}}


class UpdateProject(ProjectFields):
    version: Version = Field(None, description="the version you read; or send If-Match")
    name: Name = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"version": 1, "status_mode": "manual", "status": "on_hold", "status_reason": "customer paused"}]}}


class Milestone(Out):
    task_id: str
    title: str
    due_date: str | None = None


class WeekCounts(Out):
    created: int
    completed: int
    overdue_at_close: int


class ProjectAnchor(Out):
    source: Literal["contract_start", "first_portal_login", "date"]
    date: str


class ProjectOut(Out):
    id: str
    name: str
    customer_id: str
    owner_id: str | None = None
    member_ids: list[str]
    start_date: str | None = None
    due_date: str | None = None
    status: BoardStatus
    status_mode: StatusMode
    status_reason: str | None = None
    template_id: str | None = None
    portal_visible: bool
    task_statuses: list[TaskStatus]
    progress: float = Field(description="weighted % done")
    counts: dict[str, int] = Field(description="tasks per status")
    task_count: int
    done_count: int
    overdue_count: int
    next_milestone: Milestone | None = None
    this_week: WeekCounts
    last_week: WeekCounts
    archived: bool
    template_version: int | None = Field(None, description="the template version it was made from (or upgraded to)")
    anchor: ProjectAnchor | None = Field(None, description="the date its template Days count from")
    version: int
    created_by: str
    created_at: str
    updated_at: str


class ProjectListQuery(ListQuery):
    status: BoardStatus | None = None
    owner_id: Id | None = None
    template_id: Id | None = None
    due_after: date | None = None
    due_before: date | None = None
    sort: Literal["due_date", "progress", "risk"] = "due_date"
    include_archived: bool = False

    _due_range = ordered_range("due_after", "due_before", checked="due_before")


class PortfolioQuery(ProjectListQuery):
    customer_id: Id | None = None


class StatusHistoryOut(Out):
    id: str
    project_id: str
    from_status: str | None = None
    to_status: str
    changed_by: str = Field(description="a user id, or auto")
    reason: str | None = None
    changed_at: str


class ActivityOut(Out):
    id: str
    project_id: str
    task_id: str | None = Field(None, description="none for a project created with its tasks")
    actor_id: str
    kinds: list[str]
    changes: dict[str, Any] = Field(description="field → {from, to}")
    occurred_at: str


# ---------- tasks ----------


class TaskFields(Strict):
    description: LongText | None = None
    status: StatusName = Field(None, description="one of the project's statuses; default its first")
    assignee_ids: list[Id] = Field(None, max_length=10)
    priority: Priority = Field(None)
    start_date: date | None = None
    due_date: date | None = None
    time_estimate: Measure | None = Field(None, ge=0, le=100_000)
    time_unit: TimeUnit | None = None
    weight: int = Field(None, ge=0, le=1000)
    parent_id: Id | None = None
    depends_on: list[Id] = Field(None, max_length=50)
    is_milestone: bool = Field(None)
    task_type: Tag | None = None
    tags: list[Tag] = Field(None, max_length=20)
    portal_visible: bool = Field(None)
    portal_status: StatusName | None = None
    portal_start_date: date | None = None
    portal_due_date: date | None = None
    needs_approval: bool = Field(None, description="a milestone the customer approves in the portal")
    portal_blocker: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        None, description="a blocker shared with the customer in the portal")

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(mode="json", exclude_unset=True, exclude={"version", "force"})
        return _unique(values, "assignee_ids", "depends_on", "tags")


class CreateTask(TaskFields):
    title: Name

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"title": "Kickoff call", "due_date": "2026-03-04", "priority": "high", "weight": 2}]}}


class UpdateTask(TaskFields):
    version: Version = Field(None, description="the version you read; or send If-Match")
    title: Name = Field(None)
    force: bool = Field(False, description="complete even with open subtasks")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"version": 1, "status": "in_progress", "due_date": "2026-03-06"}]}}


class MoveTask(Strict):
    status: StatusName | None = None
    after_id: Id | None = Field(None, description="the task that will be directly above (none: the top)")
    before_id: Id | None = Field(None, description="the task that will be directly below (none: the bottom)")
    version: Version | None = None
    force: bool = False

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"status": "in_progress"}]}}

    @model_validator(mode="after")
    def _moves_something(self) -> MoveTask:
        if not (self.status or self.after_id or self.before_id):
            raise ValueError("send a status and/or a neighbour (after_id, before_id)")
        return self


class BulkChange(Strict):
    task_id: Id
    version: Version | None = None
    status: StatusName = Field(None)
    assignee_ids: list[Id] = Field(None, max_length=10)
    start_date: date | None = None
    due_date: date | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> BulkChange:
        if not self.model_fields_set - {"task_id", "version"}:
            raise ValueError("change at least one of status, assignee_ids, start_date, due_date")
        return self


class BulkUpdate(Strict):
    updates: list[BulkChange] = Field(min_length=1, max_length=MAX_BULK)
    force: bool = False

    @field_validator("updates")
    @classmethod
    def _each_task_once(cls, updates: list[BulkChange]) -> list[BulkChange]:
        ids = [update.task_id for update in updates]
        if len(set(ids)) != len(ids):
            raise ValueError("each task may appear once")
        return updates

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"updates": [{"task_id": "01j0000000000000000000000a", "status": "complete"}]}]}}


class TaskOut(Out):
    id: str
    project_id: str
    customer_id: str
    title: str
    description: str | None = None
    status: str
    status_category: Category
    assignee_ids: list[str]
    priority: Priority
    start_date: str | None = None
    due_date: str | None = None
    time_estimate: float | None = None
    time_unit: TimeUnit | None = None
    weight: int
    parent_id: str | None = None
    depends_on: list[str]
    is_milestone: bool
    task_type: str | None = None
    tags: list[str]
    position: str
    portal_visible: bool
    portal_status: str | None = None
    portal_start_date: str | None = None
    portal_due_date: str | None = None
    needs_approval: bool = False
    portal_blocker: str | None = None
    approval: dict[str, Any] | None = Field(None, description="the customer's last decision in the portal: "
                                                              "state approved | changes_requested, comment, by, at")
    completed_at: str | None = None
    progress: float
    subtask_count: int
    subtasks_done: int
    dependency_conflict: bool = Field(description="starts before a predecessor is due")
    overdue: bool
    template_key: str | None = Field(None, description="the template task it was made from")
    dates_edited: bool = Field(False, description="a person changed the dates its template Day gave it")
    version: int
    created_by: str
    created_at: str
    updated_at: str


TaskSort = Literal["due_date", "priority"]


class TaskFilters(Strict):
    """What the table view filters on; saved views keep the same filters."""

    assignee_id: Id | None = Field(None, description="a user id, or me")
    customer_id: Id | None = None
    project_id: Id | None = None
    status_category: Category | None = None
    priority: Priority | None = None
    due_before: date | None = None
    due_after: date | None = None
    overdue: bool = False
    tag: Tag | None = None

    _due_range = ordered_range("due_after", "due_before", checked="due_after")


class TaskQuery(ListQuery, TaskFilters):
    sort: TaskSort = "due_date"


class RemovedLink(Out):
    task_id: str
    depended_on: str


class DeletedTaskOut(Out):
    id: str
    removed_dependencies: list[RemovedLink] = Field(description="links other tasks had on this one, now gone")


class CardOut(TaskOut):
    """A task on the board or the Gantt: `description` is there only when asked for
    (`?include=description`)."""

    @model_serializer(mode="wrap")
    def _description_when_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        shaped = handler(self)
        if "description" not in self.model_fields_set:
            shaped.pop("description", None)
        return shaped


class ColumnOut(Out):
    name: str
    category: Category
    count: int = Field(description="every top-level task in the column, on this page or not")
    tasks: list[CardOut]


class BoardQuery(Strict):
    include: Literal["description"] | None = Field(None, description="also send each task's description")
    cursor: str | None = Field(None, max_length=2048)


class GanttQuery(BoardQuery):
    overlay: Literal["activity"] | None = Field(None, description="activity: per-bucket interaction and "
                                                "status-change counts (from the timeline's daily counters)")
    bucket: Literal["day", "week", "month"] = Field("week", description="the overlay's buckets")


class ActivityBucket(Out):
    start: str
    interactions: int
    status_changes: int


PAGED_BY_SIZE = ("the tasks of one response stay under Lambda's 6 MB; `next_cursor` (null but for boards of "
                 "thousands of tasks, or with descriptions) continues them")


class BoardOut(Out):
    project: ProjectOut
    columns: list[ColumnOut]
    next_cursor: str | None = Field(None, description=PAGED_BY_SIZE)


class Edge(Out):
    predecessor_id: str
    successor_id: str = Field(description="starts after the predecessor is due (finish-to-start)")


class CriticalPath(Out):
    task_ids: list[str]
    duration_days: float


class GanttOut(Out):
    project: ProjectOut
    tasks: list[CardOut]
    dependencies: list[Edge] = Field(description="the links into this page's tasks")
    conflicts: list[str] = Field(description="this page's tasks that start before a predecessor is due")
    critical_path: CriticalPath = Field(description="over the whole project")
    next_cursor: str | None = Field(None, description=PAGED_BY_SIZE)
    activity: list[ActivityBucket] | None = Field(None, description="with overlay=activity: from the project's "
                                                  "start (or creation) to its due date or today, whichever is later")


class TasksOut(Out):
    items: list[TaskOut]
