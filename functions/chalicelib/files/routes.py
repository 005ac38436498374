from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import Id, ListOf, ListQuery, Out, SingleLine, Strict, TextBlock, Version

from . import service
from .rules import MAX_BYTES

bp = Blueprint(__name__)

Filename = Annotated[SingleLine, StringConstraints(min_length=1, max_length=255)]
ContentType = Annotated[str, StringConstraints(min_length=3, max_length=127, pattern=r"^[a-z0-9.+\-]+/[a-z0-9.+\-]+$")]
Description = Annotated[TextBlock, StringConstraints(max_length=2000)]
Url = Annotated[str, StringConstraints(min_length=8, max_length=2000, pattern=r"^https://\S+$")]


class CreateFile(Strict):
    """An upload (`source: upload`: filename, content_type, size) or a link to an external
    document (`source: link`: filename as its title, url)."""

    filename: Filename
    customer_id: Id
    source: Literal["upload", "link"] = "upload"
    content_type: ContentType | None = None
    size: Annotated[int, Field(ge=1, le=MAX_BYTES)] | None = None
    url: Url | None = None
    project_id: Id | None = None
    task_id: Id | None = None
    ticket_id: Id | None = None
    portal_visible: bool = False
    description: Description | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"filename": "Statement of work.pdf", "content_type": "application/pdf", "size": 48213,
         "customer_id": "01JCUSTOMER0000000000000000"},
        {"filename": "Onboarding plan", "source": "link", "url": "https://docs.google.com/document/d/1abc/edit",
         "customer_id": "01JCUSTOMER0000000000000000"}]}}


class UpdateFile(Strict):
    portal_visible: bool | None = None
    description: Description | None = None
    project_id: Id | None = None
    task_id: Id | None = None
    ticket_id: Id | None = None
    version: Version | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"portal_visible": True, "description": "Signed copy", "version": 1}]}}


class FilesQuery(ListQuery):
    project_id: Id | None = None
    task_id: Id | None = None
    ticket_id: Id | None = None
    portal_visible: bool | None = None


class FileOut(Out):
    id: str
    customer_id: str
    project_id: str | None
    task_id: str | None
    ticket_id: str | None
    filename: str
    description: str | None
    source: str
    status: str
    content_type: str | None
    size: int | None
    url: str | None
    provider: str | None
    portal_visible: bool
    rejection: str | None = None
    uploaded_by: str | None = None
    version: int
    created_at: str
    updated_at: str
    download_url: str | None = None
    download_expires_at: str | None = None


class UploadOut(Out):
    """A presigned POST: send `fields` then the file (as `file`, last) as multipart/form-data to `url`."""

    url: str
    fields: dict[str, str]
    expires_at: str
    max_bytes: int


class CreatedFileOut(FileOut):
    upload: UploadOut | None


def _out(principal: Principal, file: Any) -> FileOut:
    return FileOut.model_validate(service.file_view(principal, file))


@route(bp, "/files", "POST", summary="Request an upload (a presigned POST) or link an external document",
       permission="files:create", body=CreateFile, response=CreatedFileOut, status=201)
def create_file(principal: Principal, body: CreateFile) -> CreatedFileOut:
    file, upload = service.create_file(principal, body.model_dump())
    return CreatedFileOut.model_validate({**service.file_view(principal, file), "upload": upload})


@route(bp, "/files/{file_id}", "GET", summary="A file, with a download link valid 5 minutes",
       permission="files:read", response=FileOut)
def get_file(principal: Principal, file_id: str) -> FileOut:
    return FileOut.model_validate(service.get_file(principal, file_id))


@route(bp, "/customers/{customer_id}/files", "GET", summary="A customer's files", permission="files:read",
       query=FilesQuery, response=ListOf[FileOut])
def list_customer_files(principal: Principal, customer_id: str, query: FilesQuery) -> ListOf[FileOut]:
    filters = query.model_dump(exclude={"limit", "cursor"})
    page = service.list_customer_files(principal, customer_id, filters, query.limit, query.cursor)
    return ListOf[FileOut](items=[_out(principal, file) for file in page.items], next_cursor=page.next_cursor)


@route(bp, "/files/{file_id}", "PATCH", summary="Change a file's portal visibility, links or description",
       permission="files:write", body=UpdateFile, response=FileOut)
def update_file(principal: Principal, file_id: str, body: UpdateFile) -> FileOut:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    return _out(principal, service.update_file(principal, file_id, changes, expected_version(body)))


@route(bp, "/files/{file_id}", "DELETE", summary="Delete a file (its bytes are removed later)",
       permission="files:write", status=204)
def delete_file(principal: Principal, file_id: str) -> None:
    service.delete_file(principal, file_id)
