"""Money arithmetic shared by acceptances and invoices (pure).

A line's amount is quantity × unit price rounded to the fen (2 places) with
ROUND_HALF_UP (四舍五入), the way Chinese invoices round; sums add the
rounded line amounts, so an invoice total is exactly the sum of its lines.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
LARGEST_AMOUNT = Decimal("99999999999999.99")
"""The largest amount an integration event can carry (Money: 16 digits, 2 after the point)."""


def line_amount(quantity: int, unit_price: Decimal) -> Decimal:
    """quantity × unit_price, rounded to the fen, half up."""
    return (Decimal(quantity) * unit_price).quantize(FEN, rounding=ROUND_HALF_UP)
