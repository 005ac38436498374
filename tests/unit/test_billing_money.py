"""Invoice money with hypothesis: integer minor units, the sum of the lines is the total, one
rounding per line, credits a capped share; the PDF writer and the QuickBooks files parse back."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from types import SimpleNamespace

from chalicelib.billing import exports, lines, money, pdf
from chalicelib.timekeeping.rules import round_minutes
from hypothesis import given
from hypothesis import strategies as st


@dataclass
class Entry:
    id: str
    user_id: str
    customer_id: str
    project_id: str | None
    task_id: str | None
    date: str
    minutes: int
    rate: int
    currency: str
    category: str


entries = st.lists(st.builds(
    Entry, id=st.uuids().map(lambda u: u.hex), user_id=st.sampled_from(["u1", "u2", "u3"]), customer_id=st.just("c"),
    project_id=st.sampled_from(["p1", "p2", None]), task_id=st.sampled_from(["t1", "t2", None]),
    date=st.dates().map(lambda d: d.isoformat()), minutes=st.integers(0, 24 * 60),
    rate=st.integers(0, 10**7), currency=st.just("USD"), category=st.sampled_from(["support", "qbr"])),
    max_size=60)
group_bys = st.sampled_from(list(lines.GROUP_FIELDS))
roundings = st.builds(lines.Rounding, st.sampled_from([1, 6, 10, 15, 30]), st.sampled_from(["up", "nearest", "down"]))


@given(entries, group_bys, roundings)
def test_the_sum_of_the_lines_is_the_total_and_every_amount_is_an_integer(found, group_by, rounding):
    drafted = lines.time_lines(found, group_by, rounding)
    assert lines.invoice_total(drafted) == sum(line["amount"] for line in drafted)
    assert all(type(line["amount"]) is int and type(line["rate"]) is int for line in drafted)
    assert sorted(lines.entry_ids(drafted)) == sorted(e.id for e in found)  # every entry on exactly one line
    for line in drafted:
        assert line["amount"] == money.line_amount(line["minutes"], line["rate"])
        assert line["minutes"] % rounding.increment == 0


@given(entries, group_bys, roundings)
def test_a_line_rounds_once_never_worse_than_half_a_minor_unit(found, group_by, rounding):
    for line in lines.time_lines(found, group_by, rounding):
        exact_times_60 = line["minutes"] * line["rate"]
        assert abs(line["amount"] * 60 - exact_times_60) <= 30


@given(st.integers(0, 10**6), st.sampled_from([1, 6, 10, 15, 30]))
def test_rounding_modes_bracket_the_minutes(minutes, increment):
    down, up = round_minutes(minutes, increment, "down"), round_minutes(minutes, increment, "up")
    nearest = round_minutes(minutes, increment, "nearest")
    assert down <= minutes <= up and up - down in (0, increment) and nearest in (down, up)


@given(st.integers(0, 10**12), st.integers(1, 10_000), st.integers(1, 10_000), st.integers(0, 40))
def test_a_service_credit_is_the_capped_share_exactly(base, per_breach, cap, breaches):
    rule = {"tier": "enterprise", "target": "resolution", "percent_per_breach_bp": per_breach, "cap_percent_bp": cap}
    if not breaches:
        return
    found = [{"ticket_id": f"t{n % 5}", "target": "resolution", "at": "2026-06-01T00:00:00Z"} for n in range(breaches)]
    line = lines.credit_line(rule, found, base)
    points = min(per_breach * breaches, cap)
    assert line["amount"] == -money.share(base, points) and line["amount"] <= 0
    assert abs(-line["amount"] * 10_000 - base * points) <= 5_000
    assert line["credit"]["tickets"] == sorted({b["ticket_id"] for b in found})


def test_credits_follow_the_base_when_lines_change():
    rule = {"tier": "gold", "target": "resolution", "percent_per_breach_bp": 500, "cap_percent_bp": 2000}
    fee = lines.manual_line("Fee", 1, 100_000, None)
    credit = lines.credit_line(rule, [{"ticket_id": "t1", "target": "resolution", "at": "x"}] * 5, 100_000)
    assert credit["amount"] == -20_000  # 5 breaches x 5% capped at 20%
    again = lines.with_credits_recomputed([fee, lines.manual_line("More", 2, 25_000, None), credit])
    assert again[-1]["amount"] == -30_000 and lines.invoice_total(again) == 120_000


def test_minor_units_follow_the_currency():
    assert money.decimal_text(123456, "USD") == "1234.56"
    assert money.decimal_text(-5, "EUR") == "-0.05"
    assert money.decimal_text(1234, "JPY") == "1234"
    assert money.decimal_text(1234, "KWD") == "1.234"
    assert money.hours(90) == "1.5" and money.hours(10) == "0.1667" and money.hours(0) == "0"
    assert money.percent_text(500) == "5" and money.percent_text(250) == "2.5" and money.percent_text(1) == "0.01"


def _invoice(number: str, line_list: list[dict], **extra) -> SimpleNamespace:
    return SimpleNamespace(id="inv" + number, number=number, customer_id="c1", customer_name="Acme, Inc.",
                           issue_date="2026-07-01", due_date="2026-07-31", terms="net_30", po_number="PO-1",
                           notes="=HYPERLINK(\"x\")", currency="USD", lines=line_list,
                           total=lines.invoice_total(line_list), **extra)


def _time_line(amount_minutes: int, rate: int, description: str = "Time: project") -> dict:
    return {"id": "l", "kind": "time", "description": description, "minutes": amount_minutes,
            "quantity": money.hours(amount_minutes), "rate": rate, "amount": money.line_amount(amount_minutes, rate),
            "entry_ids": ["e"], "service_date": "2026-06-30"}


def test_quickbooks_online_files_parse_back_with_limits_and_no_negative_lines():
    credit = lines.credit_line({"tier": "gold", "target": "resolution", "percent_per_breach_bp": 500,
                                "cap_percent_bp": 2000}, [{"ticket_id": "t1", "target": "resolution", "at": "x"}],
                               15_000)
    invoices = [_invoice(f"INV-2026-{n:04d}", [_time_line(90, 10_000), _time_line(30, 10_000, "-rm -rf"), credit])
                for n in range(1, 121)]
    files = exports.qbo_files(invoices)
    assert sorted(files) == ["credits.csv", "invoices-001.csv", "invoices-002.csv"]
    seen = set()
    for name in ("invoices-001.csv", "invoices-002.csv"):
        body = files[name]
        assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        assert list(rows[0]) == exports.QBO_COLUMNS
        numbers = {row["InvoiceNo"] for row in rows}
        assert len(numbers) <= 100 and len(rows) <= 1000 and not numbers & seen
        seen |= numbers
        assert all(not row["ItemAmount"].startswith("-") for row in rows)
        assert rows[0]["InvoiceDate"] == "07/01/2026" and rows[0]["DueDate"] == "07/31/2026"
        assert rows[0]["Terms"] == "Net 30" and rows[0]["ItemQuantity"] == "1.5" and rows[0]["ItemAmount"] == "150.00"
        assert rows[1]["ItemDescription"] == "'-rm -rf" and rows[0]["Memo"].startswith("PO PO-1")
    assert len(seen) == 120
    credits = list(csv.DictReader(io.StringIO(files["credits.csv"].decode("utf-8-sig"))))
    assert len(credits) == 120 and credits[0]["Amount"] == "7.50"


def test_quickbooks_online_splits_at_1000_rows_without_splitting_an_invoice():
    invoices = [_invoice(f"N{n}", [_time_line(60, 100)] * 300) for n in range(4)]
    files = exports.qbo_files(invoices)
    sizes = [len(list(csv.DictReader(io.StringIO(files[name].decode("utf-8-sig"))))) for name in sorted(files)]
    assert sizes == [900, 300]


def test_iif_parses_back_and_every_transaction_sums_to_zero():
    credit = lines.credit_line({"tier": "gold", "target": "resolution", "percent_per_breach_bp": 500,
                                "cap_percent_bp": 2000}, [{"ticket_id": "t1", "target": "resolution", "at": "x"}],
                               16_667)
    invoices = [_invoice("INV-1", [_time_line(100, 10_001), credit]), _invoice("INV-2", [_time_line(7, 333)])]
    text = exports.iif_text(invoices).decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = [line.split("\t") for line in text.split("\r\n") if line]
    assert rows[0][0] == "!TRNS" and rows[1][0] == "!SPL" and rows[2] == ["!ENDTRNS"]
    headers = {rows[0][0][1:]: rows[0], rows[1][0][1:]: rows[1]}
    transactions, current = [], None
    for row in rows[3:]:
        record = dict(zip(headers.get(row[0], [row[0]]), row, strict=False))
        if row[0] == "TRNS":
            current = [record]
        elif row[0] == "SPL":
            current.append(record)
        else:
            transactions.append(current)
    assert len(transactions) == 2
    for trns, *splits in transactions:
        assert trns["ACCNT"] == "Accounts Receivable" and not trns["AMOUNT"].startswith("-")
        cents = [round(float(r["AMOUNT"]) * 100) for r in [trns, *splits]]  # parse-back check only
        assert sum(cents) == 0
        assert all(r["ACCNT"] in ("Services Income", "Service Credits") for r in splits)


def test_the_pdf_is_a_well_formed_document_with_the_invoice_on_it():
    view = {"id": "i1", "number": "INV-2026-0007", "status": "finalized", "customer_id": "c", "currency": "EUR",
            "customer_name": "Café (Zürich) \\ AG", "from": "2026-06-01", "to": "2026-06-30",
            "issue_date": "2026-07-01", "due_date": "2026-07-31", "terms": "net_30", "po_number": None,
            "notes": "Thank you", "lines": [_time_line(90, 12_000, f"Line {n}") for n in range(50)],
            "total": 50 * 18_000,
            "amount_paid": 0, "balance": 50 * 18_000}
    document = pdf.render(view, {"name": "Acme Consulting", "color": "#aa3300", "address": "1 Main St"})
    assert document.startswith(b"%PDF-1.4") and document.rstrip().endswith(b"%%EOF")
    start = int(document.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert document[start:start + 4] == b"xref"
    count = int(document[start:].split(b"\n")[1].split()[1])
    offsets = [int(line[:10]) for line in document[start:].split(b"\n")[3:2 + count]]
    for number, offset in enumerate(offsets, start=1):
        assert document[offset:].startswith(b"%d 0 obj" % number)
    assert b"/Count 2" in document  # 50 lines: two pages
    assert b"INV-2026-0007" in document and b"(Z\xfcrich\\)" in document and b"9000.00 EUR" in document
