"""Yearly agreements (采购协议每年一签, Hubei 003 §二(三), Guizhou 000 §四(三)): years, amendments, reallocations, roll-overs."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_contracts.domain import agreement as ag
from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import ContractsEvent, ContractSigned, ReallocatedVolume, YearlyAgreementAmended, YearlyAgreementRolledOver


def _signed(contract_id: str = "C1", institution_id: str = "H1", quantity: int = 1200, end: date = date(2027, 12, 31)) -> ContractSigned:
    return ContractSigned(contract_id=contract_id, institution_id=institution_id, pooling_region_code="420100", manufacturer_id="M1",
                          distributor_id="D1", product_id="P1", unit_price=Decimal("1.9800"), agreed_quantity=quantity,
                          cycle_start=date(2026, 1, 1), cycle_end=end, signed_on=date(2025, 12, 20))


@pytest.mark.parametrize(
    ("start", "end", "year", "bounds"),
    [
        (date(2026, 1, 1), date(2027, 12, 31), 1, (date(2026, 1, 1), date(2026, 12, 31))),
        (date(2026, 1, 1), date(2027, 12, 31), 2, (date(2027, 1, 1), date(2027, 12, 31))),
        (date(2026, 3, 1), date(2026, 12, 31), 1, (date(2026, 3, 1), date(2026, 12, 31))),  # a short cycle cuts year 1
        (date(2026, 7, 1), date(2028, 6, 30), 2, (date(2027, 7, 1), date(2028, 6, 30))),
    ],
)
def test_an_agreement_year_runs_from_an_anniversary_of_the_cycle_start_cut_at_the_cycle_end(
    start: date, end: date, year: int, bounds: tuple[date, date]
) -> None:
    assert ag.year_bounds(start, end, year) == bounds


def test_signing_a_contract_signs_year_one_with_its_agreed_volume() -> None:
    first = ag.first_year(_signed())
    assert (first.agreement_id, first.agreement_year, first.year_start, first.year_end, first.agreed_quantity) == (
        "C1-y1", 1, date(2026, 1, 1), date(2026, 12, 31), 1200)


@pytest.mark.parametrize(("agreed", "accepted", "returned", "owed"), [(1200, 0, 0, 1200), (1200, 500, 100, 800), (1200, 1300, 0, 0)])
def test_volume_still_owed_is_agreed_less_net_accepted_never_negative(agreed: int, accepted: int, returned: int, owed: int) -> None:
    assert ag.owed(agreed, accepted, returned) == owed


def test_an_amendment_may_not_go_below_what_is_accepted_and_a_retry_records_nothing() -> None:
    history: list[ContractsEvent] = [ag.first_year(_signed())]
    with pytest.raises(DomainRuleViolated) as err:
        ag.amend(history, "C1-y1", 399, date(2026, 6, 1), "需求下降", net_accepted=400)
    assert err.value.field == "agreed_quantity" and "400 already accepted" in err.value.reason
    [amended] = ag.amend(history, "C1-y1", 400, date(2026, 6, 1), "需求下降", net_accepted=400)
    assert isinstance(amended, YearlyAgreementAmended) and (amended.previous_agreed_quantity, amended.agreed_quantity) == (1200, 400)
    assert ag.amend([*history, amended], "C1-y1", 400, date(2026, 6, 1), "需求下降", net_accepted=400) == []
    with pytest.raises(DomainRuleViolated):
        ag.amend([*history, amended], "C1-y1", 400, date(2026, 6, 2), "再次", net_accepted=400)  # nothing would change


def _agreements(*quantities: int) -> dict[str, ag.Agreement]:
    return {f"C{n}-y1": ag.state([ag.first_year(_signed(f"C{n}", f"H{n}", q))], f"C{n}-y1") for n, q in enumerate(quantities, 1)}


def _reallocation(*lines: tuple[str, int]) -> ag.Reallocate:
    return ag.Reallocate("R1", date(2026, 6, 1), "任务量调剂", tuple(ReallocatedVolume(agreement_id=a, agreed_quantity=q) for a, q in lines))


def test_a_reallocation_moves_volume_between_institutions_keeping_the_total() -> None:
    agreements = _agreements(1000, 600, 400)
    cmd = _reallocation(("C1-y1", 800), ("C2-y1", 700), ("C3-y1", 500))
    record, amendments = ag.reallocate([], cmd, agreements, {"C1-y1": 800, "C2-y1": 0, "C3-y1": 0})
    assert [(a, e.previous_agreed_quantity, e.agreed_quantity, e.reallocation_id) for a, e in amendments.items()] == [
        ("C1-y1", 1000, 800, "R1"), ("C2-y1", 600, 700, "R1"), ("C3-y1", 400, 500, "R1")]
    assert sum(e.agreed_quantity for e in amendments.values()) == 2000
    assert ag.reallocate(record, cmd, agreements, {}) == ([], {})  # the same reallocation again
    with pytest.raises(AlreadyExists):
        ag.reallocate(record, _reallocation(("C1-y1", 900), ("C2-y1", 600), ("C3-y1", 500)), agreements, {})


def test_an_unchanged_line_of_a_reallocation_is_not_amended() -> None:
    _, amendments = ag.reallocate([], _reallocation(("C1-y1", 900), ("C2-y1", 700), ("C3-y1", 400)), _agreements(1000, 600, 400),
                                  dict.fromkeys(("C1-y1", "C2-y1", "C3-y1"), 0))
    assert sorted(amendments) == ["C1-y1", "C2-y1"]


@pytest.mark.parametrize(
    ("lines", "accepted", "field", "reason"),
    [
        ((("C1-y1", 800), ("C2-y1", 900)), 0, "lines", "add up to 1700, not the 1600"),
        ((("C1-y1", 500), ("C2-y1", 1100)), 600, "lines[0].agreed_quantity", "600 already accepted on C1-y1"),
        ((("C1-y1", 1600),), 0, "lines", "at least two"),
        ((("C1-y1", 800), ("C1-y1", 800)), 0, "lines", "at least two different"),
        ((("C1-y1", 800), ("C9-y1", 800)), 0, "lines[1].agreement_id", "no yearly agreement C9-y1"),
    ],
)
def test_a_reallocation_that_changes_the_total_or_goes_below_acceptances_is_refused_naming_the_line(
    lines: tuple[tuple[str, int], ...], accepted: int, field: str, reason: str
) -> None:
    with pytest.raises(DomainRuleViolated) as err:
        ag.reallocate([], _reallocation(*lines), _agreements(1000, 600), {"C1-y1": accepted, "C2-y1": 0, "C9-y1": 0})
    assert err.value.field == field and reason in err.value.reason


def test_a_reallocation_stays_within_one_product_and_year() -> None:
    agreements = _agreements(1000, 600)
    other = ag.first_year(_signed("C2", "H2", 600)).model_copy(update={"product_id": "P2"})
    agreements["C2-y1"] = ag.state([other], "C2-y1")
    with pytest.raises(DomainRuleViolated) as err:
        ag.reallocate([], _reallocation(("C1-y1", 800), ("C2-y1", 800)), agreements, {"C1-y1": 0, "C2-y1": 0})
    assert err.value.field == "lines[1].agreement_id"


def test_rolling_over_signs_the_next_year_with_what_is_still_owed_and_stops_at_the_cycle_end() -> None:
    history: list[ContractsEvent] = [ag.first_year(_signed())]
    cycle = (date(2026, 1, 1), date(2027, 12, 31))
    [year2] = ag.roll_over(history, [], ag.RollOver("C1-y1", date(2026, 12, 20)), cycle, owed_now=150)
    assert isinstance(year2, YearlyAgreementRolledOver)
    assert (year2.agreement_id, year2.previous_agreement_id, year2.agreement_year, year2.year_start, year2.year_end) == (
        "C1-y2", "C1-y1", 2, date(2027, 1, 1), date(2027, 12, 31))
    assert (year2.agreed_quantity, year2.owed_quantity_at_rollover) == (1200, 150)
    assert ag.roll_over(history, [year2], ag.RollOver("C1-y1", date(2026, 12, 20)), cycle, owed_now=0) == []  # a retry
    with pytest.raises(AlreadyExists):
        ag.roll_over(history, [year2], ag.RollOver("C1-y1", date(2026, 12, 20), 1000), cycle, owed_now=0)
    with pytest.raises(DomainRuleViolated) as err:
        ag.roll_over([year2], [], ag.RollOver("C1-y2", date(2027, 12, 20)), cycle, owed_now=0)
    assert err.value.field == "agreement_id" and "cycle ends on 2027-12-31" in err.value.reason
    [year3] = ag.roll_over([year2], [], ag.RollOver("C1-y2", date(2027, 12, 20), 900), (cycle[0], date(2028, 12, 31)), owed_now=0)
    assert (year3.agreement_id, year3.agreed_quantity) == ("C1-y3", 900)  # type: ignore[union-attr]
