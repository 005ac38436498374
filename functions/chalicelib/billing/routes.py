"""Invoices, billing settings, QuickBooks exports and the billing reports (thin: parse,
authorize, call, shape)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from chalice import Blueprint, Response
from pydantic import Field, StrictInt, field_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import (
    Currency,
    Id,
    Instant,
    ListOf,
    ListQuery,
    LongText,
    Name,
    Out,
    ShortText,
    Strict,
    Version,
    VersionFromZero,
    ordered_range,
)

from . import exports, money, reports, service
from . import settings as billing_settings

bp = Blueprint(__name__)

GroupBy = Literal["project", "project_category", "task", "person", "detailed"]
Terms = Literal["due_on_receipt", "net_15", "net_30", "net_45", "net_60"]
Status = Literal["draft", "finalized", "sent", "overdue", "paid", "void"]
CSV = "text/csv"


def _example(*examples: dict[str, Any]) -> Any:
    return Strict.model_config | {"json_schema_extra": {"examples": list(examples)}}


class DraftInvoice(Strict):
    customer_id: Id
    from_: date = Field(alias="from")
    to: date
    group_by: GroupBy = "project"
    currency: Currency | None = None
    _range = ordered_range("from_", "to", "to")

    model_config = _example({"customer_id": "01hxcustomer", "from": "2026-06-01", "to": "2026-06-30",
                             "group_by": "project"}) | {"populate_by_name": True}


class UpdateInvoice(Strict):
    version: Version = None
    due_date: date | None = None
    terms: Terms = Field(None)  # null is no term: refused
    notes: LongText | None = None
    po_number: ShortText | None = None

    model_config = _example({"version": 1, "terms": "net_15", "po_number": "PO-778"})

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True, exclude={"version"})


class ManualLine(Strict):
    description: Name
    quantity: StrictInt = Field(1, ge=1, le=100_000)
    rate: StrictInt = Field(ge=-10**12, le=10**12, description="minor units per unit (negative: a discount)")
    service_date: date | None = None

    model_config = _example({"description": "Fixed fee: onboarding workshop", "quantity": 1, "rate": 150000})


class Payment(Strict):
    amount: StrictInt = Field(ge=1, le=10**12, description="minor units")
    paid_at: Instant

    model_config = _example({"amount": 5000, "paid_at": "2026-07-02T10:00:00Z"})


class CreditRule(Strict):
    tier: Name
    target: Literal["first_response", "resolution"] = "resolution"
    percent_per_breach: Decimal = Field(gt=0, le=100, decimal_places=2)
    cap_percent: Decimal = Field(gt=0, le=100, decimal_places=2)


class Branding(Strict):
    name: ShortText | None = None
    address: LongText | None = Field(None, max_length=500)
    email: ShortText | None = None
    color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")


class BillingSettingsIn(Strict):
    version: VersionFromZero
    number_format: str = Field(billing_settings.DEFAULT_FORMAT, min_length=6, max_length=60)
    default_terms: Terms = "net_30"
    credit_rules: list[CreditRule] = Field(default_factory=list, max_length=50)
    branding: Branding = Field(default_factory=Branding)

    @field_validator("number_format")
    @classmethod
    def _format(cls, value: str) -> str:
        return billing_settings.check_number_format(value)

    model_config = _example({"version": 0, "number_format": "INV-{YYYY}-{seq:04}",
                             "credit_rules": [{"tier": "enterprise", "target": "resolution",
                                               "percent_per_breach": 5, "cap_percent": 20}]})

    def stored(self) -> dict[str, Any]:
        return {"number_format": self.number_format,
                "default_terms": self.default_terms,
                "branding": self.branding.model_dump(exclude_none=True),
                "credit_rules": [{"tier": r.tier, "target": r.target,
                                  "percent_per_breach_bp": int(r.percent_per_breach * 100),
                                  "cap_percent_bp": int(r.cap_percent * 100)} for r in self.credit_rules]}


class CreditRuleOut(Out):
    tier: str
    target: str
    percent_per_breach: str
    cap_percent: str


class BillingSettingsOut(Out):
    version: int
    number_format: str
    default_terms: str
    credit_rules: list[CreditRuleOut]
    branding: dict[str, Any]


def _settings_out(stored: dict[str, Any]) -> BillingSettingsOut:
    rules = [CreditRuleOut(tier=r["tier"], target=r["target"],
                           percent_per_breach=money.percent_text(r["percent_per_breach_bp"]),
                           cap_percent=money.percent_text(r["cap_percent_bp"])) for r in stored["credit_rules"]]
    return BillingSettingsOut(**{**stored, "credit_rules": rules})


class LineOut(Out):
    id: str
    kind: Literal["time", "manual", "credit"]
    description: str
    minutes: int | None = None
    quantity: str
    rate: int
    amount: int
    entry_ids: list[str]
    service_date: str | None = None
    credit: dict[str, Any] | None = None


class InvoiceOut(Out):
    model_config = Out.model_config | {"serialize_by_alias": True, "populate_by_name": True}

    id: str
    number: str | None
    customer_id: str
    customer_name: str | None
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    group_by: str
    status: str
    currency: str
    lines: list[LineOut]
    total: int
    amount_paid: int
    balance: int
    payments: list[dict[str, Any]]
    issue_date: str | None
    due_date: str | None
    terms: str | None
    notes: str | None
    po_number: str | None
    sent_at: str | None
    voided_at: str | None
    version: int
    created_at: str
    updated_at: str


class InvoiceQuery(ListQuery):
    customer_id: Id | None = None
    status: Status | None = None
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    _range = ordered_range("from_", "to", "to")


class InvoiceReadQuery(Strict):
    format: Literal["json", "csv"] = "json"


class PdfLink(Out):
    url: str
    expires_in: int
    key: str


def _out(invoice: Any, principal: Principal) -> InvoiceOut:
    return InvoiceOut.model_validate(service.invoice_view(invoice, service.today_for(principal.tenant_id)))


@route(bp, "/invoices", "POST", summary="Draft an invoice from approved billable time", permission="invoices:write",
       body=DraftInvoice, response=InvoiceOut, status=201)
def draft_invoice(principal: Principal, body: DraftInvoice) -> InvoiceOut:
    fields = {"customer_id": body.customer_id, "from": body.from_.isoformat(), "to": body.to.isoformat(),
              "group_by": body.group_by, "currency": body.currency}
    return _out(service.draft_invoice(principal, fields), principal)


@route(bp, "/invoices", "GET", summary="List invoices", permission="invoices:read", query=InvoiceQuery,
       response=ListOf[InvoiceOut])
def list_invoices(principal: Principal, query: InvoiceQuery) -> ListOf[InvoiceOut]:
    filters = {"customer_id": query.customer_id, "status": query.status,
               "from": query.from_.isoformat() if query.from_ else None,
               "to": query.to.isoformat() if query.to else None}
    page = service.list_invoices(principal, filters, query.limit, query.cursor)
    return ListOf[InvoiceOut](items=[_out(i, principal) for i in page.items], next_cursor=page.next_cursor)


@route(bp, "/invoices/settings", "GET", summary="Read the billing settings", permission="invoices:read",
       response=BillingSettingsOut)
def get_settings(principal: Principal) -> BillingSettingsOut:
    return _settings_out(billing_settings.load(principal.tenant_id))


@route(bp, "/invoices/settings", "PUT", summary="Replace the billing settings (numbering, rounding, SLA credits)",
       permission="invoices:settings", body=BillingSettingsIn, response=BillingSettingsOut)
def put_settings(principal: Principal, body: BillingSettingsIn) -> BillingSettingsOut:
    return _settings_out(billing_settings.replace(principal, body.stored(), body.version))


@route(bp, "/invoices/{invoice_id}", "GET", summary="Read an invoice (?format=csv for a spreadsheet)",
       permission="invoices:read", query=InvoiceReadQuery, response=InvoiceOut)
def get_invoice(principal: Principal, invoice_id: str, query: InvoiceReadQuery) -> InvoiceOut | Response:
    invoice = service.get_invoice(principal, invoice_id)
    if query.format == "csv":
        return exports.invoice_csv(invoice)
    return _out(invoice, principal)


@route(bp, "/invoices/{invoice_id}", "PATCH", summary="Edit a draft invoice", permission="invoices:write",
       body=UpdateInvoice, response=InvoiceOut)
def update_invoice(principal: Principal, invoice_id: str, body: UpdateInvoice) -> InvoiceOut:
    return _out(service.update_invoice(principal, invoice_id, body.changes(), expected_version(body)), principal)


@route(bp, "/invoices/{invoice_id}/lines", "POST", summary="Add a manual line to a draft", permission="invoices:write",
       body=ManualLine, response=InvoiceOut, status=201)
def add_line(principal: Principal, invoice_id: str, body: ManualLine) -> InvoiceOut:
    return _out(service.add_line(principal, invoice_id, body.model_dump(mode="json")), principal)


@route(bp, "/invoices/{invoice_id}/lines/{line_id}", "DELETE", summary="Delete a line (its entries are released)",
       permission="invoices:write", response=InvoiceOut)
def delete_line(principal: Principal, invoice_id: str, line_id: str) -> InvoiceOut:
    return _out(service.delete_line(principal, invoice_id, line_id), principal)


@route(bp, "/invoices/{invoice_id}/finalize", "POST", summary="Finalize: the next number of the series",
       permission="invoices:write", response=InvoiceOut)
def finalize(principal: Principal, invoice_id: str) -> InvoiceOut:
    return _out(service.finalize(principal, invoice_id), principal)


@route(bp, "/invoices/{invoice_id}/send", "POST", summary="Mark a finalized invoice sent", permission="invoices:write",
       response=InvoiceOut)
def send(principal: Principal, invoice_id: str) -> InvoiceOut:
    return _out(service.send(principal, invoice_id), principal)


@route(bp, "/invoices/{invoice_id}/payments", "POST", summary="Record a payment", permission="invoices:write",
       body=Payment, response=InvoiceOut, status=201)
def record_payment(principal: Principal, invoice_id: str, body: Payment) -> InvoiceOut:
    return _out(service.record_payment(principal, invoice_id, body.amount, body.paid_at), principal)


@route(bp, "/invoices/{invoice_id}/void", "POST", summary="Void an invoice (its number stays used)",
       permission="invoices:write", response=InvoiceOut)
def void(principal: Principal, invoice_id: str) -> InvoiceOut:
    return _out(service.void(principal, invoice_id), principal)


@route(bp, "/invoices/{invoice_id}/pdf", "GET", summary="A short-lived link to the invoice's PDF",
       permission="invoices:read", response=PdfLink)
def invoice_pdf(principal: Principal, invoice_id: str) -> PdfLink:
    return PdfLink.model_validate(exports.pdf_link(principal, service.get_invoice(principal, invoice_id)))


class ExportQuery(Strict):
    from_: date = Field(alias="from")
    to: date
    customer_id: Id | None = None
    _range = ordered_range("from_", "to", "to")


class IifQuery(Strict):
    from_: date = Field(alias="from")
    to: date
    _range = ordered_range("from_", "to", "to")


@route(bp, "/exports/quickbooks-online.csv", "GET", summary="Invoices in QuickBooks Online's import layout",
       permission="invoices:export", query=ExportQuery, media_type=CSV)
def quickbooks_online(principal: Principal, query: ExportQuery) -> Response:
    return exports.quickbooks_online(principal, query.from_.isoformat(), query.to.isoformat(), query.customer_id)


@route(bp, "/exports/quickbooks-desktop.iif", "GET", summary="Invoices as an IIF file for QuickBooks Desktop",
       permission="invoices:export", query=IifQuery, media_type="text/plain")
def quickbooks_desktop(principal: Principal, query: IifQuery) -> Response:
    return exports.quickbooks_desktop(principal, query.from_.isoformat(), query.to.isoformat())


class ReportQuery(Strict):
    from_: date = Field(alias="from")
    to: date
    _range = ordered_range("from_", "to", "to")


class ReportOut(Out):
    items: list[dict[str, Any]]
    totals: dict[str, Any]


@route(bp, "/reports/uninvoiced", "GET", summary="Approved billable time not yet invoiced, per customer and project",
       permission="reports:billing", query=ReportQuery, response=ReportOut)
def uninvoiced(principal: Principal, query: ReportQuery) -> ReportOut:
    return ReportOut.model_validate(reports.uninvoiced(principal, query.from_.isoformat(), query.to.isoformat()))


@route(bp, "/reports/billing-leakage", "GET", summary="Billable time worked vs invoiced",
       permission="reports:billing", query=ReportQuery, response=ReportOut)
def leakage(principal: Principal, query: ReportQuery) -> ReportOut:
    return ReportOut.model_validate(reports.leakage(principal, query.from_.isoformat(), query.to.isoformat()))
