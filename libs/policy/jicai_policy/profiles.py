"""Regional policy profiles: the numbers and rule choices of one regional notice.

Each profile transcribes one source notice (``/work/shared/seeds``); every
section cites the paragraph it comes from. Where notices differ, the
difference is a field here, never a branch in service code. Profiles are
versioned: a changed notice becomes a new ``version`` of the profile, and the
region mapping (``regions.toml``) says from which date it applies.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from jicai_policy.sections.common import Section, SourceRef
from jicai_policy.sections.fund import DirectSettlement, PaymentStandard, Prepayment
from jicai_policy.sections.monitoring import Kpis, ManufacturerReport
from jicai_policy.sections.payment import OverduePolicy, PaymentTerm
from jicai_policy.sections.procurement import Allocation, CycleRules, FilingPurchase, NonWinningCap, VolumeCompletion


class PolicyProfile(Section):
    """One version of one region's policy (e.g. ``guizhou-2020`` version 1)."""

    profile_id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    source: SourceRef
    timezone: Literal["Asia/Shanghai"]
    payment_term: PaymentTerm
    overdue: OverduePolicy
    volume_completion: VolumeCompletion | None = None
    prepayment: Prepayment | None = None
    non_winning_cap: NonWinningCap | None = None
    direct_settlement: DirectSettlement | None = None
    payment_standard: PaymentStandard | None = None
    allocation: Allocation | None = None
    cycle: CycleRules | None = None
    filing_purchase: FilingPurchase | None = None
    kpis: Kpis | None = None
    manufacturer_report: ManufacturerReport | None = None

    @property
    def key(self) -> tuple[str, int]:
        """``(profile_id, version)``: what events and records should store."""
        return (self.profile_id, self.version)
