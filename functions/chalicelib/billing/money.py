"""Invoice money, exact: integer minor units, integer minutes, no float anywhere.

- A time line's amount is its rounded minutes times its hourly rate (minor units per hour),
  divided by 60 once, rounded half up to the minor unit: `line_amount`.
- Rounding of worked minutes (increment 1, 6, 10, 15 or 30; `up` | `nearest` | `down`: the
  time room's rule, timekeeping.rules.round_minutes) is applied per entry when invoicing,
  never to the entries themselves (billing/lines.py).
- A credit is a share (basis points) of a base amount, rounded half up: `share`.
- The total is the sum of the lines shown: `total`.
"""

from __future__ import annotations

from collections.abc import Iterable

# ISO 4217 minor-unit exponents that are not 2 (everything else has cents).
_EXPONENTS = {"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
              "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
              "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4}


def exponent(currency: str) -> int:
    """Digits after the decimal point of `currency`'s minor unit."""
    return _EXPONENTS.get(currency.upper(), 2)


def _div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    quotient, rest = divmod(abs(numerator), abs(denominator))
    return sign * (quotient + (1 if 2 * rest >= abs(denominator) else 0))


def line_amount(minutes: int, hourly_rate: int) -> int:
    """The amount of `minutes` at `hourly_rate` (minor units per hour), rounded once."""
    return _div_half_up(minutes * hourly_rate, 60)


def share(base: int, basis_points: int) -> int:
    """`basis_points`/10000 of `base`, rounded once (5% is 500)."""
    return _div_half_up(base * basis_points, 10_000)


def total(amounts: Iterable[int]) -> int:
    return sum(amounts, 0)


def hours(minutes: int) -> str:
    """Minutes as decimal hours for people and spreadsheets: exact where it terminates within
    four places (90 → "1.5"), else to four places half up (10 → "0.1667")."""
    sign = "-" if minutes < 0 else ""
    scaled = _div_half_up(abs(minutes) * 10_000, 60)
    whole, fraction = divmod(scaled, 10_000)
    text = f"{whole}.{fraction:04d}".rstrip("0").rstrip(".")
    return sign + text


def decimal_text(amount: int, currency: str) -> str:
    """Minor units as a plain decimal in the currency's major unit (1234 USD → "12.34")."""
    places = exponent(currency)
    sign = "-" if amount < 0 else ""
    if places == 0:
        return f"{sign}{abs(amount)}"
    whole, fraction = divmod(abs(amount), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def percent_text(basis_points: int) -> str:
    """Basis points as a percent without float: 500 → "5", 250 → "2.5", 1 → "0.01"."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")
