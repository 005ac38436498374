"""Events the work room publishes (source `bluehill.work`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from chalicelib.core.events import Change, EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.work"


class _ProjectEvent(_Published):
    project_id: str
    customer_id: str


class ProjectCreated(_ProjectEvent):
    """A project was created (shown, with all of its tasks)."""

    TYPE: ClassVar[str] = "Project.Created"
    template_id: str | None = None
    task_count: int


class ProjectUpdated(_ProjectEvent):
    """A project's fields changed (before/after per field)."""

    TYPE: ClassVar[str] = "Project.Updated"
    version: int
    changes: dict[str, Change]


class ProjectArchived(_ProjectEvent):
    """A project was archived."""

    TYPE: ClassVar[str] = "Project.Archived"
    version: int


class ProjectStatusChanged(_ProjectEvent):
    """A project's status moved (by a person, or `changed_by: auto` for a computed status)."""

    TYPE: ClassVar[str] = "Project.StatusChanged"
    from_: str | None = Field(alias="from")
    to: str
    changed_by: str
    reason: str | None = None


class _TaskEvent(_Published):
    task_id: str
    project_id: str
    customer_id: str


class TaskCreated(_TaskEvent):
    """A task was created."""

    TYPE: ClassVar[str] = "Task.Created"
    status: str
    assignee_ids: list[str]


class TaskDeleted(_TaskEvent):
    """A task was deleted."""

    TYPE: ClassVar[str] = "Task.Deleted"


class TaskStatusChanged(_TaskEvent):
    """A task's status moved."""

    TYPE: ClassVar[str] = "Task.StatusChanged"
    from_: str = Field(alias="from")
    to: str


class TaskCompleted(_TaskEvent):
    """A task reached a done status; `late` when after its due date."""

    TYPE: ClassVar[str] = "Task.Completed"
    completed_at: str
    late: bool


class TaskAssigned(_TaskEvent):
    """A task's assignees changed (the whole list before and after, and who came and went)."""

    TYPE: ClassVar[str] = "Task.Assigned"
    before: list[str]
    after: list[str]
    added: list[str]
    removed: list[str]


class TaskDueDateChanged(_TaskEvent):
    """A task's due date moved (None: no due date); `replanned` when a re-plan (re-anchoring,
    a template upgrade) moved it rather than a person."""

    TYPE: ClassVar[str] = "Task.DueDateChanged"
    before: str | None = None
    after: str | None = None
    replanned: bool = False
