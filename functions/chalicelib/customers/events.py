"""Events the customers room publishes (source `bluehill.customers`), each declared once."""

from __future__ import annotations

from typing import Any, ClassVar

from chalicelib.core.events import Change, EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.customers"


class CustomerCreated(_Published):
    """A customer was created, with its fields."""

    TYPE: ClassVar[str] = "Customer.Created"
    customer_id: str
    fields: dict[str, Any]


class CustomerUpdated(_Published):
    """A customer's fields changed (before/after per field); `version` is the customer's version
    after the change, so a consumer can tell an older event from a newer one."""

    TYPE: ClassVar[str] = "Customer.Updated"
    customer_id: str
    version: int
    changes: dict[str, Change]


class CustomerArchived(_Published):
    """A customer was archived."""

    TYPE: ClassVar[str] = "Customer.Archived"
    customer_id: str
    version: int


class ContactCreated(_Published):
    """A contact was added to a customer."""

    TYPE: ClassVar[str] = "Contact.Created"
    contact_id: str
    customer_id: str


class ContactUpdated(_Published):
    """A contact's fields changed (before/after per field)."""

    TYPE: ClassVar[str] = "Contact.Updated"
    contact_id: str
    changes: dict[str, Change]


class ContactDeleted(_Published):
    """A contact was deleted."""

    TYPE: ClassVar[str] = "Contact.Deleted"
    contact_id: str
    customer_id: str
