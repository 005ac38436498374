"""Files billing hands out: an invoice as CSV, its PDF (rendered once per version, kept in S3,
reached through a short-lived link), and the QuickBooks imports (Online CSV, Desktop IIF)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from functools import cache
from typing import Any

from chalice import Response

from chalicelib.core import spreadsheet
from chalicelib.core.auth import Principal
from chalicelib.core.errors import validation_error
from chalicelib.core.settings import get_settings
from chalicelib.core.table import query_reader
from chalicelib.core.tenant_credentials import TENANT_FILES_PREFIX

from . import money, pdf, service
from . import settings as billing_settings
from .models import FINALIZED, PAID, SENT, Invoice

LINK_SECONDS = 300
QBO_MAX_INVOICES, QBO_MAX_ROWS = 100, 1000
MAX_EXPORTED_INVOICES = 5000
QBO_COLUMNS = ["InvoiceNo", "Customer", "InvoiceDate", "DueDate", "Terms", "Memo", "Item(Product/Service)",
               "ItemDescription", "ItemQuantity", "ItemRate", "ItemAmount", "Service Date"]
CREDIT_COLUMNS = ["InvoiceNo", "Customer", "InvoiceDate", "Description", "Amount"]
TERMS_TEXT = {"due_on_receipt": "Due on receipt", "net_15": "Net 15", "net_30": "Net 30", "net_45": "Net 45",
              "net_60": "Net 60"}
ITEM = {"time": "Services", "manual": "Services"}
EXPORTED = (FINALIZED, SENT, PAID)


# ---------- CSV (core/spreadsheet: BOM, CRLF, formula cells escaped) ----------


def invoice_csv(invoice: Invoice) -> Response:
    header = ["Line", "Kind", "Description", "Service date", "Minutes", "Quantity", "Rate", "Amount", "Currency"]
    rows = [[n, line["kind"], line["description"], line.get("service_date") or "", line.get("minutes"),
             line["quantity"], money.decimal_text(line["rate"], invoice.currency),
             money.decimal_text(line["amount"], invoice.currency), invoice.currency]
            for n, line in enumerate(invoice.lines, start=1)]
    rows.append(["", "total", "Total", "", "", "", "", money.decimal_text(int(invoice.total), invoice.currency),
                 invoice.currency])
    return spreadsheet.csv_response(f"invoice-{invoice.number or invoice.id}.csv", header, rows)


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    return spreadsheet.csv_text(header, rows).encode("utf-8")


# ---------- S3 ----------


@cache
def _s3() -> Any:
    import boto3

    return boto3.client("s3")


def _key(tenant_id: str, *parts: str) -> str:
    return TENANT_FILES_PREFIX.format(tenant_id=tenant_id) + "/".join(parts)


def _link(key: str, filename: str, content_type: str) -> str:
    return _s3().generate_presigned_url("get_object", ExpiresIn=LINK_SECONDS, Params={
        "Bucket": get_settings().files_bucket, "Key": key, "ResponseContentType": content_type,
        "ResponseContentDisposition": f'inline; filename="{filename}"'})


def pdf_link(principal: Principal, invoice: Invoice) -> dict[str, Any]:
    """Render the invoice's PDF once per version (its key names the version), then link to it."""
    key = _stored_pdf(principal, invoice)
    return {"url": _link(key, pdf_filename(invoice), "application/pdf"), "expires_in": LINK_SECONDS, "key": key}


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number or 'draft-' + invoice.id}.pdf"


def pdf_document(principal: Principal, invoice: Invoice) -> tuple[str, str, bytes]:
    """(S3 key, filename, bytes) of the invoice's PDF, as the link serves it (the mail room
    attaches it to the invoice email)."""
    key = _stored_pdf(principal, invoice)
    return key, pdf_filename(invoice), _s3().get_object(Bucket=get_settings().files_bucket, Key=key)["Body"].read()


def _stored_pdf(principal: Principal, invoice: Invoice) -> str:
    key = _key(principal.tenant_id, "invoices", invoice.id, f"v{invoice.version}.pdf")
    bucket = get_settings().files_bucket
    view = service.invoice_view(invoice, service.today_for(principal.tenant_id))
    try:
        _s3().head_object(Bucket=bucket, Key=key)
        stale = view["status"] == "overdue"  # a status that moved without a new version
    except _s3().exceptions.ClientError:
        stale = True
    if stale:
        branding = billing_settings.load(principal.tenant_id)["branding"] or {}
        branding.setdefault("name", tenant_name(principal.tenant_id))
        _s3().put_object(Bucket=bucket, Key=key, Body=pdf.render(view, branding), ContentType="application/pdf")
    return key


def tenant_name(tenant_id: str) -> str:
    from chalicelib.team import service as team

    return str(team.tenant_settings(tenant_id).get("name") or "Invoice")


# ---------- QuickBooks ----------


def exported_invoices(tenant_id: str, date_from: str, date_to: str, customer_id: str | None) -> list[Invoice]:
    """Finalized, sent and paid invoices issued in the period (voided and drafts are not
    exported), oldest first: Queries of the date index, filtered on status."""
    if customer_id:
        source, pk, sort = Invoice.by_customer, Invoice.customer_pk(tenant_id, customer_id), Invoice.GSI2SK
    else:
        source, pk, sort = Invoice.by_date, Invoice.list_pk(tenant_id), Invoice.GSI1SK
    read = query_reader(source, pk, sort.between(date_from, f"{date_to}#~"), Invoice.status.is_in(*EXPORTED))
    found: list[Invoice] = []
    start = None
    while True:
        page, start = read(200, start)
        found += [invoice for invoice in page if invoice.number]
        if len(found) > MAX_EXPORTED_INVOICES:
            raise validation_error("to", f"more than {MAX_EXPORTED_INVOICES} invoices: export a shorter period")
        if start is None:
            return found


def _us(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%m/%d/%Y") if iso else ""


def _qbo_rows(invoice: Invoice) -> tuple[list[list[Any]], list[list[Any]]]:
    rows, credits = [], []
    memo = " ".join(part for part in (invoice.po_number and f"PO {invoice.po_number}", invoice.notes) if part)
    for line in invoice.lines:
        if line["amount"] < 0:
            credits.append([invoice.number, invoice.customer_name, _us(invoice.issue_date), line["description"],
                            money.decimal_text(-line["amount"], invoice.currency)])
            continue
        rows.append([invoice.number, invoice.customer_name or invoice.customer_id, _us(invoice.issue_date),
                     _us(invoice.due_date), TERMS_TEXT.get(invoice.terms or "", ""), memo[:4000],
                     ITEM.get(line["kind"], "Services"), line["description"], line["quantity"],
                     money.decimal_text(line["rate"], invoice.currency),
                     money.decimal_text(line["amount"], invoice.currency), _us(line.get("service_date"))])
    return rows, credits


def qbo_files(invoices: list[Invoice]) -> dict[str, bytes]:
    """The QBO import files: invoices in files of at most 100 invoices and 1,000 rows (an
    invoice's rows never split), and credits (negative lines) in credits.csv."""
    files: list[list[list[Any]]] = [[]]
    counts = [0]
    credits: list[list[Any]] = []
    for invoice in invoices:
        rows, credit_rows = _qbo_rows(invoice)
        credits += credit_rows
        if not rows:
            continue
        if len(rows) > QBO_MAX_ROWS:
            raise validation_error("to", f"invoice {invoice.number} has more than {QBO_MAX_ROWS} lines")
        if counts[-1] + 1 > QBO_MAX_INVOICES or len(files[-1]) + len(rows) > QBO_MAX_ROWS:
            files.append([])
            counts.append(0)
        files[-1] += rows
        counts[-1] += 1
    named = {("invoices.csv" if len(files) == 1 else f"invoices-{n:03d}.csv"): _csv_bytes(QBO_COLUMNS, rows)
             for n, rows in enumerate(files, start=1)}
    if credits:
        named["credits.csv"] = _csv_bytes(CREDIT_COLUMNS, credits)
    return named


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def quickbooks_online(principal: Principal, date_from: str, date_to: str, customer_id: str | None) -> Response:
    """One CSV when it fits one file and has no credits; else a zip (kept in S3, answered as a
    303 to a short-lived link: the API never streams file bytes)."""
    files = qbo_files(exported_invoices(principal.tenant_id, date_from, date_to, customer_id))
    if list(files) == ["invoices.csv"]:
        return Response(body=files["invoices.csv"].decode("utf-8"), status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="quickbooks-online-{date_from}-{date_to}.csv"'})
    from chalicelib.core.ids import new_id

    key = _key(principal.tenant_id, "exports", f"quickbooks-online-{date_from}-{date_to}-{new_id()}.zip")
    _s3().put_object(Bucket=get_settings().files_bucket, Key=key, Body=_zip(files), ContentType="application/zip")
    url = _link(key, f"quickbooks-online-{date_from}-{date_to}.zip", "application/zip")
    return Response(body={"url": url, "expires_in": LINK_SECONDS, "files": sorted(files)}, status_code=303,
                    headers={"Location": url, "Content-Type": "application/json"})


def _iif_cell(value: Any) -> str:
    return " ".join(str(value if value is not None else "").replace('"', "'").split())


def iif_text(invoices: list[Invoice]) -> bytes:
    """IIF: one TRNS per invoice (Accounts Receivable, the total), one SPL per line (income, the
    line's amount negated), ENDTRNS; every transaction sums to zero; tab-separated, CRLF."""
    lines = ["\t".join(["!TRNS", "TRNSID", "TRNSTYPE", "DATE", "ACCNT", "NAME", "AMOUNT", "DOCNUM", "MEMO",
                        "DUEDATE", "TERMS"]),
             "\t".join(["!SPL", "SPLID", "TRNSTYPE", "DATE", "ACCNT", "NAME", "AMOUNT", "DOCNUM", "MEMO", "QNTY",
                        "PRICE", "INVITEM"]),
             "!ENDTRNS"]
    for invoice in invoices:
        name, day = _iif_cell(invoice.customer_name or invoice.customer_id), _us(invoice.issue_date)
        amount = money.decimal_text
        lines.append("\t".join(["TRNS", "", "INVOICE", day, "Accounts Receivable", name,
                                amount(int(invoice.total), invoice.currency), _iif_cell(invoice.number),
                                _iif_cell(invoice.po_number and f"PO {invoice.po_number}"), _us(invoice.due_date),
                                TERMS_TEXT.get(invoice.terms or "", "")]))
        for line in invoice.lines:
            account = "Service Credits" if line["kind"] == "credit" else "Services Income"
            lines.append("\t".join(["SPL", "", "INVOICE", day, account, name, amount(-line["amount"], invoice.currency),
                                    _iif_cell(invoice.number), _iif_cell(line["description"]),
                                    _negated(line["quantity"]),
                                    amount(line["rate"], invoice.currency), ITEM.get(line["kind"], "Service Credit")]))
        lines.append("ENDTRNS")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _negated(quantity: str) -> str:
    return quantity[1:] if quantity.startswith("-") else "-" + quantity


def quickbooks_desktop(principal: Principal, date_from: str, date_to: str) -> Response:
    body = iif_text(exported_invoices(principal.tenant_id, date_from, date_to, None))
    return Response(body=body.decode("utf-8"), status_code=200,
                    headers={"Content-Type": "text/plain; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="quickbooks-{date_from}-{date_to}.iif"'})
