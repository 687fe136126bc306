"""Policy changes an operator makes on the running system (the procurement office's side, written by the
contracts service), on the shared policy topic that every service folds over the packaged profiles
(``jicai_policy.changes``): a region's profile assignment, a rule's go-live in a region, a calendar year.

One partition, one key: every service reads the changes in the order they were made.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from jicai_events.base import IntegrationEvent, integration_event

POLICY_KEY = "policy"

GoLiveRule = Literal["volume_completion_from", "non_winning_cap_from", "manufacturer_report_from"]
"""R3 volume completion, R4 non-winning cap, manufacturers' monthly reports."""


class _PolicyEvent(IntegrationEvent):
    source_service = "policy"

    def partition_key(self) -> str:
        return POLICY_KEY


@integration_event
class RegionProfileAssigned(_PolicyEvent):
    """From ``effective_from`` on, pooling region (统筹区) ``region_code`` follows profile ``profile_id`` at ``version``."""

    event_name = "RegionProfileAssigned"
    region_code: str = Field(pattern=r"^[1-9]\d{5}$", description="6-digit administrative division code (or a platform-reserved one)")
    region_name: str = Field(min_length=1, max_length=200)
    profile_id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    version: int = Field(ge=1)
    effective_from: date
    source: str = Field(min_length=1, max_length=500, description="the notice the assignment follows")
    assigned_by: str = Field(min_length=1, max_length=64)

    def subject(self) -> str:
        return f"{self.region_code}/{self.effective_from.isoformat()}"


@integration_event
class RuleGoLiveSet(_PolicyEvent):
    """The platform decides ``rule`` in region ``region_code`` from ``go_live`` on (null: withdrawn before it was
    reached; the region falls back to the packaged ``regions.toml``)."""

    event_name = "RuleGoLiveSet"
    region_code: str = Field(pattern=r"^[1-9]\d{5}$")
    rule: GoLiveRule
    go_live: date | None
    source: str = Field(min_length=1, max_length=500, description="why (e.g. the platform holds every acceptance since …)")
    set_by: str = Field(min_length=1, max_length=64)

    def subject(self) -> str:
        return f"{self.region_code}/{self.rule}"


@integration_event
class CalendarYearLoaded(_PolicyEvent):
    """The working-day calendar (工作日安排) of ``year``: rest days and make-up working days (调休上班), from the State
    Council's notice (国务院办公厅关于部分节假日安排的通知)."""

    event_name = "CalendarYearLoaded"
    year: int = Field(ge=1949, le=2200)
    source: str = Field(min_length=1, max_length=500)
    holidays: tuple[date, ...]
    makeup_working_days: tuple[date, ...] = ()
    loaded_by: str = Field(min_length=1, max_length=64)

    def subject(self) -> str:
        return str(self.year)
