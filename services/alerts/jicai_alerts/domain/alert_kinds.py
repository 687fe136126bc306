"""The kinds of decision the alerts feed lists, one per rule outcome that stays in force for a while."""
from __future__ import annotations

from enum import StrEnum


class AlertKind(StrEnum):
    """What an alert is (the rule in brackets; the notices' term beside the English).

    * ``overdue_warning`` — 预警 (R2): an invoice was not paid in full by its deadline (回款期限).
      Closed by full payment (resolution) or by the withhold that follows it.
    * ``settlement_withheld`` — 暂缓拨付 (R2): the institution's insurance settlement is withheld for an invoice
      still unpaid after the grace period. Closed by the release (paid, credited or voided).
    * ``volume_warning`` — 完成约定采购量 预警 (R3): the volume completion ratio at a period end was below the
      profile's warning line. Closed when the next period end is evaluated (each period end is judged afresh).
    * ``settlement_suspended`` — 暂停医保月结算 (R3): settlement suspended for completion below the suspension line.
      Closed by its resumption (target met, or an exemption for force majeure, 不可抗力).
    * ``non_winning_cap_exceeded`` — 非中选药品 above the cap (R4): a month's non-winning purchases of a generic group above
      the profile's cap against the winning product. Closed when the next month has ended on the business clock
      (each month is judged afresh: a month without non-winning purchases is within the cap).
    * ``filing_warning_line_exceeded`` — 备案采购金额预警线 (R7): the year's filing purchases (备案采购) passed the
      warning line. Closed when the business clock passes the year's end.
    * ``manufacturer_report_missed`` — monthly report not submitted (Hubei 003 §五(二)): a manufacturer's monthly report on production,
      supply, stock and payments received was not submitted by the due day. Closed by the late report.
    """

    OVERDUE_WARNING = "overdue_warning"
    SETTLEMENT_WITHHELD = "settlement_withheld"
    VOLUME_WARNING = "volume_warning"
    SETTLEMENT_SUSPENDED = "settlement_suspended"
    NON_WINNING_CAP_EXCEEDED = "non_winning_cap_exceeded"
    FILING_WARNING_LINE_EXCEEDED = "filing_warning_line_exceeded"
    MANUFACTURER_REPORT_MISSED = "manufacturer_report_missed"


class DecisionKind(StrEnum):
    """Every decision ``GET /decisions/{id}`` explains: the alerts' kinds, and the decisions that set a deadline
    or close an alert."""

    PAYMENT_DEADLINE = "payment_deadline"
    """回款期限 (R1): the invoice's payment deadline was set (or restarted by a credit note)."""
    OVERDUE_WARNING = AlertKind.OVERDUE_WARNING.value
    WARNING_RESOLVED = "warning_resolved"
    """R2: the warning closed by full payment within the grace period."""
    SETTLEMENT_WITHHELD = AlertKind.SETTLEMENT_WITHHELD.value
    SETTLEMENT_RELEASED = "settlement_released"
    """R2: the withhold lifted (paid, credited or voided)."""
    VOLUME_WARNING = AlertKind.VOLUME_WARNING.value
    SETTLEMENT_SUSPENDED = AlertKind.SETTLEMENT_SUSPENDED.value
    SETTLEMENT_RESUMED = "settlement_resumed"
    """R3: the suspension lifted (target met, or an exemption for force majeure, 不可抗力)."""
    NON_WINNING_CAP_EXCEEDED = AlertKind.NON_WINNING_CAP_EXCEEDED.value
    FILING_WARNING_LINE_EXCEEDED = AlertKind.FILING_WARNING_LINE_EXCEEDED.value
    MANUFACTURER_REPORT_MISSED = AlertKind.MANUFACTURER_REPORT_MISSED.value


class AlertStatus(StrEnum):
    """``open``: in force; ``closed``: lifted, resolved or superseded (``closed_on`` says when)."""

    OPEN = "open"
    CLOSED = "closed"
