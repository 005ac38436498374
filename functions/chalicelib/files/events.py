"""Events the files room publishes (source `bluehill.files`), each declared once. The timeline
projects File.Uploaded (every source: upload, mail attachment, link) onto the customer's feed."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class _Published(EventData):
    SOURCE: ClassVar[str] = "bluehill.files"


class _FileFacts(_Published):
    file_id: str
    customer_id: str
    project_id: str | None = None
    task_id: str | None = None
    ticket_id: str | None = None
    filename: str
    content_type: str | None = None
    size: int | None = None
    portal_visible: bool
    source: str  # upload | mail | link


class FileUploaded(_FileFacts):
    """A file became available on the customer record: an upload whose bytes passed the size and
    content checks, a mail attachment, or a linked external document (`source`). A virus-scan
    consumer hooks in here (see files/scanning.py)."""

    TYPE: ClassVar[str] = "File.Uploaded"
    url: str | None = None


class FileRejected(_FileFacts):
    """An upload (or a mail attachment) failed the checks: its real size differs from the
    declared one, or its leading bytes are not of its declared type (an executable, say)."""

    TYPE: ClassVar[str] = "File.Rejected"
    reason: str


class FileUpdated(_Published):
    """A file's portal visibility, links or description changed (before/after of each)."""

    TYPE: ClassVar[str] = "File.Updated"
    file_id: str
    customer_id: str
    changes: dict[str, dict[str, object]]


class FileDeleted(_Published):
    """A file was deleted (its bytes are removed by the bucket's lifecycle rule later)."""

    TYPE: ClassVar[str] = "File.Deleted"
    file_id: str
    customer_id: str
