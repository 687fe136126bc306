"""Decisions derived by the alerts service from the event stream alone.

Every decision names the policy profile (id and version) it applied and the
events that caused it, so anyone can ask "why" later.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from jicai_events.base import IntegrationEvent, integration_event
from jicai_events.types import Identifier, Money

DecisionId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
"""A decision's id: its kind and what it is about (``withhold-{invoice_id}``, ``deadline-{invoice_id}:r2``), so longer than an Identifier."""


class _Decision(IntegrationEvent):
    source_service = "alerts"
    decision_id: DecisionId
    institution_id: Identifier
    profile_id: str
    profile_version: int = Field(ge=1)
    caused_by: tuple[str, ...] = Field(min_length=1, description="ids of the events that caused this decision")

    def subject(self) -> str:
        return self.decision_id


@integration_event
class PaymentDeadlineSet(_Decision):
    """An invoice's payment deadline (回款期限) under the profile's rule R1."""

    event_name = "PaymentDeadlineSet"
    invoice_id: Identifier
    deadline: date
    rule: str


@integration_event
class PaymentOverdueWarned(_Decision):
    """An invoice was unpaid after its deadline: the institution is warned (预警)."""

    event_name = "PaymentOverdueWarned"
    invoice_id: Identifier
    deadline: date
    warned_on: date
    outstanding_amount: Money


@integration_event
class SettlementWithheld(_Decision):
    """Still unpaid after the grace working days: monthly settlement withheld (暂缓拨付)."""

    event_name = "SettlementWithheld"
    invoice_id: Identifier
    warned_on: date
    withheld_from: date
    outstanding_amount: Money


@integration_event
class SettlementReleased(_Decision):
    """The invoice behind a withhold was paid (回款后恢复拨付): the withhold is lifted."""

    event_name = "SettlementReleased"
    invoice_id: Identifier
    withhold_decision_id: DecisionId
    released_on: date
    reason: Literal["paid", "credited", "voided"] = Field(
        "paid", description="paid in full (回款); credited: credit notes left nothing owed; voided: the invoice was voided (红冲)"
    )


# ---- R3 volume completion (完成约定采购量), Guizhou 000 §五(三) ------------------------------


class _VolumeDecision(_Decision):
    period_end: date = Field(description="the last day of the period evaluated")
    ratio: Decimal = Field(ge=0, le=1, description="the institution's completion of its cumulative target, 4 decimals")


@integration_event
class VolumeCompletionWarned(_VolumeDecision):
    """Completion of the cumulative agreed volume below the profile's warning line (预警)."""

    event_name = "VolumeCompletionWarned"
    warning_below: Decimal = Field(ge=0, le=1)


@integration_event
class SettlementSuspended(_VolumeDecision):
    """Completion below the suspension line: monthly settlement suspended from the next month (自次月起暂停医保月结算)."""

    event_name = "SettlementSuspended"
    suspend_below: Decimal = Field(ge=0, le=1)
    suspended_from: date


@integration_event
class SettlementResumed(_Decision):
    """The cumulative target was met (or an exemption granted): monthly settlement resumed (恢复月结算)."""

    event_name = "SettlementResumed"
    suspension_decision_id: DecisionId
    resumed_on: date
    reason: str = Field(description="target_met | exemption")


class _Exemption(IntegrationEvent):
    source_service = "alerts"
    exemption_id: Identifier
    institution_id: Identifier

    def subject(self) -> str:
        return self.exemption_id


@integration_event
class VolumeExemptionGranted(_Exemption):
    """Operations staff exempted an institution's period ends in [from_date, to_date] (不可抗力, 另行处理)."""

    event_name = "VolumeExemptionGranted"
    reason: str = Field(min_length=1, max_length=2000)
    from_date: date
    to_date: date
    granted_by: str


@integration_event
class VolumeExemptionRevoked(_Exemption):
    """An exemption was revoked: later period ends are evaluated again."""

    event_name = "VolumeExemptionRevoked"
    reason: str = Field(min_length=1, max_length=2000)
    revoked_by: str


# ---- R4 non-winning purchases (非中选), Guizhou 000 §五(一) ----------------------------------


@integration_event
class NonWinningPurchaseCapExceeded(_Decision):
    """In one calendar month (按月监测), an institution bought more of a generic group's non-winning
    products, in the group's base unit, than ``cap_ratio`` × the winning products it accepted
    (采购数量不得超过中选药品的采购量). Equal is allowed."""

    event_name = "NonWinningPurchaseCapExceeded"
    decision_id: str = Field(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="non-winning-{institution}-{group}-{YYYY-MM}",
    )
    generic_group_id: Identifier
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="the calendar month evaluated, YYYY-MM")
    winning_base_units: Decimal = Field(ge=0, description="accepted winning quantity × base units per trading unit")
    non_winning_base_units: Decimal = Field(ge=0, description="base units of non-winning purchases in the month")
    cap_ratio: Decimal = Field(ge=0, description="the profile's max_ratio_to_winning")
    purchases_counted: int = Field(ge=1, description="non-winning purchases counted in the month")
    caused_by_truncated: bool = Field(
        False, description="true when caused_by lists only the DayClosed and the first 50 purchase events of purchases_counted"
    )


# ---- R7 monitoring (监测考核): filing purchases, Liangjiang 002 §二(三) ------------------------


@integration_event
class FilingPurchaseWarningLineExceeded(_Decision):
    """The institution's filing purchases (备案采购) of a year went over the amount warning line (预警线).
    Equal is allowed. One decision per institution and year."""

    event_name = "FilingPurchaseWarningLineExceeded"
    year: int = Field(ge=2000, le=2100)
    exceeded_on: date = Field(description="purchase date of the filing that took the year over the line")
    filing_amount: Money = Field(description="the year's filing purchases up to and including that filing")
    warning_line: Money
    line_source: str = Field(description="profile (the notice's line) | institution (set by the bureau for the institution)")


# ---- manufacturers' monthly report (生产、供应、库存、回款情况), Hubei 003 §五(二) -------------------


@integration_event
class ManufacturerReportMissed(IntegrationEvent):
    """A manufacturer with a contract in a region whose profile requires the monthly report had not
    reported on the previous month when the due day (每月5日前) had passed."""

    event_name = "ManufacturerReportMissed"
    source_service = "alerts"
    decision_id: DecisionId = Field(description="manufacturer-report-{manufacturer}-{YYYY-MM}")
    manufacturer_id: Identifier
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="the month the report is on, YYYY-MM")
    due_on: date = Field(description="the last day to report (the profile's due_day_of_month of the next month)")
    profile_id: str
    profile_version: int = Field(ge=1)
    caused_by: tuple[str, ...] = Field(min_length=1, description="the DayClosed after the due day and the contracts requiring the report")

    def subject(self) -> str:
        return self.decision_id

    def partition_key(self) -> str:
        return self.manufacturer_id


@integration_event
class ManufacturerReportMissClosed(IntegrationEvent):
    """The late report arrived (``ManufacturerReportSubmitted``): the missed-report decision is closed."""

    event_name = "ManufacturerReportMissClosed"
    source_service = "alerts"
    decision_id: DecisionId
    manufacturer_id: Identifier
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    submitted_on: date
    report_event_id: str

    def subject(self) -> str:
        return self.decision_id

    def partition_key(self) -> str:
        return self.manufacturer_id
