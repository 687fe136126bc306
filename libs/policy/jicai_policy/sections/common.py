"""What every section of a policy profile shares: frozen models, shares, source references, the basis of its numbers."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Ratio = Annotated[Decimal, Field(ge=0, le=1, description="a share between 0 and 1")]
SourceRef = Annotated[
    str,
    Field(
        min_length=1,
        description="seed file and section, e.g. '000_0b8eb23f70a351bf.txt §五(三)'",
    ),
]


class Section(BaseModel):
    """A section of a profile: frozen, and a file naming an unknown field is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Basis(StrEnum):
    """Where a section's numbers come from."""

    NOTICE = "notice"
    """The notice states them (the default)."""
    PLATFORM_DEFAULT = "platform_default"
    """The notice gives no number; the platform's default applies (``basis_reason`` says why)."""


def check_basis(basis: Basis, reason: str | None) -> None:
    if basis is Basis.PLATFORM_DEFAULT and not (reason and reason.strip()):
        raise ValueError("basis 'platform_default' needs 'basis_reason'")
    if basis is Basis.NOTICE and reason is not None:
        raise ValueError("'basis_reason' only applies to basis 'platform_default'")
