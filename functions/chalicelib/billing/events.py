"""Events the billing room publishes (source `bluehill.billing`), each declared once. The time
room consumes Drafted, LinesReleased and Voided to mark its entries invoiced or approved again:
billing never writes a time entry."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class _Published(EventData):
    SOURCE: ClassVar[str] = "bluehill.billing"


class _InvoiceEvent(_Published):
    invoice_id: str
    customer_id: str


class InvoiceDrafted(_InvoiceEvent):
    """An invoice was drafted: `entry_ids` are the time entries its lines bill (now on it)."""

    TYPE: ClassVar[str] = "Invoice.Drafted"
    entry_ids: list[str]
    amounts: dict[str, int] = {}  # entry id → amount billed for it (rounded time at its rate)


class InvoiceLinesReleased(_InvoiceEvent):
    """Lines of a draft were deleted: `entry_ids` are no longer on any invoice."""

    TYPE: ClassVar[str] = "Invoice.LinesReleased"
    entry_ids: list[str]


class InvoiceFinalized(_InvoiceEvent):
    """A draft took the next number of the tenant's series."""

    TYPE: ClassVar[str] = "Invoice.Finalized"
    number: str
    total: int
    currency: str


class InvoiceSent(_InvoiceEvent):
    """A finalized invoice was marked sent; the mail room emails it (PDF attached) to `to`: the
    customer's billing contacts' addresses, else its first contact's, as they were at send time
    (empty when the customer has no contact: the mail is held, not lost)."""

    TYPE: ClassVar[str] = "Invoice.Sent"
    number: str
    total: int = 0
    currency: str = ""
    due_date: str | None = None
    to: list[str] = []


class InvoicePaid(_InvoiceEvent):
    """A payment was recorded; `paid` when the payments cover the total."""

    TYPE: ClassVar[str] = "Invoice.Paid"
    amount: int
    amount_paid: int
    paid: bool


class InvoiceVoided(_InvoiceEvent):
    """An invoice was voided (its number stays used): `entry_ids` return to uninvoiced."""

    TYPE: ClassVar[str] = "Invoice.Voided"
    number: str | None = None
    entry_ids: list[str]
