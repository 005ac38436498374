"""Events the templates room publishes (source `bluehill.templates`), each declared once."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel

from chalicelib.core.events import EventData

SOURCE = "bluehill.templates"


class TemplateCreated(EventData):
    """A template was created (by a person or from the library)."""

    TYPE: ClassVar[str] = "Template.Created"
    SOURCE: ClassVar[str] = SOURCE
    template_id: str
    template_version: int


class TemplateUpdated(EventData):
    """A template changed; a change to its definition made a new template version."""

    TYPE: ClassVar[str] = "Template.Updated"
    SOURCE: ClassVar[str] = SOURCE
    template_id: str
    template_version: int
    changes: list[str]


class TemplateArchived(EventData):
    """A template was archived."""

    TYPE: ClassVar[str] = "Template.Archived"
    SOURCE: ClassVar[str] = SOURCE
    template_id: str


class AppliedAnchor(BaseModel):
    source: Literal["contract_start", "date"]
    date: str


class TemplateApplied(EventData):
    """A template was applied to a customer: the project it made is shown."""

    TYPE: ClassVar[str] = "Template.Applied"
    SOURCE: ClassVar[str] = SOURCE
    template_id: str
    template_version: int
    project_id: str
    customer_id: str
    anchor: AppliedAnchor


class ProjectReanchored(EventData):
    """A template-made project's dates moved to a new anchor date."""

    TYPE: ClassVar[str] = "Project.Reanchored"
    SOURCE: ClassVar[str] = SOURCE
    project_id: str
    anchor_date: str
    moved: int


class ProjectTemplateUpgraded(EventData):
    """A template-made project was upgraded to a newer version of its template."""

    TYPE: ClassVar[str] = "Project.TemplateUpgraded"
    SOURCE: ClassVar[str] = SOURCE
    project_id: str
    template_id: str
    template_version: int
