"""CSV downloads that open in Excel as they are: UTF-8 with a byte-order mark, `\\r\\n` line
ends, a header row, and no formula injection (a cell beginning with `=`, `+`, `-`, `@`, a tab
or a carriage return is prefixed with `'`, OWASP's advice, so Excel shows it as text).

Any room's route may answer one (`?format=csv` on a list, an export): `csv_response(...)`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from chalice import Response

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One cell's text: None is empty, booleans are true/false, numbers as they are (a negative
    number stays a number), text starting like a formula is escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole file: BOM, header, rows, CRLF line ends, fields quoted where they must be."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return BOM + out.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    return Response(body=csv_text(header, rows), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })
