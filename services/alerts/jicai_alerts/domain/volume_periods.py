"""Period and target arithmetic of volume completion (R3): period ends counted from each agreement year's start,
cumulative targets agreed × k / n, acceptances net of returns by date, the weighted ratio capped per product, and
the day a cumulative target was met."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.volume_state import TargetYear, VolumeState

ONE = Decimal(1)
ZERO = Decimal(0)
RATIO_PLACES = Decimal("0.0001")
MONTHS_PER_PERIOD = {"quarter": 3}
DEFAULT_MONTHS = 3


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def first_of_next_month(day: date) -> date:
    return add_months(day.replace(day=1), 1)


def _span(target: TargetYear | v.ContractTracked) -> TargetYear:
    if isinstance(target, TargetYear):
        return target
    c = target
    return TargetYear(c.contract_id, c.product_id, c.cycle_start, c.cycle_end, c.agreed_quantity, c.unit_price, None, c.contract_event_id)


def period_ends(target: TargetYear | v.ContractTracked, months: int = DEFAULT_MONTHS) -> list[date]:
    """The last day of each period of the agreement year (or cycle), counted from its start."""
    span = _span(target)
    ends: list[date] = []
    k = 1
    while True:
        end = add_months(span.start, months * k) - timedelta(days=1)
        if end >= span.end:
            ends.append(span.end)
            return ends
        ends.append(end)
        k += 1


def cumulative_target(target: TargetYear | v.ContractTracked, day: date, months: int = DEFAULT_MONTHS) -> Decimal:
    """agreed (in force on ``day``) × k / n: k periods of n ended by ``day``."""
    span = _span(target)
    ends = period_ends(span, months)
    k = sum(1 for end in ends if end <= day)
    return Decimal(span.agreed_on(day)) * k / len(ends)


def accepted_by(state: VolumeState, contract_id: str, day: date, since: date = date.min) -> int:
    """Accepted from ``since`` to ``day`` (by ``accepted_on``), less what was returned of them by ``day``."""
    total = 0
    for a in state.acceptances.values():
        if a.contract_id == contract_id and since <= a.accepted_on <= day:
            returned = sum(r.quantity for r in state.returns.values() if r.acceptance_id == a.acceptance_id and r.returned_on <= day)
            total += max(0, a.quantity - returned)
    return total


def completion(state: VolumeState, day: date, months: int = DEFAULT_MONTHS) -> tuple[Decimal, tuple[v.ContractCompletion, ...]]:
    """The institution's ratio at ``day`` (rounded down to 4 places) and each contract's part.

    Contracts count whose agreement year (or cycle) holds ``day`` and one of whose periods has ended by it.
    Σ weight × min(1, accepted / target): over-buying one drug never hides another.
    """
    parts: list[tuple[TargetYear, Decimal, int]] = []
    for contract_id in state.contract_ids:
        year = state.target_year(contract_id, day)
        if year is None:
            continue
        target = cumulative_target(year, day, months)
        if target > ZERO:
            parts.append((year, target, accepted_by(state, contract_id, day, year.start)))
    total = sum((target * y.unit_price for y, target, _ in parts), ZERO)
    lines: list[v.ContractCompletion] = []
    ratio = ZERO if total > ZERO else ONE
    for y, target, accepted in parts:
        capped = min(ONE, Decimal(accepted) / target)
        weight = target * y.unit_price / total if total > ZERO else ZERO
        ratio += weight * capped
        lines.append(
            v.ContractCompletion(
                contract_id=y.contract_id, product_id=y.product_id, target_quantity=_q(target, "0.01"),
                accepted_quantity=accepted, target_amount=_q(target * y.unit_price, "0.01"),
                accepted_amount=_q(accepted * y.unit_price, "0.01"), ratio=_q(capped), weight=_q(weight),
                agreement_id=y.agreement_id, counted_from=y.start if y.agreement_id else None, agreed_quantity=y.agreed_on(day),
            )
        )
    return _q(min(ratio, ONE)), tuple(lines)


def _q(value: Decimal, places: str = "0.0001") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_DOWN)


def met_on(state: VolumeState, evaluation: v.PeriodEvaluated, until: date = date.max) -> date | None:
    """The date from which the evaluated cumulative targets were all met (and stayed met up to ``until``),
    counting acceptances and returns by date."""
    latest = evaluation.period_end
    for line in evaluation.contracts:
        since = line.counted_from or date.min
        days = sorted(
            {a.accepted_on for a in state.acceptances.values() if a.contract_id == line.contract_id and since <= a.accepted_on <= until}
            | {r.returned_on for r in state.returns.values() if r.contract_id == line.contract_id and since <= r.returned_on <= until}
        )
        reached: date | None = None
        for day in days:
            met = accepted_by(state, line.contract_id, day, since) >= line.target_quantity
            reached = (reached or day) if met else None
        if reached is None:
            return None
        latest = max(latest, reached)
    return latest


def year_end_counts(state: VolumeState, year: int) -> list[tuple[TargetYear, int, int]]:
    """Each agreement year (or, without agreements, cycle) ending in ``year``: the agreed volume in force at its end
    and the quantity accepted within it (less returns), counted up to the agreed volume (Guizhou §五(五))."""
    counts: list[tuple[TargetYear, int, int]] = []
    for contract_id in state.contract_ids:
        for y in state.target_years(contract_id):
            if y.end.year == year:
                agreed = y.agreed_on(y.end)
                counts.append((y, agreed, min(agreed, accepted_by(state, contract_id, y.end, y.start))))
    return counts


def institution_period_ends(state: VolumeState, months: int = DEFAULT_MONTHS) -> list[date]:
    return sorted({end for c in state.contract_ids for y in state.target_years(c) for end in period_ends(y, months)})


def pending_period_ends(state: VolumeState, day: date, since: date = date.min, months: int = DEFAULT_MONTHS) -> list[date]:
    """Period ends from ``since`` up to ``day`` not evaluated yet (never before the last evaluated one)."""
    last = state.last_evaluation.event.period_end if state.last_evaluation else None
    return [
        end for end in institution_period_ends(state, months) if since <= end <= day and (last is None or end > last)
    ]


def next_period_end(state: VolumeState, months: int = DEFAULT_MONTHS) -> date | None:
    """The next period end to evaluate (a deployment's ``since`` may skip some: they are skipped at the close)."""
    last = state.last_evaluation.event.period_end if state.last_evaluation else None
    return next((end for end in institution_period_ends(state, months) if last is None or end > last), None)
