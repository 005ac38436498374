"""The tenant's billing settings: the invoice number format, default terms, branding on the PDF,
and SLA service-credit rules per customer tier. (Rounding when invoicing is a time setting,
PUT /time/settings, read through billing/time_source.py.)"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, validation_error
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso

from .models import BillingSettings

DEFAULT_FORMAT = "INV-{YYYY}-{seq:04}"
DEFAULTS: dict[str, Any] = {"number_format": DEFAULT_FORMAT, "credit_rules": [], "default_terms": "net_30",
                            "branding": {}}
TERMS_DAYS = {"due_on_receipt": 0, "net_15": 15, "net_30": 30, "net_45": 45, "net_60": 60}
_PLACEHOLDER = re.compile(r"\{(YYYY|YY|MM|seq(?::0([1-9]))?)\}")
_LITERAL = re.compile(r"^[A-Za-z0-9_\-/.]*$")


def check_number_format(text: str) -> str:
    """A format has one `{seq}` (or `{seq:0N}`), optional `{YYYY}`, `{YY}`, `{MM}`, and
    otherwise letters, digits and `-_/.`."""
    seqs = [m for m in _PLACEHOLDER.finditer(text) if m.group(1).startswith("seq")]
    if len(seqs) != 1:
        raise ValueError("must contain {seq} (or {seq:0N}) exactly once")
    if not _LITERAL.match(_PLACEHOLDER.sub("", text)):
        raise ValueError("may hold only letters, digits, - _ / . besides {YYYY} {YY} {MM} {seq:0N}")
    return text


def series_of(number_format: str, on: date) -> str:
    """The series a number belongs to: the format with its date filled in (a new year starts a
    new series under the default format)."""
    values = {"YYYY": f"{on.year:04d}", "YY": f"{on.year % 100:02d}", "MM": f"{on.month:02d}"}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), number_format)


def render_number(series: str, seq: int) -> str:
    def fill(m: re.Match[str]) -> str:
        width = int(m.group(2) or 0)
        return f"{seq:0{width}d}" if width else str(seq)

    return _PLACEHOLDER.sub(fill, series)


def load(tenant_id: str) -> dict[str, Any]:
    try:
        item = BillingSettings.get(BillingSettings.pk(tenant_id), BillingSettings.SORT)
    except BillingSettings.DoesNotExist:
        return {**DEFAULTS, "version": 0}
    return {"number_format": item.number_format, "credit_rules": item.credit_rules,
            "default_terms": item.default_terms, "branding": item.branding or {}, "version": item.version}


def replace(principal: Principal, fields: dict[str, Any], expected_version: int) -> dict[str, Any]:
    """Replace the settings (version-checked: 0 for a tenant that never set them)."""
    require(principal, "invoices:settings")
    tenant, now = principal.tenant_id, now_iso()
    tiers = [(rule["tier"], rule["target"]) for rule in fields["credit_rules"]]
    if len(tiers) != len(set(tiers)):
        raise validation_error("credit_rules", "one rule per tier and target")
    item = BillingSettings(BillingSettings.pk(tenant), BillingSettings.SORT, type="BillingSettings", tenant_id=tenant,
                           version=expected_version + 1, created_at=now, updated_at=now, **fields)
    condition = (BillingSettings.PK.does_not_exist() if expected_version == 0
                 else BillingSettings.version == expected_version)
    tx = Transaction()
    tx.put(item, condition, lambda: Conflict(f"version {expected_version} of the billing settings is stale"))
    tx.commit()
    return load(tenant)
