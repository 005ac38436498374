"""A minimal, dependency-free PDF 1.4 writer for invoices: Helvetica (a standard font, no
embedding), WinAnsi text, a coloured header bar, the lines as a table across as many A4 pages
as they need, totals, terms and notes."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from . import money

WIDTH, HEIGHT, MARGIN = 595, 842, 50
ROWS_PER_PAGE = 38


def _text(value: Any) -> str:
    """A PDF string literal's content: WinAnsi (cp1252) only, parentheses and backslashes escaped."""
    raw = str(value if value is not None else "").replace("\r", " ").replace("\n", " ")
    safe = raw.encode("cp1252", "replace").decode("cp1252")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _colour(hex_colour: str | None) -> str:
    value = (hex_colour or "#1f4e79").lstrip("#")
    red, green, blue = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return f"{red:.3f} {green:.3f} {blue:.3f}"


@dataclass
class _Page:
    ops: list[str] = field(default_factory=list)

    def text(self, x: float, y: float, value: Any, size: int = 10, bold: bool = False, right: bool = False) -> None:
        content = _text(value)
        if right:  # Helvetica averages ~0.5 em per character: close enough to right-align figures
            x -= len(content) * size * 0.5
        font = "F2" if bold else "F1"
        self.ops.append(f"BT /{font} {size} Tf {x:.1f} {y:.1f} Td ({content}) Tj ET")

    def bar(self, colour: str, y: float, height: float) -> None:
        self.ops.append(f"{colour} rg 0 {y:.1f} {WIDTH} {height:.1f} re f 0 0 0 rg")

    def rule(self, y: float) -> None:
        self.ops.append(f"0.6 w {MARGIN} {y:.1f} m {WIDTH - MARGIN} {y:.1f} l S")


def render(invoice: dict[str, Any], branding: dict[str, Any]) -> bytes:
    """The invoice (its view, service.invoice_view) as a PDF document."""
    currency = invoice["currency"]

    def amount(value: int) -> str:
        return f"{money.decimal_text(value, currency)} {currency}"

    rows = []
    for line in invoice["lines"]:
        wrapped = textwrap.wrap(line["description"], 58) or [""]
        rows.append((wrapped[0], line["quantity"], money.decimal_text(line["rate"], currency),
                     money.decimal_text(line["amount"], currency)))
        rows += [(extra, "", "", "") for extra in wrapped[1:3]]
    chunks = [rows[i:i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        page = _Page()
        page.bar(_colour(branding.get("color")), HEIGHT - 90, 90)
        page.ops.append("1 1 1 rg")
        page.text(MARGIN, HEIGHT - 50, branding.get("name") or "Invoice", 20, bold=True)
        page.text(WIDTH - MARGIN, HEIGHT - 50, "INVOICE" if invoice["number"] else "DRAFT INVOICE", 16, True, True)
        page.ops.append("0 0 0 rg")
        y = HEIGHT - 115
        if number == 1:
            for text in textwrap.wrap(branding.get("address") or "", 60)[:3] + ([branding["email"]] if branding.get(
                    "email") else []):
                page.text(MARGIN, y, text, 9)
                y -= 12
            facts = [("Invoice", invoice["number"] or "draft (no number)"), ("Status", invoice["status"]),
                     ("Bill to", invoice["customer_name"] or invoice["customer_id"]),
                     ("Period", f"{invoice['from']} to {invoice['to']}"), ("Issued", invoice["issue_date"] or "-"),
                     ("Due", invoice["due_date"] or "-"), ("Terms", (invoice["terms"] or "-").replace("_", " ")),
                     ("PO", invoice["po_number"] or "-")]
            y -= 6
            for label, value in facts:
                page.text(MARGIN, y, label, 9, bold=True)
                page.text(MARGIN + 70, y, value, 9)
                y -= 13
            y -= 8
        page.text(MARGIN, y, "Description", 9, bold=True)
        page.text(380, y, "Qty (h)", 9, bold=True, right=True)
        page.text(460, y, "Rate", 9, bold=True, right=True)
        page.text(WIDTH - MARGIN, y, "Amount", 9, bold=True, right=True)
        y -= 6
        page.rule(y)
        y -= 13
        for description, quantity, rate, line_amount in chunk:
            page.text(MARGIN, y, description, 9)
            page.text(380, y, quantity, 9, right=True)
            page.text(460, y, rate, 9, right=True)
            page.text(WIDTH - MARGIN, y, line_amount, 9, right=True)
            y -= 13
        if number == len(chunks):
            page.rule(y + 4)
            y -= 10
            for label, value in (("Total", invoice["total"]), ("Paid", invoice["amount_paid"]),
                                 ("Balance due", invoice["balance"])):
                page.text(400, y, label, 10, bold=True)
                page.text(WIDTH - MARGIN, y, amount(value), 10, bold=label != "Paid", right=True)
                y -= 14
            for text in textwrap.wrap(invoice["notes"] or "", 95)[:6]:
                page.text(MARGIN, y, text, 9)
                y -= 12
            if invoice["status"] == "void":
                page.ops.append("0.8 0 0 rg")
                page.text(200, 400, "VOID", 72, bold=True)
        page.text(WIDTH - MARGIN, 30, f"Page {number} of {len(chunks)}", 8, right=True)
        pages.append("\n".join(page.ops).encode("cp1252", "replace"))
    return _document(pages, f"Invoice {invoice['number'] or invoice['id']}")


def _document(contents: list[bytes], title: str) -> bytes:
    objects: list[bytes] = []
    page_ids = [5 + 2 * i for i in range(len(contents))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {len(contents)} >>"
                   .encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    for index, content in enumerate(contents):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
                       f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {page_ids[index] + 1} 0 R >>"
                       .encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(f"<< /Title ({_text(title)}) /Producer (BlueHill) >>".encode("cp1252", "replace"))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, len(objects), xref))
    return bytes(out)
