"""Prepayment schedules (医保预付, R5) per profile, on real 2026 dates: floors, triggers, disbursements, liquidation."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_policy import PolicyProfile, load_policy_book
from jicai_settlement.domain import contract
from jicai_settlement.domain import prepayment as p
from jicai_settlement.domain import prepayment_schedule as schedule
from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    AcceptanceNoted,
    AgreementNoted,
    ContractCycleMoved,
    ContractNoted,
    PrepaymentDisbursed,
    ReturnNoted,
)

BOOK = load_policy_book(calendar_overrides=())


def _profile(region: str) -> PolicyProfile:
    return BOOK.profile_for(region, date(2026, 1, 1))


def _agreement(region: str, quantity: int = 10_000, price: str = "12.5000", signed_on: date = date(2026, 1, 20)) -> AgreementNoted:
    return AgreementNoted(
        agreement_id="C1-y1", contract_id="C1", institution_id="H1", pooling_region_code=region, agreement_year=1,
        year_start=date(2026, 2, 1), year_end=date(2027, 1, 31), agreed_quantity=quantity, unit_price=Decimal(price),
        signed_on=signed_on,
    )


def _contract(region: str, *accepted: tuple[date, int], cycle_end: date = date(2027, 1, 31)) -> contract.Contract:
    """Acceptances, and returns (退货) as negative quantities."""
    return contract.fold_contract([
        ContractNoted(contract_id="C1", institution_id="H1", pooling_region_code=region, cycle_start=date(2026, 2, 1),
                      cycle_end=cycle_end, signed_on=date(2026, 1, 20)),
        *(AcceptanceNoted(contract_id="C1", acceptance_id=f"A{i}", accepted_on=on, accepted_quantity=q) if q > 0 else
          ReturnNoted(contract_id="C1", return_id=f"R{i}", returned_on=on, returned_quantity=-q)
          for i, (on, q) in enumerate(accepted)),
    ])


def _basis(region: str, *accepted: tuple[date, int], fund: dict[str, Decimal] | None = None,
           stated: Decimal | None = None) -> schedule.Basis:
    return schedule.Basis(agreements=[_agreement(region)], contracts={"C1": _contract(region, *accepted)},
                   fund_payments_last_year=fund or {}, stated_fund_payment=stated)


def _plan(region: str, basis: schedule.Basis) -> list[tuple[int, Decimal, date | None, str | None]]:
    prepayment = _profile(region).prepayment
    assert prepayment is not None
    return [(x.instalment.phase, x.instalment.minimum_amount, x.due_on, x.due_by) for x in schedule.instalments(prepayment, basis)]


# Budget 10,000 boxes × 12.50 = 125,000.00.
FUND_2025 = {"2025-01": Decimal("400000.00"), "2025-02": Decimal("500000.00"), "2025-03": Decimal("600000.00")}


@pytest.mark.parametrize(("name", "region", "basis", "expected"), [
    ("Guizhou 000 §五(三): 30% of the procurement amount when last year's fund payment is unknown, due on signing in January",
     "520100", _basis("520100"), [(1, Decimal("37500.00"), date(2026, 1, 20), "annual on 2026-01-20")]),
    ("Guizhou 000 §五(三): 30% of last year's average monthly fund payment (reported months) when greater",
     "520100", _basis("520100", fund=FUND_2025), [(1, Decimal("150000.00"), date(2026, 1, 20), "annual on 2026-01-20")]),
    ("Guizhou 000 §五(三): the amount the fund states wins over the reported months, never below 30% of the amount",
     "520100", _basis("520100", fund=FUND_2025, stated=Decimal("100000.00")),
     [(1, Decimal("37500.00"), date(2026, 1, 20), "annual on 2026-01-20")]),
    ("Hubei 003 §四(三): phase 1 ≥30% on signing; phase 2 (the rest up to 90%) after half the year, 2026-08-02",
     "420100", _basis("420100", (date(2026, 3, 2), 3_000)),
     [(1, Decimal("37500.00"), date(2026, 1, 20), "contract_signed on 2026-01-20"),
      (2, Decimal("75000.00"), date(2026, 8, 2), "half_cycle_elapsed on 2026-08-02")]),
    ("Hubei 003 §四(三): phase 2 earlier, on the acceptance that reaches 60% of the agreed volume (2026-06-01)",
     "420100", _basis("420100", (date(2026, 3, 2), 3_000), (date(2026, 6, 1), 3_000), (date(2026, 6, 5), 500)),
     [(1, Decimal("37500.00"), date(2026, 1, 20), "contract_signed on 2026-01-20"),
      (2, Decimal("75000.00"), date(2026, 6, 1), "agreed_volume_share_reached on 2026-06-01")]),
    ("Hubei 003 §四(三): a return (退货) delays the volume trigger from 2026-04-01 to 2026-05-06",
     "420100", _basis("420100", (date(2026, 3, 2), 5_000), (date(2026, 3, 20), -500), (date(2026, 4, 1), 1_000),
                      (date(2026, 5, 6), 500)),
     [(1, Decimal("37500.00"), date(2026, 1, 20), "contract_signed on 2026-01-20"),
      (2, Decimal("75000.00"), date(2026, 5, 6), "agreed_volume_share_reached on 2026-05-06")]),
    ("Chongqing 004 §二(七): ≥50% of the procurement amount, due once signed (the notice gives no date)",
     "500000", _basis("500000"), [(1, Decimal("62500.00"), date(2026, 1, 20), "contract_signed on 2026-01-20")]),
])
def test_the_schedule_follows_the_profile(name: str, region: str, basis: schedule.Basis, expected: list[tuple[object, ...]]) -> None:
    assert _plan(region, basis) == expected, name


@pytest.mark.parametrize("region", ["370100", "500099"])  # Shandong 001 (share in 鲁政办字〔2020〕129号), Liangjiang 002: none
def test_a_profile_without_prepayment_is_refused_clearly(region: str) -> None:
    with pytest.raises(DomainRuleViolated, match="has no prepayment"):
        p.require_prepayment(_profile(region), region)


def _planned(region: str, *accepted: tuple[date, int]) -> list[schedule.Planned]:
    prepayment = _profile(region).prepayment
    assert prepayment is not None
    return schedule.instalments(prepayment, _basis(region, *accepted))


def _disburse(phase: int, amount: str, on: date, partial: bool = False, disbursement_id: str = "D1") -> p.Disburse:
    return p.Disburse(disbursement_id=disbursement_id, institution_id="H1", year=2026, phase=phase, amount=Decimal(amount),
                      disbursed_on=on, partial=partial)


def test_hubei_phase_2_is_refused_before_it_is_due_and_a_payment_below_the_floor_must_say_partial() -> None:
    planned = _planned("420100")
    with pytest.raises(DomainRuleViolated, match="phase 2 is not due on 2026-05-04: due on 2026-08-02") as refused:
        p.disburse([], _disburse(2, "75000.00", date(2026, 5, 4)), planned)
    assert refused.value.field == "disbursed_on"
    with pytest.raises(DomainRuleViolated, match="below its floor 37500.00") as below:
        p.disburse([], _disburse(1, "20000.00", date(2026, 1, 22)), planned)
    assert below.value.field == "amount"
    [part] = p.disburse([], _disburse(1, "20000.00", date(2026, 1, 22), partial=True), planned)
    assert isinstance(part, PrepaymentDisbursed)
    rest = p.disburse([part], _disburse(1, "17500.00", date(2026, 2, 2), disbursement_id="D2"), planned)
    views = schedule.view(planned, schedule.fold([part, *rest]), date(2026, 2, 2))
    assert [(v.phase, v.due, v.disbursed, v.shortfall) for v in views] == [
        (1, True, Decimal("37500.00"), Decimal("0.00")), (2, False, Decimal("0.00"), Decimal("0.00"))]
    assert schedule.view(planned, schedule.fold([part]), date(2026, 8, 3))[1].shortfall == Decimal("75000.00")


def test_the_same_disbursement_again_records_nothing_and_other_content_under_its_id_conflicts() -> None:
    planned = _planned("500000")
    [first] = p.disburse([], _disburse(1, "62500.00", date(2026, 1, 26)), planned)
    assert p.disburse([first], _disburse(1, "62500.00", date(2026, 1, 26)), planned) == []
    with pytest.raises(AlreadyExists):
        p.disburse([first], _disburse(1, "70000.00", date(2026, 1, 26)), planned)


@pytest.mark.parametrize(("prepaid", "invoiced", "outcome", "amount"), [
    ("112500.00", "100000.00", "return", "12500.00"),
    ("112500.00", "130000.00", "top_up", "17500.00"),
    ("112500.00", "112500.00", "settled", "0.00"),
])
def test_hubei_liquidation_at_the_cycle_end_returns_or_tops_up(prepaid: str, invoiced: str, outcome: str, amount: str) -> None:
    """Hubei 003 §四(三): 及时对中选药品使用情况进行清算，按规定向医保经办机构归还预付款."""
    history = p.disburse([], _disburse(1, prepaid, date(2026, 1, 22)), _planned("420100"))
    cmd = p.Liquidate(liquidation_id="L1", institution_id="H1", year=2026, liquidated_on=date(2027, 2, 1))
    [liquidated] = p.liquidate(history, cmd, _basis("420100"), Decimal(invoiced))
    assert (liquidated.outcome, liquidated.amount, liquidated.prepaid) == (outcome, Decimal(amount), Decimal(prepaid))  # type: ignore[union-attr]


def test_liquidation_waits_for_the_cycle_end_moved_by_an_extension() -> None:
    original = _contract("420100")
    extended = contract.fold_contract([
        ContractNoted(contract_id="C1", institution_id="H1", pooling_region_code="420100", cycle_start=date(2026, 2, 1),
                      cycle_end=date(2027, 1, 31), signed_on=date(2026, 1, 20)),
        ContractCycleMoved(contract_id="C1", cycle_end=date(2028, 1, 31), extended_on=date(2026, 12, 1)),
    ])
    assert original.cycle_end == date(2027, 1, 31) and extended.cycle_end == date(2028, 1, 31)
    basis = schedule.Basis(agreements=[_agreement("420100")], contracts={"C1": extended}, fund_payments_last_year={})
    cmd = p.Liquidate(liquidation_id="L1", institution_id="H1", year=2026, liquidated_on=date(2027, 2, 1))
    with pytest.raises(DomainRuleViolated, match="ends on 2028-01-31"):
        p.liquidate([], cmd, basis, Decimal("0.00"))
