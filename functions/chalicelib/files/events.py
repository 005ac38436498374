"""Events the files room publishes (source `bluehill.files`), each declared once. The timeline
projects File.Uploaded (every source: upload, mail attachment, link) onto the customer's feed,
and keeps that entry in step with File.Updated (its name, links, portal visibility) and
File.Deleted (it leaves the feed): each carries the file's `version`, so a late copy of an older
change never undoes a newer one."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData

from .models import AVAILABLE


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
    status: str = AVAILABLE  # pending | available | rejected
    added_at: str | None = None  # when it reached the record (the feed entry's instant)
    added_by: str | None = None  # the user who uploaded, linked or mailed it in, if one did
    version: int = 1

    @property
    def on_record(self) -> bool:
        """Its bytes passed the checks (or it is a link): a pending or rejected upload is not on the record."""
        return self.status == AVAILABLE


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


class FileUpdated(_FileFacts):
    """A file's portal visibility, links or description changed: the file as it now is, and
    before/after of each change."""

    TYPE: ClassVar[str] = "File.Updated"
    changes: dict[str, dict[str, object]]


class FileDeleted(_Published):
    """A file was deleted (its bytes are removed by the bucket's lifecycle rule later)."""

    TYPE: ClassVar[str] = "File.Deleted"
    file_id: str
    customer_id: str
    version: int = 1
