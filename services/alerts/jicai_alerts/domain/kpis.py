"""Monthly monitoring indicators (监测考核指标, R7): Liangjiang 002 §五(四), Hubei 003 §五(二), Guizhou 000 §五(四).

Pure functions over one institution's facts of one calendar month (按月监测); the
same events always give the same values. Only the indicators the profile in force
for the institution's pooling region on the month's last day lists
(``kpis.indicators``) are given, and of those only the ones the event stream can
tell: volume completion, on-time payment rate, non-winning share, offline
purchase share and filing-purchase amount. Every ratio is numerator / denominator
rounded down to 4 places, null when the denominator is 0.

* ``volume_completion``: Σ min(accepted, target) amount / Σ target amount over the
  contracts at the month's last day, the agreement year's volume split evenly over
  its months and cumulated (the month-by-month counterpart of R3's quarters, same
  products capped at 100%, amendments and returns counted as in R3).
* ``on_time_payment_rate``: invoices whose payment deadline (回款期限, R1) fell in the
  month and that were paid in full by it (payments dated on or before the deadline)
  / invoices whose deadline fell in the month. Counted in invoices, not amounts.
* ``non_winning_share``: non-winning base units / all base units bought in the
  month of the generic groups (winning acceptances converted with the product's
  factor, recorded winning and non-winning purchases); products without a group do
  not count.
* ``offline_purchase_share``: offline amount / all amount of the month's acceptances
  and recorded purchases (``channel``), filing purchases apart.
* ``filing_purchase_amount``: the month's filing purchases (备案采购) in yuan; also
  the year's amount to the month's end and the warning line in force.
"""
from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.non_winning import Product, month_end
from jicai_policy import PolicyProfile
from jicai_policy.sections.monitoring import Kpi

ZERO = Decimal(0)
RATIO_PLACES = Decimal("0.0001")
MAX_CAUSES = 50
COMPUTED: tuple[Kpi, ...] = (
    Kpi.VOLUME_COMPLETION, Kpi.ON_TIME_PAYMENT_RATE, Kpi.NON_WINNING_SHARE, Kpi.OFFLINE_PURCHASE_SHARE, Kpi.FILING_PURCHASE_AMOUNT,
)
"""The indicators the event stream can tell; the others of a profile (drug cost growth, violations, ...) are not computed."""

Recorded = tuple[k.KpiEvent, str]
ProfileFor = Callable[[str, date], PolicyProfile]
"""(pooling region, day) → the profile in force; may raise a PolicyError."""


@dataclass(frozen=True)
class InvoiceDue:
    """An invoice whose payment deadline falls in the month, and what was paid by that deadline."""

    invoice_id: str
    deadline: date
    amount: Decimal
    paid_by_deadline: Decimal


@dataclass(frozen=True)
class MonthFacts:
    """What one institution's indicators of one month are computed from."""

    institution_id: str
    month: date
    """The month's first day."""
    volume: tuple[v.ContractCompletion, ...] = ()
    invoices_due: tuple[InvoiceDue, ...] = ()
    purchases: tuple[k.PurchaseCounted, ...] = ()
    filings: tuple[k.FilingCounted, ...] = ()
    filing_year_to_date: Decimal = ZERO
    warning_line: Decimal | None = None
    products: Mapping[str, Product] = field(default_factory=dict)


@dataclass(frozen=True)
class KpiValue:
    indicator: Kpi
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal | None
    year_to_date: Decimal | None = None
    """filing_purchase_amount only: the year's filing amount up to the month's end."""
    warning_line: Decimal | None = None
    """filing_purchase_amount only: the line in force (null: none set)."""


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return (numerator / denominator).quantize(RATIO_PLACES, rounding=ROUND_DOWN) if denominator > ZERO else None


def _ratio_value(indicator: Kpi, numerator: Decimal, denominator: Decimal) -> KpiValue:
    return KpiValue(indicator, ratio(numerator, denominator), numerator, denominator)


def base_units(purchase: k.PurchaseCounted, products: Mapping[str, Product]) -> tuple[str, Decimal] | None:
    """The purchase's generic group and base units (acceptances converted by the product's listing), if it has a group."""
    if purchase.generic_group_id is not None and purchase.base_units is not None:
        return purchase.generic_group_id, purchase.base_units
    product = products.get(purchase.product_id)
    if product is None:
        return None
    return product.generic_group_id, purchase.quantity * product.base_units_per_trading_unit


