"""Events the customers room publishes (source `bluehill.customers`), each declared once."""

from __future__ import annotations

from typing import Any, ClassVar

from chalicelib.core.events import Change, EventData

SOURCE = "bluehill.customers"


class CustomerCreated(EventData):
    """A customer was created, with its fields."""

    TYPE: ClassVar[str] = "Customer.Created"
    SOURCE: ClassVar[str] = SOURCE
    customer_id: str
    fields: dict[str, Any]


class CustomerUpdated(EventData):
    """A customer's fields changed (before/after per field); `version` is the customer's version
    after the change, so a consumer can tell an older event from a newer one."""

    TYPE: ClassVar[str] = "Customer.Updated"
    SOURCE: ClassVar[str] = SOURCE
    customer_id: str
    version: int
    changes: dict[str, Change]


class CustomerArchived(EventData):
    """A customer was archived."""

    TYPE: ClassVar[str] = "Customer.Archived"
    SOURCE: ClassVar[str] = SOURCE
    customer_id: str
    version: int


class ContactCreated(EventData):
    """A contact was added to a customer."""

    TYPE: ClassVar[str] = "Contact.Created"
    SOURCE: ClassVar[str] = SOURCE
    contact_id: str
    customer_id: str


class ContactUpdated(EventData):
    """A contact's fields changed (before/after per field)."""

    TYPE: ClassVar[str] = "Contact.Updated"
    SOURCE: ClassVar[str] = SOURCE
    contact_id: str
    changes: dict[str, Change]


class ContactDeleted(EventData):
    """A contact was deleted."""

    TYPE: ClassVar[str] = "Contact.Deleted"
    SOURCE: ClassVar[str] = SOURCE
    contact_id: str
    customer_id: str
