"""Paying on time: the payment deadline (回款期限, R1), the overdue warning and the withheld settlement (预警 → 暂缓拨付, R2)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from jicai_policy.sections.common import Basis, Section, SourceRef, check_basis


class PaymentTermRule(StrEnum):
    """How the payment deadline (回款期限) is counted (rule R1)."""

    LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS = "later_of_acceptance_and_invoice_plus_days"
    """Guizhou: N days from the later of acceptance (验收合格) and invoice receipt (收到发票)."""
    ACCEPTANCE_PLUS_DAYS = "acceptance_plus_days"
    """Hubei: N days from acceptance / warehouse entry (入库)."""
    END_OF_MONTH_AFTER_ACCEPTANCE = "end_of_month_after_acceptance"
    """Liangjiang: by the end of the month after acceptance (交货验收合格后的次月底)."""


class PaymentTerm(Section):
    """Payment deadline rule (回款期限, R1)."""

    rule: PaymentTermRule
    days: int | None = Field(default=None, ge=1, le=366, description="N of the '+ N days' rules")
    source: SourceRef
    basis: Basis = Basis.NOTICE
    basis_reason: str | None = Field(default=None, description="why a platform default stands in for the notice")
    credit_note_restarts_clock: bool = Field(
        default=False,
        description="a credit note (红冲) counts as the corrected invoice's receipt: the deadline is counted again from its receipt date",
    )

    @model_validator(mode="after")
    def _days_match_rule(self) -> PaymentTerm:
        check_basis(self.basis, self.basis_reason)
        if self.rule is PaymentTermRule.END_OF_MONTH_AFTER_ACCEPTANCE:
            if self.days is not None:
                raise ValueError(f"rule {self.rule.value!r} takes no 'days'")
        elif self.days is None:
            raise ValueError(f"rule {self.rule.value!r} needs 'days'")
        if self.credit_note_restarts_clock and self.rule is not PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS:
            raise ValueError(
                f"'credit_note_restarts_clock' needs a rule counting from invoice receipt "
                f"({PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS.value!r}), not {self.rule.value!r}"
            )
        return self


class WarningSchedule(StrEnum):
    """When the overdue warning (预警) goes out (rule R2)."""

    FIRST_OVERDUE_DAY = "first_overdue_day"
    """At once: on the first day after the payment deadline."""
    MONTHLY_MONITORING = "monthly_monitoring"
    """With the monthly monitoring (按月预警), on a fixed day of the following month."""


class OverduePolicy(Section):
    """Warning then withheld settlement (预警 → 暂缓拨付, R2).

    ``withhold_enabled = false`` (a notice without a withhold): overdue
    invoices are still warned about, but no withhold follows; such a file
    must not give ``grace_working_days`` (it reads as 0 and means nothing).
    """

    withhold_enabled: bool = Field(default=True, description="whether an unpaid overdue invoice leads to a withhold")
    grace_working_days: int = Field(
        default=0,
        ge=0,
        le=60,
        description="working days after the warning before settlement is withheld (required when withhold_enabled)",
    )
    warning_schedule: WarningSchedule
    monitoring_day_of_month: int | None = Field(
        default=None,
        ge=1,
        le=28,
        description="day of the month of the monthly monitoring",
    )
    source: SourceRef
    basis: Basis = Basis.NOTICE
    basis_reason: str | None = None

    @model_validator(mode="after")
    def _monitoring_day_matches_schedule(self) -> OverduePolicy:
        check_basis(self.basis, self.basis_reason)
        given = "grace_working_days" in self.model_fields_set
        if self.withhold_enabled and not given:
            raise ValueError("withhold_enabled needs 'grace_working_days'")
        if not self.withhold_enabled and given:
            raise ValueError("'grace_working_days' only applies when withhold_enabled is true")
        monthly = self.warning_schedule is WarningSchedule.MONTHLY_MONITORING
        if monthly and self.monitoring_day_of_month is None:
            raise ValueError("warning_schedule 'monthly_monitoring' needs 'monitoring_day_of_month'")
        if not monthly and self.monitoring_day_of_month is not None:
            raise ValueError(
                f"'monitoring_day_of_month' only applies to 'monthly_monitoring', not to {self.warning_schedule.value!r}"
            )
        return self
