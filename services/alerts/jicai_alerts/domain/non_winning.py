"""Non-winning purchases above the winning products' quantity (R4), Guizhou 000 §五(一).

"在完成中选药品采购量的基础上，各公立医疗机构剩余用量可在优先使用中选药品时，采购省平台上其他价格
适宜的品种，但采购数量不得超过中选药品的采购量。"

Period: the calendar month of the business date (按月监测, Guizhou 000 §五(四)).
Per institution × generic group and month:

* winning base units = Σ accepted_quantity × base_units_per_trading_unit of the
  accepted winning product (``DeliveryAccepted`` by ``accepted_on``; products
  listed without a generic group, or not listed, do not count);
* non-winning base units = Σ ``PurchaseRecorded.base_units`` with ``winning = false``
  (by ``purchased_on``).

A month is evaluated when the ``DayClosed`` of its last day arrives (or a later
one: one close far ahead evaluates every month end passed, oldest first, and
decides the same as closing day by day). Groups with non-winning base units are
compared: non_winning > max_ratio_to_winning × winning → ``NonWinningPurchaseCapExceeded``;
equal is allowed. The profile is the one in force for the institution's pooling
region on the month's last day; a profile without ``non_winning_cap`` evaluates
the month without a decision, as does a month before the region's R4 go-live
(``non_winning_cap_from`` in ``regions.toml``) or in a region where R4 is not live. Months are evaluated once, in order: facts dated in
a month already evaluated (or before it) arrive too late to change its decision.
"""
from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_DOWN, Decimal

from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain.volume_completion import ClosedDay
from jicai_alerts.domain.volume_periods import add_months
from jicai_policy import PolicyProfile

ZERO = Decimal(0)
BASE_UNIT_PLACES = Decimal("0.0001")
MAX_CAUSES = 50
"""At most this many purchase event ids in ``caused_by`` (``purchases_counted`` gives the total)."""

Recorded = tuple[n.NonWinningEvent, str]
ProfileFor = Callable[[str, date], PolicyProfile]
"""(pooling region, day) → the profile in force; may raise a PolicyError."""
LiveFrom = Callable[[str, date], date | None]
"""(pooling region, day) → the platform's go-live of the rule there (None: not live)."""


@dataclass(frozen=True)
class Product:
    """A winning product's group and conversion factor (from ``WinningProductTracked``)."""

    generic_group_id: str
    base_units_per_trading_unit: Decimal


@dataclass(frozen=True)
class NonWinningState:
    institution_id: str
    acceptances: dict[str, n.WinningAcceptanceCounted] = field(default_factory=dict)
    purchases: dict[str, n.NonWinningPurchaseCounted] = field(default_factory=dict)
    evaluations: tuple[n.NonWinningMonthEvaluated, ...] = ()
    decisions: tuple[n.NonWinningPurchaseCapExceeded, ...] = ()

    @property
    def last_month(self) -> date | None:
        return self.evaluations[-1].month if self.evaluations else None

    def region_on(self, day: date) -> str | None:
        """The region of the latest-dated fact up to ``day`` (else the earliest after it) that names one."""
        facts = [(a.accepted_on, a.acceptance_id, a.pooling_region_code) for a in self.acceptances.values()]
        facts += [(p.purchased_on, p.purchase_id, p.pooling_region_code) for p in self.purchases.values() if p.pooling_region_code]
        before = sorted((f for f in facts if f[0] <= day), key=lambda f: (f[0], f[1]))
        if before:
            return before[-1][2]
        after = sorted(facts, key=lambda f: (f[0], f[1]))
        return after[0][2] if after else None


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return date.fromordinal(add_months(month, 1).toordinal() - 1)


def pending_months(state: NonWinningState, day: date) -> list[date]:
    """Months with non-winning purchases, ended by ``day``, after the last evaluated month."""
    last = state.last_month
    months = {month_of(p.purchased_on) for p in state.purchases.values() if p.base_units > ZERO}
    return sorted(m for m in months if month_end(m) <= day and (last is None or m > last))


def next_month_end(state: NonWinningState) -> date | None:
    """The last day of the next month to evaluate, if any."""
    last = state.last_month
    months = sorted(
        m for m in {month_of(p.purchased_on) for p in state.purchases.values() if p.base_units > ZERO} if last is None or m > last
    )
    return month_end(months[0]) if months else None


def next_month_end_counting(
    next_end: date | None, last_month: date | None, purchase: n.NonWinningPurchaseCounted
) -> date | None:
    """``next_month_end`` once ``purchase`` is counted, from the one before and the last evaluated month:
    what refolding the stream gives, without the stream (a month evaluated already is never pending again)."""
    month = month_of(purchase.purchased_on)
    if purchase.base_units <= ZERO or (last_month is not None and month <= last_month):
        return next_end
    return month_end(month) if next_end is None else min(next_end, month_end(month))


# ---- fold -------------------------------------------------------------------------------


def fold(institution_id: str, recorded: Iterable[Recorded]) -> NonWinningState:
    """Counted facts go into the fold's own dicts (copying them per event made a long history quadratic)."""
    state = NonWinningState(institution_id)
    for event, _ in recorded:
        if isinstance(event, n.WinningAcceptanceCounted):
            state.acceptances[event.acceptance_id] = event
        elif isinstance(event, n.NonWinningPurchaseCounted):
            state.purchases[event.purchase_id] = event
        else:
            state = evolve(state, event)
    return state