def compute(facts: MonthFacts, indicators: Iterable[Kpi]) -> list[KpiValue]:
    """The month's values of ``indicators`` that can be computed, in the profile's order."""
    values: list[KpiValue] = []
    for indicator in indicators:
        if indicator is Kpi.VOLUME_COMPLETION:
            target = sum((line.target_amount for line in facts.volume), ZERO)
            met = sum((min(line.accepted_amount, line.target_amount) for line in facts.volume), ZERO)
            values.append(_ratio_value(indicator, met, target))
        elif indicator is Kpi.ON_TIME_PAYMENT_RATE:
            on_time = sum(1 for i in facts.invoices_due if i.paid_by_deadline >= i.amount)
            values.append(_ratio_value(indicator, Decimal(on_time), Decimal(len(facts.invoices_due))))
        elif indicator is Kpi.NON_WINNING_SHARE:
            counted = [(p, base_units(p, facts.products)) for p in facts.purchases]
            grouped = [(p, units[1]) for p, units in counted if units is not None]
            non_winning = sum((units for p, units in grouped if not p.winning), ZERO)
            values.append(_ratio_value(indicator, non_winning, sum((units for _, units in grouped), ZERO)))
        elif indicator is Kpi.OFFLINE_PURCHASE_SHARE:
            offline = sum((p.amount for p in facts.purchases if p.channel == "offline"), ZERO)
            values.append(_ratio_value(indicator, offline, sum((p.amount for p in facts.purchases), ZERO)))
        elif indicator is Kpi.FILING_PURCHASE_AMOUNT:
            amount = sum((f.amount for f in facts.filings), ZERO)
            values.append(KpiValue(indicator, amount, amount, None, facts.filing_year_to_date, facts.warning_line))
    return values


def aggregate(indicator: Kpi, values: Sequence[KpiValue]) -> KpiValue:
    """A pooling region's value: Σ numerators / Σ denominators of its institutions (amounts: their sum)."""
    numerator = sum((x.numerator for x in values), ZERO)
    if indicator is Kpi.FILING_PURCHASE_AMOUNT:
        return KpiValue(indicator, numerator, numerator, None, sum((x.year_to_date or ZERO for x in values), ZERO))
    return _ratio_value(indicator, numerator, sum((x.denominator or ZERO for x in values), ZERO))


def rank(values: Sequence[tuple[str, KpiValue]], order: Literal["asc", "desc"]) -> list[tuple[int | None, str, KpiValue]]:
    """Standard competition ranking (1, 2, 2, 4) by value; equal values by institution id; no value: last, unranked."""
    known = sorted((x for x in values if x[1].value is not None), key=lambda x: x[0])
    known.sort(key=lambda x: x[1].value or ZERO, reverse=order == "desc")
    ranked: list[tuple[int | None, str, KpiValue]] = []
    for position, (institution_id, value) in enumerate(known, start=1):
        same = ranked and ranked[-1][2].value == value.value
        ranked.append((ranked[-1][0] if same else position, institution_id, value))
    return ranked + [(None, i, x) for i, x in sorted(values, key=lambda x: x[0]) if x.value is None]


# ---- filing-purchase warning line (备案采购金额预警线), Liangjiang 002 §二(三) ----------------------


