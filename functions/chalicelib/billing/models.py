"""Invoices, their numbering, the claims that keep a time entry on one invoice at most, the
billing settings and the SLA-credit ledger.

| access pattern | index | key condition |
|---|---|---|
| invoice by id | table | PK = T#t#INVOICE#<id>, SK = INVOICE |
| invoices of the tenant, by date | GSI1 | GSI1PK = T#t#INVOICES, GSI1SK = <date>#<id> |
| invoices of a customer, by date | GSI2 | GSI2PK = T#t#INVOICES#C#<customer>, GSI2SK = <date>#<id> |
| the claim on a time entry | table | PK = T#t#ENTRYCLAIM#<entry id>, SK = CLAIM (BatchGet) |
| the last number of a series | table | PK = T#t#INVOICESEQ, SK = <series prefix> |
| a number is used | table | PK = T#t#INVOICENO#<number>, SK = NUMBER |
| billing settings | table | PK = T#t#BILLING, SK = SETTINGS |
| a customer's SLA breaches in a period | table | PK = T#t#SLABREACH#<customer>, SK between <from> and <to>~ |
| uninvoiced / leakage rollups (sharded) | table | PK = T#t#BILLROLLUP, SK begins_with <customer>#... |

An invoice being drafted (`drafting`) carries no index keys: no list shows it and no route but
its own draft request touches it, until its last claim batch has committed.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, TableItem, VersionedItem, tenant_key

DRAFTING, DRAFT, FINALIZED, SENT, PAID, VOID = "drafting", "draft", "finalized", "sent", "paid", "void"


class Invoice(VersionedItem):
    id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    customer_name = UnicodeAttribute(null=True)
    period_from = UnicodeAttribute()
    period_to = UnicodeAttribute()
    group_by = UnicodeAttribute()
    status = UnicodeAttribute()
    currency = UnicodeAttribute()
    lines = JSONAttribute(default=list)
    total = NumberAttribute(default=0)
    number = UnicodeAttribute(null=True)
    issue_date = UnicodeAttribute(null=True)
    due_date = UnicodeAttribute(null=True)
    terms = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    po_number = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    voided_at = UnicodeAttribute(null=True)
    amount_paid = NumberAttribute(default=0)
    payments = JSONAttribute(default=list)
    drafting_expires_at = NumberAttribute(null=True)
    pdf_key = UnicodeAttribute(null=True)
    pdf_version = NumberAttribute(null=True)
    by_date = GSI1()
    by_customer = GSI2()

    SORT = "INVOICE"

    @staticmethod
    def pk(tenant_id: str, invoice_id: str) -> str:
        return tenant_key(tenant_id, "INVOICE", invoice_id)

    @staticmethod
    def list_pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "INVOICES")

    @staticmethod
    def customer_pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "INVOICES", "C", customer_id)

    def listed_date(self) -> str:
        """The date lists order and filter by: the issue date once finalized, else the period's end."""
        return self.issue_date or self.period_to

    def index_keys(self) -> dict[str, str]:
        sort = f"{self.listed_date()}#{self.id}"
        return {"GSI1PK": Invoice.list_pk(self.tenant_id), "GSI1SK": sort,
                "GSI2PK": Invoice.customer_pk(self.tenant_id, self.customer_id), "GSI2SK": sort}


class EntryClaim(TableItem):
    """A time entry is on this invoice: created conditionally, so an entry is claimed once."""

    entry_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    claimed_at = UnicodeAttribute()

    SORT = "CLAIM"

    @staticmethod
    def pk(tenant_id: str, entry_id: str) -> str:
        return tenant_key(tenant_id, "ENTRYCLAIM", entry_id)


class InvoiceSeries(TableItem):
    """The last number given in one series (a format's text before the sequence, e.g. INV-2026-)."""

    last = NumberAttribute(default=0)

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "INVOICESEQ")


class InvoiceNumber(TableItem):
    """An invoice number is used (by `invoice_id`): created conditionally, never twice."""

    invoice_id = UnicodeAttribute()

    SORT = "NUMBER"

    @staticmethod
    def pk(tenant_id: str, number: str) -> str:
        return tenant_key(tenant_id, "INVOICENO", number)


class BillingSettings(VersionedItem):
    number_format = UnicodeAttribute()
    credit_rules = JSONAttribute(default=list)  # [{"tier", "target", "percent_per_breach", "cap_percent"}]
    default_terms = UnicodeAttribute()
    branding = JSONAttribute(default=dict)  # {"name", "address", "email", "color"}

    SORT = "SETTINGS"

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "BILLING")


class SlaBreach(TableItem):
    """One breached SLA target of one ticket of a customer (from Ticket.SLABreached)."""

    ticket_id = UnicodeAttribute()
    target = UnicodeAttribute()
    at = UnicodeAttribute()
    customer_id = UnicodeAttribute()

    @staticmethod
    def pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "SLABREACH", customer_id)

    @staticmethod
    def sort(at: str, ticket_id: str, target: str) -> str:
        return f"{at}#{ticket_id}#{target}"


class BillingRollup(TableItem):
    """One shard of one customer x project x day's billable figures (minor units, minutes):
    approved and not yet invoiced, worked, invoiced."""

    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    day = UnicodeAttribute()
    currency = UnicodeAttribute(null=True)
    uninvoiced_minutes = NumberAttribute(default=0)
    uninvoiced_amount = NumberAttribute(default=0)
    worked_minutes = NumberAttribute(default=0)
    worked_amount = NumberAttribute(default=0)
    invoiced_minutes = NumberAttribute(default=0)
    invoiced_amount = NumberAttribute(default=0)

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "BILLROLLUP")
