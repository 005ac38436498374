"""The projection registry: how an event becomes a feed entry. Adding a kind to the timeline is
a few lines — a function registered for the event's declared type that returns the `Entry`
(or None: this event shows nothing), e.g.

    @projection(TaskCompleted)
    def task_completed(event: Event, data: TaskCompleted, look: Lookup) -> Entry:
        return entry(event, f"Task completed: {look.task_title(data.task_id)}",
                     customer_id=data.customer_id, project_id=data.project_id, task_id=data.task_id)

The feed consumer (consumers.py) takes every registered type; the daily counters, the placements
and the replay guard follow from the entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import NotFound
from chalicelib.core.events import Event, EventData

SHARED, INTERNAL = "shared", "internal"


@dataclass
class Entry:
    """One line of the feed, and everything its feeds and counters are keyed by."""

    id: str
    kind: str  # `interaction` or the event type
    occurred_at: str
    summary: str
    actor: dict[str, Any]
    visibility: str = INTERNAL
    system: bool = True
    etype: str = ""  # what `types=` matches: an interaction's type, else the kind
    customer_id: str | None = None
    project_id: str | None = None
    task_id: str | None = None
    ticket_id: str | None = None
    interaction_id: str | None = None
    contact_ids: list[str] = field(default_factory=list)
    assignee_ids: list[str] = field(default_factory=list)
    version: int = 1  # a later version of the same entry replaces it
    customer_facing: bool = False  # moves the customer's last customer touch
    removed: bool = False  # the entry leaves the feed

    def __post_init__(self) -> None:
        self.etype = self.etype or self.kind
        self.summary = " ".join(self.summary.split())[:300]

    @property
    def actor_id(self) -> str | None:
        return self.actor.get("id") if self.actor.get("type") == "user" else None


Projector = Callable[[Event, Any, "Lookup"], Entry | None]
PROJECTIONS: dict[str, tuple[type[EventData], Projector]] = {}


def projection(*models: type[EventData]) -> Callable[[Projector], Projector]:
    """Register the decorated function as the projection of these event types."""

    def register(function: Projector) -> Projector:
        for model in models:
            known = PROJECTIONS.get(model.TYPE)
            if known is not None and known[1].__qualname__ != function.__qualname__:
                raise ValueError(f"{model.TYPE} has two projections")
            PROJECTIONS[model.TYPE] = (model, function)
        return function

    return register


def entry(event: Event, summary: str, **fields: Any) -> Entry:
    """An event's entry: its id, type, instant and actor, with the summary and links given."""
    return Entry(id=event.id, kind=event.type, occurred_at=event.occurred_at, summary=summary,
                 actor=event.actor.model_dump(mode="json"), **fields)


def project(event: Event) -> Entry | None:
    registered = PROJECTIONS.get(event.type)
    if registered is None:
        return None
    model, function = registered
    return function(event, event.data_as(model), Lookup(event.tenant_id))


class Lookup:
    """What a projection reads of the rooms it projects, through their service functions (as the
    tenant's system reader: every record of the tenant; the feed applies the reader's reach)."""

    def __init__(self, tenant_id: str) -> None:
        self.reader = Principal(tenant_id=tenant_id, user_id="timeline", role="owner", email="")

    def _read(self, read: Callable[[Principal, str], Any], record_id: str | None) -> Any:
        if not record_id:
            return None
        try:
            return read(self.reader, record_id)
        except NotFound:
            return None

    def task(self, task_id: str | None) -> Any:
        return self._read(_work_tasks().get_task, task_id)

    def project(self, project_id: str | None) -> Any:
        return self._read(_work().get_project, project_id)

    def ticket(self, ticket_id: str | None) -> Any:
        return self._read(_tickets().get_ticket, ticket_id)

    def contact(self, contact_id: str | None) -> Any:
        return self._read(_customers().get_contact, contact_id)

    def task_title(self, task_id: str) -> str:
        task = self.task(task_id)
        return f"“{task.title}”" if task else "a task"

    def project_name(self, project_id: str) -> str:
        project = self.project(project_id)
        return f"“{project.name}”" if project else "a project"


# The rooms a projection reads, imported when first read (the work room reads the timeline's
# counters for the Gantt overlay: importing it here at load would be a cycle).
@cache
def _work() -> Any:
    from chalicelib.work import service

    return service


@cache
def _work_tasks() -> Any:
    from chalicelib.work import tasks

    return tasks


@cache
def _tickets() -> Any:
    from chalicelib.tickets import service

    return service


@cache
def _customers() -> Any:
    from chalicelib.customers import service

    return service
