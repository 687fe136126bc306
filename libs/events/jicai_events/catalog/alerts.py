"""Decisions derived by the alerts service from the event stream alone.

Every decision names the policy profile (id and version) it applied and the
events that caused it, so anyone can ask "why" later.
"""
from __future__ import annotations

from datetime import date

from pydantic import Field

from jicai_events.base import IntegrationEvent, integration_event
from jicai_events.types import Identifier, Money


class _Decision(IntegrationEvent):
    source_service = "alerts"
    decision_id: Identifier
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
    withhold_decision_id: Identifier
    released_on: date