@dataclass(frozen=True)
class KpiState:
    institution_id: str
    purchases: dict[str, k.PurchaseCounted] = field(default_factory=dict)
    filings: dict[str, tuple[k.FilingCounted, str]] = field(default_factory=dict)
    lines: tuple[tuple[k.FilingWarningLineSet, str], ...] = ()
    decisions: dict[str, k.FilingWarningLineExceeded] = field(default_factory=dict)

    def purchases_in(self, month: date) -> tuple[k.PurchaseCounted, ...]:
        return tuple(sorted((p for p in self.purchases.values() if month <= p.on <= month_end(month)), key=lambda p: (p.on, p.fact_id)))

    def filings_between(self, first: date, last: date) -> list[tuple[k.FilingCounted, str]]:
        return sorted((f for f in self.filings.values() if first <= f[0].purchased_on <= last), key=lambda f: (f[0].purchased_on, f[0].filing_id))

    def region_on(self, day: date) -> str | None:
        """The region of the latest-dated fact up to ``day`` (else the earliest after it) that names one."""
        facts = [(p.on, p.fact_id, p.pooling_region_code) for p in self.purchases.values() if p.pooling_region_code]
        facts += [(f.purchased_on, f.filing_id, f.pooling_region_code) for f, _ in self.filings.values()]
        before = sorted(f for f in facts if f[0] <= day)
        return before[-1][2] if before else (min(facts)[2] if facts else None)

    def institution_line(self, year: int) -> tuple[k.FilingWarningLineSet, str] | None:
        """The line the bureau set for the institution, in force for ``year`` (the latest set from a year ≤ it)."""
        return next((x for x in reversed(self.lines) if x[0].from_year <= year), None)


def fold(institution_id: str, recorded: Iterable[Recorded]) -> KpiState:
    """Counted facts go into the fold's own dicts (copying them per event made a long history quadratic)."""
    state = KpiState(institution_id)
    for event, event_id in recorded:
        if isinstance(event, k.PurchaseCounted):
            state.purchases[event.fact_id] = event
        elif isinstance(event, k.FilingCounted):
            state.filings[event.filing_id] = (event, event_id)
        elif isinstance(event, k.FilingWarningLineSet):
            state = replace(state, lines=(*state.lines, (event, event_id)))
        else:
            state = replace(state, decisions={**state.decisions, event.decision_id: event})
    return state


def warning_line(state: KpiState, year: int, profile: PolicyProfile) -> tuple[Decimal, Literal["profile", "institution"], str | None] | None:
    """The line in force for ``year``: the institution's when the bureau set one, else the profile's;
    none when the profile has no filing-purchase warning line (预警线) at all."""
    rule = profile.filing_purchase
    if rule is None or not rule.warning_line_enabled:
        return None
    own = state.institution_line(year)
    if own is not None:
        return own[0].amount, "institution", own[1]
    return (rule.amount_warning_line, "profile", None) if rule.amount_warning_line is not None else None


def decide_on_purchase(counted: Container[str], purchase: k.PurchaseCounted) -> list[k.KpiEvent]:
    """Count the purchase fact once (``counted``: the fact ids counted already)."""
    return [] if purchase.fact_id in counted else [purchase]


def decide_on_filing(state: KpiState, filing: k.FilingCounted) -> list[k.KpiEvent]:
    return [] if filing.filing_id in state.filings else [filing]


def decide_on_line(state: KpiState, line: k.FilingWarningLineSet) -> list[k.KpiEvent]:
    """Record the line; the same line again records nothing."""
    known = state.institution_line(line.from_year)
    same = known is not None and known[0].from_year == line.from_year and known[0].amount == line.amount
    return [] if same else [line]


def decide_warning_lines(state: KpiState, profile_for: ProfileFor) -> list[k.KpiEvent]:
    """Each year whose filing amount went over the line in force gets one decision, on the day the
    filing that crossed it was bought (filings counted by ``purchased_on``; equal to the line is allowed)."""
    new: list[k.KpiEvent] = []
    for year in sorted({f.purchased_on.year for f, _ in state.filings.values()}):
        decision_id = f"filing-warning-{state.institution_id}-{year}"
        if decision_id in state.decisions:
            continue
        total = ZERO
        counted: list[str] = []
        for filing, _ in state.filings_between(date(year, 1, 1), date(year, 12, 31)):
            total += filing.amount
            counted.append(filing.event_id)
            profile = profile_for(filing.pooling_region_code, filing.purchased_on)
            line = warning_line(state, year, profile)
            if line is None or total <= line[0]:
                continue
            causes = ([line[2]] if line[2] else []) + counted[-MAX_CAUSES:]
            new.append(
                k.FilingWarningLineExceeded(
                    decision_id=decision_id, institution_id=state.institution_id, profile_id=profile.profile_id,
                    profile_version=profile.version, caused_by=tuple(causes), year=year, exceeded_on=filing.purchased_on,
                    filing_amount=total, warning_line=line[0], line_source=line[1],
                )
            )
            break
    return new

