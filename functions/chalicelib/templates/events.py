"""Events the templates room publishes (source `bluehill.templates`), each declared once."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.templates"


class TemplateCreated(_Published):
    """A template was created (by a person or from the library)."""

    TYPE: ClassVar[str] = "Template.Created"
    template_id: str
    template_version: int


class TemplateUpdated(_Published):
    """A template changed; a change to its definition made a new template version."""

    TYPE: ClassVar[str] = "Template.Updated"
    template_id: str
    template_version: int
    changes: list[str]


class TemplateArchived(_Published):
    """A template was archived."""

    TYPE: ClassVar[str] = "Template.Archived"
    template_id: str


class AppliedAnchor(BaseModel):
    source: Literal["contract_start", "first_portal_login", "date"]
    date: str


class TemplateApplied(_Published):
    """A template was applied to a customer: the project it made is shown."""

    TYPE: ClassVar[str] = "Template.Applied"
    template_id: str
    template_version: int
    project_id: str
    customer_id: str
    anchor: AppliedAnchor


class ProjectReanchored(_Published):
    """A template-made project's dates moved to a new anchor date."""

    TYPE: ClassVar[str] = "Project.Reanchored"
    project_id: str
    anchor_date: str
    moved: int


class ProjectTemplateUpgraded(_Published):
    """A template-made project was upgraded to a newer version of its template."""

    TYPE: ClassVar[str] = "Project.TemplateUpgraded"
    project_id: str
    template_id: str
    template_version: int
