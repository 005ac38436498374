"""Files: documents on the customer record — uploads (bytes in the files bucket under the
tenant's prefix), mail attachments, and links to external documents.

| access pattern | index | key condition |
|---|---|---|
| file by id | table | PK = T#t#FILE#<id>, SK = FILE |
| a customer's files, newest first | GSI1 | GSI1PK = T#t#FILES#CUSTOMER#<customer>, GSI1SK = <created_at>#<id> |
| a project's files | GSI2 | GSI2PK = T#t#FILES#PROJECT#<project>, same sort |
| a task's files | GSI3 | GSI3PK = T#t#FILES#TASK#<task>, same sort |
| a ticket's files | GSI4 | GSI4PK = T#t#FILES#TICKET#<ticket>, same sort |
| the portal's files of a customer (available, portal_visible) | GSI5 | GSI5PK = T#t#FILES#PORTAL#<customer>, same |

A deleted file keeps its item (deleted_at set) but leaves every index: no list finds it and a
read by id answers 404. Lists filter by the other links with a FilterExpression on the
narrowest index (a ticket's or task's files are few)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, GSI3, GSI4, GSI5, VersionedItem, tenant_key

PENDING, AVAILABLE, REJECTED = "pending", "available", "rejected"
UPLOAD, LINK, MAIL = "upload", "link", "mail"


class File(VersionedItem):
    id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute(null=True)
    task_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    filename = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    source = UnicodeAttribute()  # upload | link | mail
    status = UnicodeAttribute()  # pending | available | rejected
    portal_visible = BooleanAttribute(default=False)
    content_type = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    object_key = UnicodeAttribute(null=True)
    object_version = UnicodeAttribute(null=True)  # the S3 version that was checked (downloads pin it)
    url = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(null=True)
    rejection = UnicodeAttribute(null=True)
    uploaded_by = UnicodeAttribute(null=True)
    checked_at = UnicodeAttribute(null=True)
    deleted_at = UnicodeAttribute(null=True)
    by_customer = GSI1()
    by_project = GSI2()
    by_task = GSI3()
    by_ticket = GSI4()
    in_portal = GSI5()

    SORT = "FILE"

    @staticmethod
    def pk(tenant_id: str, file_id: str) -> str:
        return tenant_key(tenant_id, "FILE", file_id)

    @staticmethod
    def list_pk(tenant_id: str, link: str, link_id: str) -> str:
        """`link`: CUSTOMER, PROJECT, TASK, TICKET or PORTAL (a customer's portal-visible files)."""
        return tenant_key(tenant_id, "FILES", link, link_id)

    def index_keys(self) -> None:
        """Set the index keys this file's state puts it under (none once deleted)."""
        for name in ("GSI1", "GSI2", "GSI3", "GSI4", "GSI5"):
            setattr(self, f"{name}PK", None)
            setattr(self, f"{name}SK", None)
        if self.deleted_at:
            return
        sort, tenant = f"{self.created_at}#{self.id}", self.tenant_id
        self.GSI1PK, self.GSI1SK = File.list_pk(tenant, "CUSTOMER", self.customer_id), sort
        if self.project_id:
            self.GSI2PK, self.GSI2SK = File.list_pk(tenant, "PROJECT", self.project_id), sort
        if self.task_id:
            self.GSI3PK, self.GSI3SK = File.list_pk(tenant, "TASK", self.task_id), sort
        if self.ticket_id:
            self.GSI4PK, self.GSI4SK = File.list_pk(tenant, "TICKET", self.ticket_id), sort
        if self.portal_visible and self.status == AVAILABLE:
            self.GSI5PK, self.GSI5SK = File.list_pk(tenant, "PORTAL", self.customer_id), sort
