"""Monthly monitoring indicators (监测考核, R7) as pure functions of a month's facts, per profile:
Guizhou 000 §五(四), Hubei 003 §五(二), Chongqing 004 §二(八), Liangjiang 002 §五(四) and §二(三); Shandong
monitors none. October 2026 (National Day holidays 10-01..10-08 do not matter: months are calendar months).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import kpis
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.non_winning import Product
from jicai_policy import PolicyBook
from jicai_policy.sections.monitoring import Kpi
from tests.unit.alerts.test_volume_completion_decisions import book

__all__ = ["book"]
OCTOBER = date(2026, 10, 1)


def bought(fact_id: str, amount: str, *, winning: bool = True, channel: str = "platform", units: str | None = None,
           product: str = "P1", quantity: int = 10) -> k.PurchaseCounted:
    return k.PurchaseCounted(
        fact_id=fact_id, institution_id="H001", pooling_region_code="520100", product_id=product, winning=winning,
        channel=channel, on=date(2026, 10, 15), quantity=quantity, amount=Decimal(amount),  # type: ignore[arg-type]
        generic_group_id="G1" if units is not None else None, base_units=Decimal(units) if units is not None else None,
        event_id=f"evt-{fact_id}",
    )


def line(contract_id: str, target: str, accepted: str) -> v.ContractCompletion:
    return v.ContractCompletion(
        contract_id=contract_id, product_id="P1", target_quantity=Decimal(target), accepted_quantity=int(Decimal(accepted)),
        target_amount=Decimal(target) * 10, accepted_amount=Decimal(accepted) * 10, ratio=Decimal("0"), weight=Decimal("0"),
    )


FACTS = kpis.MonthFacts(
    institution_id="H001", month=OCTOBER,
    # C1 over-bought (capped at its target), C2 at half: (1000 + 500) / 2000 amount
    volume=(line("C1", "100", "150"), line("C2", "100", "50")),
    # due in October: paid in full on the deadline, paid late (after it), partly paid: 1 of 3
    invoices_due=(
        kpis.InvoiceDue("I1", date(2026, 10, 9), Decimal("100.00"), Decimal("100.00")),
        kpis.InvoiceDue("I2", date(2026, 10, 31), Decimal("100.00"), Decimal("0.00")),
        kpis.InvoiceDue("I3", date(2026, 10, 20), Decimal("100.00"), Decimal("99.99")),
    ),
    # an acceptance of P1 (10 boxes × 7 片 = 70), a winning offline purchase of 30 片, a non-winning one of 50 片,
    # and an acceptance of a product listed without a group (not in the share)
    purchases=(
        bought("acceptance:A1", "700.00"), bought("purchase:W1", "300.00", channel="offline", units="30"),
        bought("purchase:N1", "500.00", winning=False, units="50"), bought("acceptance:A2", "500.00", product="P9"),
    ),
    filings=(k.FilingCounted(filing_id="F1", institution_id="H001", pooling_region_code="500099", amount=Decimal("1200.00"),
                             purchased_on=date(2026, 10, 3), event_id="evt-F1"),),
    filing_year_to_date=Decimal("5200.00"), warning_line=Decimal("5000.00"),
    products={"P1": Product("G1", Decimal("7"))},
)
EXPECTED = {
    Kpi.VOLUME_COMPLETION: (Decimal("0.7500"), Decimal("1500"), Decimal("2000")),
    Kpi.ON_TIME_PAYMENT_RATE: (Decimal("0.3333"), Decimal("1"), Decimal("3")),
    Kpi.NON_WINNING_SHARE: (Decimal("0.3333"), Decimal("50"), Decimal("150")),
    Kpi.OFFLINE_PURCHASE_SHARE: (Decimal("0.1500"), Decimal("300.00"), Decimal("2000.00")),
    Kpi.FILING_PURCHASE_AMOUNT: (Decimal("1200.00"), Decimal("1200.00"), None),
}


@pytest.mark.parametrize(
    ("region", "indicators"),
    [
        pytest.param("520100", [Kpi.VOLUME_COMPLETION, Kpi.ON_TIME_PAYMENT_RATE, Kpi.NON_WINNING_SHARE], id="guizhou 000 §五(四)"),
        pytest.param("420100", [Kpi.VOLUME_COMPLETION, Kpi.ON_TIME_PAYMENT_RATE, Kpi.NON_WINNING_SHARE], id="hubei 003 §五(二)"),
        pytest.param("500000", [Kpi.VOLUME_COMPLETION, Kpi.ON_TIME_PAYMENT_RATE], id="chongqing 004 §二(八)"),
        pytest.param(
            "500099",
            [Kpi.VOLUME_COMPLETION, Kpi.ON_TIME_PAYMENT_RATE, Kpi.NON_WINNING_SHARE, Kpi.OFFLINE_PURCHASE_SHARE, Kpi.FILING_PURCHASE_AMOUNT],
            id="liangjiang 002 §五(四)",
        ),
        pytest.param("370100", [], id="shandong: no monitoring indicators"),
    ],
)
def test_each_profile_gives_the_indicators_it_lists_that_the_events_can_tell(book: PolicyBook, region: str, indicators: list[Kpi]) -> None:
    profile = book.profile_for(region, on=date(2026, 10, 31))
    listed = [i for i in profile.kpis.indicators if i in kpis.COMPUTED] if profile.kpis else []

    values = kpis.compute(FACTS, listed)

    assert [x.indicator for x in values] == indicators
    assert {x.indicator: (x.value, x.numerator, x.denominator) for x in values} == {i: EXPECTED[i] for i in indicators}


def test_the_filing_amount_shows_the_year_to_date_against_the_line() -> None:
    [filing] = kpis.compute(FACTS, [Kpi.FILING_PURCHASE_AMOUNT])
    assert (filing.year_to_date, filing.warning_line) == (Decimal("5200.00"), Decimal("5000.00"))


def test_nothing_to_count_gives_no_value_not_zero() -> None:
    values = kpis.compute(kpis.MonthFacts(institution_id="H001", month=OCTOBER), [Kpi.VOLUME_COMPLETION, Kpi.ON_TIME_PAYMENT_RATE])
    assert [(x.value, x.denominator) for x in values] == [(None, Decimal(0)), (None, Decimal(0))]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param("desc", [(1, "H2"), (1, "H3"), (3, "H1"), (None, "H4")], id="desc: equal values share a rank"),
        pytest.param("asc", [(1, "H1"), (2, "H2"), (2, "H3"), (None, "H4")], id="asc: no value stays last"),
    ],
)
def test_ranking(order: str, expected: list[tuple[int | None, str]]) -> None:
    def value(x: str | None) -> kpis.KpiValue:
        return kpis.KpiValue(Kpi.ON_TIME_PAYMENT_RATE, Decimal(x) if x else None, Decimal(0), Decimal(0))

    values = [("H3", value("0.9000")), ("H1", value("0.5000")), ("H4", value(None)), ("H2", value("0.9000"))]
    assert [(r, i) for r, i, _ in kpis.rank(values, order)] == expected  # type: ignore[arg-type]


def test_a_region_aggregates_numerators_and_denominators_not_ratios() -> None:
    """1 of 1 and 0 of 3 on-time: the region is 1 / 4, not the mean of 1 and 0."""
    values = [kpis.KpiValue(Kpi.ON_TIME_PAYMENT_RATE, None, Decimal(1), Decimal(1)), kpis.KpiValue(Kpi.ON_TIME_PAYMENT_RATE, None, Decimal(0), Decimal(3))]
    assert kpis.aggregate(Kpi.ON_TIME_PAYMENT_RATE, values).value == Decimal("0.2500")


# ---- filing-purchase warning line, Liangjiang 002 §二(三): "设置医疗机构药品备案采购金额预警线" -------------


def filing(filing_id: str, amount: str, on: date) -> tuple[k.FilingCounted, str]:
    return k.FilingCounted(filing_id=filing_id, institution_id="H001", pooling_region_code="500099", amount=Decimal(amount),
                           purchased_on=on, event_id=f"evt-{filing_id}"), f"stored-{filing_id}"


def line_set(amount: str, from_year: int = 2026) -> tuple[k.FilingWarningLineSet, str]:
    return k.FilingWarningLineSet(institution_id="H001", amount=Decimal(amount), from_year=from_year, set_by="ops", reason="局定"), "stored-line"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param([filing("F1", "6000.00", date(2026, 3, 2))], [], id="liangjiang sets the line per institution: none set, no decision"),
        pytest.param([line_set("5000.00"), filing("F1", "3000.00", date(2026, 3, 2)), filing("F2", "2000.00", date(2026, 5, 6))],
                     [], id="equal to the line is allowed"),
        pytest.param(
            [line_set("5000.00"), filing("F1", "3000.00", date(2026, 3, 2)), filing("F2", "2000.01", date(2026, 5, 6)),
             filing("F3", "100.00", date(2026, 6, 1))],
            [("filing-warning-H001-2026", date(2026, 5, 6), Decimal("5000.01"), ("stored-line", "evt-F1", "evt-F2"))],
            id="over the line on the filing that crossed it",
        ),
        pytest.param([line_set("5000.00", 2027), filing("F1", "6000.00", date(2026, 3, 2))], [], id="a line from 2027 does not apply to 2026"),
    ],
)
def test_the_year_going_over_the_warning_line_is_decided_once(book: PolicyBook, given: list[kpis.Recorded], expected: list[tuple[object, ...]]) -> None:
    state = kpis.fold("H001", given)

    decided = kpis.decide_warning_lines(state, lambda region, on: book.profile_for(region, on=on))

    assert [(d.decision_id, d.exceeded_on, d.filing_amount, d.caused_by) for d in decided] == expected  # type: ignore[union-attr]
    assert all(d.profile_id == "chongqing-liangjiang-2023" for d in decided)  # type: ignore[union-attr]
    recorded = kpis.fold("H001", [*given, *((d, "stored-decision") for d in decided)])
    assert kpis.decide_warning_lines(recorded, lambda region, on: book.profile_for(region, on=on)) == []


def test_a_profile_without_a_filing_warning_line_never_decides(book: PolicyBook) -> None:
    """Guizhou has no filing_purchase section: an institution line alone raises nothing."""
    f = k.FilingCounted(filing_id="F1", institution_id="H001", pooling_region_code="520100", amount=Decimal("9000.00"),
                        purchased_on=date(2026, 3, 2), event_id="e")
    state = kpis.fold("H001", [line_set("5000.00"), (f, "s")])
    assert kpis.decide_warning_lines(state, lambda region, on: book.profile_for(region, on=on)) == []
