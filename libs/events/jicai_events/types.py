"""Value types shared by every event contract.

Money is exact: yuan with 2 decimal places, unit prices up to 4. Both travel
as JSON strings so no consumer ever parses them into a float. Business dates
are plain dates in Asia/Shanghai; timestamps always carry a time zone.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, PlainSerializer

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def _exact(places: int):  # type: ignore[no-untyped-def]
    quantum = Decimal(1).scaleb(-places)

    def check(value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite number")
        if value != value.quantize(quantum):
            raise ValueError(f"must have at most {places} decimal places")
        return value.quantize(quantum)

    return check


_as_string = PlainSerializer(lambda v: str(v), return_type=str, when_used="json")

Money = Annotated[
    Decimal, Field(ge=0, max_digits=16), AfterValidator(_exact(2)), _as_string
]
"""Amount in yuan (元), exact to the fen, never negative."""

UnitPrice = Annotated[
    Decimal, Field(gt=0, max_digits=14), AfterValidator(_exact(4)), _as_string
]
"""Price per unit in yuan, up to 4 decimal places (中选价格)."""

Quantity = Annotated[int, Field(ge=0, le=10**12)]
"""A count of the product's trading unit (e.g. boxes)."""

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
"""A business identifier chosen by the platform that owns the record."""
