"""Files on the customer record: request an upload (a presigned POST), check what arrived (the
S3 event), read, list, change and delete; link external documents; record mail attachments.
Portal users reach only the portal-visible, available files of their own customer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, DomainError, NotFound, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import Reach, require
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version
from chalicelib.core.tenant_credentials import TENANT_FILES_PREFIX
from chalicelib.customers import service as customers
from chalicelib.tickets import service as tickets
from chalicelib.work import service as work
from chalicelib.work import tasks as work_tasks

from . import rules, storage
from .events import FileDeleted, FileRejected, FileUpdated, FileUploaded
from .models import AVAILABLE, LINK, MAIL, PENDING, REJECTED, UPLOAD, File

LINK_FIELDS = ("project_id", "task_id", "ticket_id")
CHANGEABLE = ("portal_visible", "description", *LINK_FIELDS)


def _hidden(file_id: str) -> NotFound:
    return NotFound(f"file {file_id} not found")


# ---------- reach ----------


def _reaches(principal: Principal, reach: Reach, file: File) -> bool:
    if reach is Reach.ALL:
        return True
    if reach is Reach.OWN_COMPANY:
        return (file.customer_id == principal.customer_id and bool(file.portal_visible)
                and file.status == AVAILABLE)
    return customers.reaches_customer(principal, file.customer_id)


def _load(principal: Principal, file_id: str, action: str) -> File:
    reach = require(principal, action)
    try:
        file = File.get(File.pk(principal.tenant_id, file_id), File.SORT, consistent_read=True)
    except File.DoesNotExist as missing:
        raise _hidden(file_id) from missing
    if file.deleted_at or not _reaches(principal, reach, file):
        raise _hidden(file_id)
    return file


def _require_customer(principal: Principal, customer_id: str, field: str | None) -> None:
    """The caller reaches the customer: else 404 (a path's customer) or 422 naming `field`."""
    if principal.role == "portal":
        reachable = customer_id == principal.customer_id
    else:
        reachable = customers.reaches_customer(principal, customer_id)
    if not reachable:
        if field is None:
            raise NotFound(f"customer {customer_id} not found")
        raise validation_error(field, f"customer {customer_id} does not exist")


def _owner_of(field: str, item_id: str, load: Any) -> str:
    try:
        return load().customer_id
    except DomainError as missing:  # absent, out of reach, or a role that may not read it
        raise validation_error(field, f"{field.removesuffix('_id')} {item_id} does not exist") from missing


def _check_links(principal: Principal, customer_id: str, links: dict[str, str | None]) -> None:
    """Each link names a record the caller reaches, of the file's customer (422 naming it)."""
    if principal.role == "portal" and (links.get("project_id") or links.get("task_id")):
        field = "project_id" if links.get("project_id") else "task_id"
        raise validation_error(field, "portal uploads may be linked to a ticket only")
    loaders = {
        "project_id": lambda item_id: lambda: work.get_project(principal, item_id),
        "task_id": lambda item_id: lambda: work_tasks.get_task(principal, item_id),
        "ticket_id": lambda item_id: lambda: tickets.get_ticket(principal, item_id),
    }
    for field, item_id in links.items():
        if item_id and _owner_of(field, item_id, loaders[field](item_id)) != customer_id:
            raise validation_error(field, f"{field.removesuffix('_id')} {item_id} is not of customer {customer_id}")


# ---------- representation ----------


def _facts(file: File) -> dict[str, Any]:
    return {"file_id": file.id, "customer_id": file.customer_id, "project_id": file.project_id,
            "task_id": file.task_id, "ticket_id": file.ticket_id, "filename": file.filename,
            "content_type": file.content_type, "size": file.size, "portal_visible": bool(file.portal_visible),
            "source": file.source, "status": file.status, "added_at": file.checked_at or file.created_at,
            "added_by": file.uploaded_by, "version": int(file.version)}


def file_view(principal: Principal, file: File, with_download: bool = False) -> dict[str, Any]:
    """A file as its caller sees it; `with_download` adds a presigned GET (5 minutes, as an
    attachment) when its bytes are available."""
    view: dict[str, Any] = {
        "id": file.id, **{name: getattr(file, name) for name in (
            "customer_id", "project_id", "task_id", "ticket_id", "filename", "description", "source", "status",
            "content_type", "size", "url", "provider", "created_at", "updated_at", "version")},
        "portal_visible": bool(file.portal_visible),
    }
    if principal.role != "portal":
        view |= {"rejection": file.rejection, "uploaded_by": file.uploaded_by}
    if with_download and file.status == AVAILABLE and file.object_key:
        view["download_url"] = storage.presigned_get(file.object_key, file.object_version,
                                                     rules.content_disposition(file.filename))
        view["download_expires_at"] = _after(storage.DOWNLOAD_SECONDS)
    return view


def _after(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------- create: an upload or a link ----------


def _new_file(principal: Principal, file_id: str, fields: dict[str, Any], **state: Any) -> File:
    now = now_iso()
    file = File(File.pk(principal.tenant_id, file_id), File.SORT, type="File", tenant_id=principal.tenant_id,
                id=file_id, version=1, created_at=now, updated_at=now, uploaded_by=principal.user_id,
                customer_id=fields["customer_id"], filename=fields["filename"],
                portal_visible=bool(fields.get("portal_visible")), description=fields.get("description"),
                **{name: fields.get(name) for name in LINK_FIELDS}, **state)
    file.index_keys()
    return file


def _require_kind_fields(fields: dict[str, Any]) -> None:
    """An upload declares content_type and size, a link its url; neither carries the other's."""
    needed, foreign = (("url",), ("content_type", "size")) if fields.get("source") == LINK else (
        ("content_type", "size"), ("url",))
    for name in needed:
        if fields.get(name) is None:
            raise validation_error(name, f"is required for source {fields.get('source') or UPLOAD}")
    for name in foreign:
        if fields.get(name) is not None:
            raise validation_error(name, f"is not allowed for source {fields.get('source') or UPLOAD}")


def create_file(principal: Principal, fields: dict[str, Any]) -> tuple[File, dict[str, Any] | None]:
    """An upload (`source: upload`, the default): a pending file and the presigned POST that
    may store exactly its bytes; or a link to an external document (`source: link`), available
    at once. A portal user's file is of its own customer and always portal-visible."""
    reach = require(principal, "files:create")
    fields = dict(fields)
    if reach is Reach.OWN_COMPANY:
        fields["portal_visible"] = True
    _require_customer(principal, fields["customer_id"], "customer_id")
    _check_links(principal, fields["customer_id"], {name: fields.get(name) for name in LINK_FIELDS})
    filename = rules.sanitise_filename(fields["filename"])
    if not filename:
        raise validation_error("filename", "has no usable characters")
    fields["filename"] = filename
    file_id = new_id()
    _require_kind_fields(fields)
    if fields.get("source") == LINK:
        provider = rules.link_provider(fields["url"])
        if provider is None:
            raise validation_error("url", "must be an https link to Google Drive, OneDrive/SharePoint or Notion")
        file = _new_file(principal, file_id, fields, source=LINK, status=AVAILABLE, url=fields["url"],
                         provider=provider)
        _commit_new(principal, file, FileUploaded(**_facts(file), url=file.url))
        return file, None
    problem = rules.type_problem(filename, fields["content_type"])
    if problem:
        raise validation_error(*problem)
    key = storage.object_key(principal.tenant_id, file_id, rules.key_name(filename))
    file = _new_file(principal, file_id, fields, source=UPLOAD, status=PENDING, object_key=key,
                     content_type=fields["content_type"], size=fields["size"])
    _commit_new(principal, file, None)
    upload = storage.presigned_post(key, file.content_type, file.size)
    return file, {**upload, "expires_at": _after(storage.UPLOAD_SECONDS), "max_bytes": file.size}


def _commit_new(principal: Principal, file: File, event: FileUploaded | None) -> None:
    tx = Transaction()
    tx.create(file, lambda: Conflict("file already exists"))
    audit.record(tx, principal, "create", "file", file.id, audit.diff({}, {
        name: getattr(file, name) for name in ("customer_id", "filename", "source", "portal_visible", *LINK_FIELDS)}))
    if event is not None:
        tx.publish(event.event(principal.tenant_id))
    tx.commit()


def portal_upload(principal: Principal, fields: dict[str, Any]) -> tuple[File, dict[str, Any] | None]:
    """For the portal: an upload by a portal user, to its own customer, portal-visible."""
    return create_file(principal, {**fields, "customer_id": principal.customer_id, "portal_visible": True})


# ---------- read ----------


def get_file(principal: Principal, file_id: str) -> dict[str, Any]:
    return file_view(principal, _load(principal, file_id, "files:read"), with_download=True)


def list_customer_files(principal: Principal, customer_id: str, filters: dict[str, Any], limit: int,
                        cursor: str | None) -> Page[File]:
    """A customer's files, newest first, on the narrowest index the filters allow (ticket, task,
    project, portal-visible, else all), the other filters applied to what it reads."""
    reach = require(principal, "files:read")
    _require_customer(principal, customer_id, None)
    filters = {name: value for name, value in filters.items() if value is not None}
    if reach is Reach.OWN_COMPANY:
        if filters.get("portal_visible") is False:
            return Page([], None)
        filters["portal_visible"] = True
    tenant = principal.tenant_id
    indexes = [("ticket_id", "TICKET", File.by_ticket), ("task_id", "TASK", File.by_task),
               ("project_id", "PROJECT", File.by_project)]
    narrowest = next(((name, link, index) for name, link, index in indexes if filters.get(name)), None)
    if narrowest is not None:
        name, link, index = narrowest
        hash_key, rest = File.list_pk(tenant, link, filters[name]), {"customer_id": customer_id, **filters}
        rest.pop(name)
    elif filters.get("portal_visible") is True:
        index, hash_key = File.in_portal, File.list_pk(tenant, "PORTAL", customer_id)
        rest = {key: value for key, value in filters.items() if key != "portal_visible"}
    else:
        index, hash_key, rest = File.by_customer, File.list_pk(tenant, "CUSTOMER", customer_id), filters
    condition: Condition | None = None
    for name, value in sorted(rest.items()):
        clause = getattr(File, name) == value
        condition = clause if condition is None else condition & clause
    return read_page([query_reader(index, hash_key, filter_condition=condition, newest_first=True)], limit, cursor)


def portal_files(principal: Principal, limit: int = 50, cursor: str | None = None,
                 filters: dict[str, Any] | None = None) -> Page[File]:
    """For the portal: the portal user's own customer's portal-visible, available files."""
    if principal.role != "portal" or not principal.customer_id:
        raise NotFound("no portal customer")
    return list_customer_files(principal, principal.customer_id, dict(filters or {}), limit, cursor)


# ---------- change and delete ----------


def _stale(file_id: str) -> Conflict:
    return Conflict(f"file {file_id} was changed by someone else; reload it")


def update_file(principal: Principal, file_id: str, changes: dict[str, Any], expected_version: int) -> File:
    current = _load(principal, file_id, "files:write")
    if "portal_visible" in changes and changes["portal_visible"] is None:
        raise validation_error("portal_visible", "must be true or false")
    require_version(current, expected_version, "file")
    before = {name: getattr(current, name) for name in CHANGEABLE}
    after = {**before, **changes}
    changed = {name: {"before": before[name], "after": after[name]} for name in CHANGEABLE
               if before[name] != after[name]}
    if not changed:
        return current
    _check_links(principal, current.customer_id, {name: changes[name] for name in LINK_FIELDS
                                                   if name in changed})
    updated = File.from_raw_data(current.serialize())
    for name in changed:
        setattr(updated, name, after[name])
    updated.version, updated.updated_at = current.version + 1, now_iso()
    updated.index_keys()
    tx = Transaction()
    tx.put(updated, File.version == current.version, lambda: _stale(file_id))
    audit.record(tx, principal, "update", "file", file_id, audit.diff(before, after))
    tx.publish(FileUpdated(**_facts(updated), changes=changed).event(principal.tenant_id))
    tx.commit()
    return updated


def delete_file(principal: Principal, file_id: str) -> None:
    """Soft: the file leaves every list and read; its object is tagged for the lifecycle rule."""
    current = _load(principal, file_id, "files:write")
    deleted = File.from_raw_data(current.serialize())
    deleted.deleted_at = deleted.updated_at = now_iso()
    deleted.version = current.version + 1
    deleted.index_keys()
    tx = Transaction()
    tx.put(deleted, File.version == current.version, lambda: _stale(file_id))
    audit.record(tx, principal, "delete", "file", file_id, audit.diff({"filename": current.filename}, {}))
    tx.publish(FileDeleted(file_id=file_id, customer_id=current.customer_id, version=int(deleted.version))
               .event(principal.tenant_id))
    tx.commit()
    if current.object_key:
        storage.mark_deleted(current.object_key)


# ---------- what arrived: the upload's S3 event, mail attachments ----------


def _settle(file: File, found: storage.Stored | None, bucket_name: str) -> File:
    """The file's state once its bytes are checked: available, or rejected (bytes removed)."""
    checked = File.from_raw_data(file.serialize())
    checked.checked_at = checked.updated_at = now_iso()
    checked.version = file.version + 1
    if found is None:
        reason = "the object is missing"
    else:
        reason = rules.content_problem(file.content_type or "", int(file.size or 0), found.size, found.head)
        checked.size = found.size
    if reason is None:
        checked.status, checked.object_version = AVAILABLE, found.version if found else None
    else:
        checked.status, checked.rejection = REJECTED, reason
        if found is not None:
            storage.remove(bucket_name, file.object_key or "")
    checked.index_keys()
    return checked


def _outcome_event(file: File) -> FileUploaded | FileRejected:
    if file.status == AVAILABLE:
        return FileUploaded(**_facts(file))
    return FileRejected(**_facts(file), reason=file.rejection or "")


def check_upload(bucket_name: str, key: str) -> str:
    """The S3 event of one stored object: a pending upload becomes available or rejected, once
    (a second delivery, or a later object on the same key, finds it settled). Returns what happened."""
    parsed = storage.parse_key(key)
    if parsed is None or bucket_name != storage.bucket():
        return "ignored"
    tenant_id, file_id = parsed
    with tenant_scope(tenant_id):
        try:
            file = File.get(File.pk(tenant_id, file_id), File.SORT, consistent_read=True)
        except File.DoesNotExist:
            return "unknown"
        if file.status != PENDING or file.object_key != key or file.deleted_at:
            return "settled"
        checked = _settle(file, storage.stored(bucket_name, key), bucket_name)
        tx = Transaction()
        tx.put(checked, (File.status == PENDING) & (File.version == file.version), lambda: Conflict("settled"))
        tx.publish(_outcome_event(checked).event(tenant_id))
        try:
            tx.commit()
        except Conflict:
            return "settled"
        return checked.status


def _attachment_id(key: str) -> str:
    """One file per stored attachment, whatever the deliveries: its id derives from its key."""
    return "m" + hashlib.sha256(key.encode()).hexdigest()[:25]


def record_mail_attachments(tenant_id: str, customer_id: str | None, ticket_id: str | None,
                            attachments: Iterable[dict[str, Any]], actor_id: str | None = None) -> list[str]:
    """For the consumer of Mail.Received: a file per attachment (its bytes already stored under
    the tenant's prefix), checked like an upload, linked to the customer and the ticket, not
    portal-visible. Idempotent: a file already recorded for a key is left as it is. The ids of
    the files created."""
    if not customer_id:
        return []  # mail not yet routed to a customer (triage): nothing to hang the files on
    prefix = TENANT_FILES_PREFIX.format(tenant_id=tenant_id)
    created = []
    for attachment in attachments:
        key = attachment["key"]
        if not key.startswith(prefix):
            continue  # never a file of another tenant's bytes
        file_id = _attachment_id(key)
        now = now_iso()
        pending = File(File.pk(tenant_id, file_id), File.SORT, type="File", tenant_id=tenant_id, id=file_id,
                       version=1, created_at=now, updated_at=now, customer_id=customer_id, ticket_id=ticket_id,
                       filename=rules.sanitise_filename(attachment.get("filename") or "") or "attachment",
                       source=MAIL, status=PENDING, portal_visible=False, object_key=key, uploaded_by=actor_id,
                       content_type=attachment.get("content_type"), size=int(attachment.get("size") or 0))
        checked = _settle(pending, storage.stored(storage.bucket(), key), storage.bucket())
        checked.version = 1
        tx = Transaction()
        tx.create(checked, lambda: Conflict("recorded"))
        tx.publish(_outcome_event(checked).event(tenant_id))
        try:
            tx.commit()
        except Conflict:
            continue
        created.append(file_id)
    return created