def evolve(state: NonWinningState, event: n.NonWinningEvent) -> NonWinningState:
    if isinstance(event, n.WinningAcceptanceCounted):
        return replace(state, acceptances={**state.acceptances, event.acceptance_id: event})
    if isinstance(event, n.NonWinningPurchaseCounted):
        return replace(state, purchases={**state.purchases, event.purchase_id: event})
    if isinstance(event, n.NonWinningMonthEvaluated):
        return replace(state, evaluations=(*state.evaluations, event))
    return replace(state, decisions=(*state.decisions, event))


# ---- decisions --------------------------------------------------------------------------


def decide_on_product(known: n.WinningProductTracked | None, product: n.WinningProductTracked) -> list[n.WinningProductTracked]:
    """Track the product's group and factor; the same facts again record nothing (a changed listing is recorded)."""
    if known is not None and known.model_copy(update={"product_event_id": product.product_event_id}) == product:
        return []
    return [product]


def decide_on_acceptance(counted: Container[str], acceptance: n.WinningAcceptanceCounted) -> list[n.NonWinningEvent]:
    """Count the acceptance once (a HIS pushing it twice, or a republished event, counts once).

    ``counted``: the acceptance ids counted already (``state.acceptances``, or the keyed lookup of this one)."""
    return [] if acceptance.acceptance_id in counted else [acceptance]


def decide_on_purchase(counted: Container[str], purchase: n.NonWinningPurchaseCounted) -> list[n.NonWinningEvent]:
    """Count the non-winning purchase once (``counted``: the purchase ids counted already)."""
    return [] if purchase.purchase_id in counted else [purchase]


def decide_on_day_closed(
    state: NonWinningState, day: ClosedDay, products: Mapping[str, Product], profile_for: ProfileFor,
    live_from: LiveFrom | None = None,
) -> list[n.NonWinningEvent]:
    """Evaluate every pending month ended by ``day``, oldest first; a PolicyError stops before any is recorded.

    ``live_from`` (region, day) → the platform's R4 go-live there (None: not live); a month before the
    go-live's month is evaluated without a decision, as under a profile without a cap. None: always live."""
    new: list[n.NonWinningEvent] = []
    for month in pending_months(state, day.business_date):
        end = month_end(month)
        region = state.region_on(end)
        if region is None:
            return new  # no region known yet: wait (not reachable with a purchase or acceptance that names one)
        since = live_from(region, end) if live_from else date.min
        live = since is not None and month >= month_of(since)
        new += evaluate(state, month, day, products, profile_for(region, end), live)
    return new


def group_months(state: NonWinningState, month: date, products: Mapping[str, Product]) -> dict[str, tuple[Decimal, Decimal]]:
    """generic group → (winning, non-winning base units) in ``month``, for groups with non-winning base units."""
    non_winning: dict[str, Decimal] = {}
    for p in state.purchases.values():
        if month_of(p.purchased_on) == month:
            non_winning[p.generic_group_id] = non_winning.get(p.generic_group_id, ZERO) + p.base_units
    winning: dict[str, Decimal] = {}
    for a in state.acceptances.values():
        product = products.get(a.product_id)
        if product is not None and month_of(a.accepted_on) == month:
            group = product.generic_group_id
            winning[group] = winning.get(group, ZERO) + a.quantity * product.base_units_per_trading_unit
    return {
        g: (_four(winning.get(g, ZERO)), _four(units)) for g, units in sorted(non_winning.items()) if units > ZERO
    }


def _four(value: Decimal) -> Decimal:
    """Base units carry at most 4 decimal places (factors and purchases do)."""
    return value.quantize(BASE_UNIT_PLACES)


def evaluate(
    state: NonWinningState, month: date, day: ClosedDay, products: Mapping[str, Product], profile: PolicyProfile, live: bool = True
) -> list[n.NonWinningEvent]:
    cap = profile.non_winning_cap if live else None
    groups: list[n.GroupMonth] = []
    decisions: list[n.NonWinningEvent] = []
    for group, (winning, non_winning) in group_months(state, month, products).items():
        exceeded = cap is not None and non_winning > cap.max_ratio_to_winning * winning
        ratio = (non_winning / winning).quantize(Decimal("0.0001"), rounding=ROUND_DOWN) if winning > ZERO else None
        groups.append(
            n.GroupMonth(
                generic_group_id=group, winning_base_units=winning, non_winning_base_units=non_winning, ratio=ratio,
                exceeded=exceeded,
            )
        )
        if cap is None or not exceeded:
            continue
        counted = sorted(
            (p for p in state.purchases.values() if p.generic_group_id == group and month_of(p.purchased_on) == month),
            key=lambda p: (p.purchased_on, p.purchase_id),
        )
        label = month.strftime("%Y-%m")
        decisions.append(
            n.NonWinningPurchaseCapExceeded(
                decision_id=f"non-winning-{state.institution_id}-{group}-{label}", institution_id=state.institution_id,
                generic_group_id=group, month=label, winning_base_units=winning, non_winning_base_units=non_winning,
                cap_ratio=cap.max_ratio_to_winning, profile_id=profile.profile_id, profile_version=profile.version,
                caused_by=(day.event_id, *(p.purchase_event_id for p in counted[:MAX_CAUSES])),
                purchases_counted=len(counted), caused_by_truncated=len(counted) > MAX_CAUSES,
            )
        )
    evaluated = n.NonWinningMonthEvaluated(
        institution_id=state.institution_id, month=month, groups=tuple(groups),
        cap_ratio=cap.max_ratio_to_winning if cap else None,
        profile_id=profile.profile_id if cap else None, profile_version=profile.version if cap else None,
        day_closed_event_id=day.event_id,
    )
    return [evaluated, *decisions]


def month_of_label(label: str) -> date:
    """``YYYY-MM`` → the first day of that month."""
    year, month = label.split("-")
    return date(int(year), int(month), 1)
