"""R3 targets from yearly agreements (年度采购协议, 约定采购量 per agreement year), amendments and returns (退货),
Guizhou 000 §五(三) (quarterly targets, warning below 80%, suspension below 70%), on real 2026-2027 dates.

The contract runs two years (2026-01-01..2027-12-31, 8000 boxes); its agreements give
4000 for 2026 (y1) and 2000 for 2027 (y2). Targets cumulate within the agreement year.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_alerts.domain import volume_completion as vc
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain import volume_periods as vp
from jicai_alerts.domain import volume_state as vs
from jicai_events.rules import Conflict
from jicai_policy import PolicyBook
from tests.unit.alerts.test_volume_completion_decisions import GUIYANG, Stream, accepted, book, decisions

__all__ = ["book"]


def contract() -> v.ContractTracked:
    return v.ContractTracked(
        contract_id="C1", institution_id="H001", pooling_region_code=GUIYANG, product_id="P1", unit_price=Decimal("10.0000"),
        agreed_quantity=8000, cycle_start=date(2026, 1, 1), cycle_end=date(2027, 12, 31), contract_event_id="evt-contract-C1",
    )


def agreement(year: int = 1, agreed: int = 4000) -> v.AgreementTracked:
    return v.AgreementTracked(
        agreement_id=f"C1-y{year}", contract_id="C1", institution_id="H001", pooling_region_code=GUIYANG, product_id="P1",
        agreement_year=year, year_start=date(2025 + year, 1, 1), year_end=date(2025 + year, 12, 31), agreed_quantity=agreed,
        unit_price=Decimal("10.0000"), agreement_event_id=f"evt-agreement-y{year}",
    )


def amended(agreed: int, on: date, previous: int = 4000, year: int = 1) -> v.AgreementAmended:
    return v.AgreementAmended(
        agreement_id=f"C1-y{year}", contract_id="C1", institution_id="H001", agreed_quantity=agreed,
        previous_agreed_quantity=previous, amended_on=on, amendment_event_id=f"evt-amend-{on.isoformat()}",
    )


def returned(return_id: str, acceptance_id: str, quantity: int, on: date) -> v.ReturnCounted:
    return v.ReturnCounted(
        return_id=return_id, institution_id="H001", contract_id="C1", acceptance_id=acceptance_id, quantity=quantity,
        returned_on=on, return_event_id=f"evt-{return_id}",
    )


def test_the_agreement_year_not_the_cycle_gives_the_targets() -> None:
    """约定采购量 is per agreement year: Q1 2026 targets ¼ of y1's 4000, not ¼ of the cycle's 8000 spread over 8 quarters."""
    state = vs.fold("H001", [(contract(), "e1"), (agreement(1), "e2"), (agreement(2, 2000), "e3")])

    assert vp.institution_period_ends(state) == [
        date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31),
        date(2027, 3, 31), date(2027, 6, 30), date(2027, 9, 30), date(2027, 12, 31),
    ]
    assert [(day, line.target_quantity, line.agreement_id) for day in (date(2026, 3, 31), date(2027, 3, 31))
            for line in vp.completion(state, day)[1]] == [
        (date(2026, 3, 31), Decimal("1000.00"), "C1-y1"), (date(2027, 3, 31), Decimal("500.00"), "C1-y2"),
    ]


@pytest.mark.parametrize(
    ("given", "q1", "q2"),
    [
        pytest.param([], ("warned", "0.7500"), None, id="no amendment: 750/1000 in Q1, 1500/2000 in Q2"),
        pytest.param([amended(3000, date(2026, 5, 15))], ("warned", "0.7500"), None, id="amended in May: Q1 keeps 1000, Q2 1500 met"),
        pytest.param([amended(3000, date(2026, 3, 1))], None, None, id="amended in March: Q1 750/750 met"),
        pytest.param([amended(6000, date(2026, 4, 1))], ("warned", "0.7500"), ("suspended", "0.5000"), id="raised in April: Q2 1500/3000"),
    ],
)
def test_an_amendment_changes_the_targets_from_its_date_on(
    book: PolicyBook, given: list[v.VolumeEvent], q1: tuple[str, str] | None, q2: tuple[str, str] | None
) -> None:
    stream = Stream(book, contract(), agreement(1), *given, accepted("A1", 750, date(2026, 2, 10)), accepted("A2", 750, date(2026, 5, 10)))

    first = [(kind, ratio) for kind, _, ratio in decisions(stream.close(date(2026, 3, 31)))]
    decided = stream.close(date(2026, 6, 30))
    second = [(kind, ratio) for kind, _, ratio in decisions(decided)]
    for warned in (d for d in decided if isinstance(d, v.VolumeCompletionWarned)):  # the amendment in force is a cause
        assert {a.amendment_event_id for a in given if isinstance(a, v.AgreementAmended)} <= set(warned.caused_by)

    assert first[:1] == ([q1] if q1 else [])
    assert [d for d in second if d[0] == "suspended"] == ([q2] if q2 else [])


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        pytest.param([], [], id="900/1000 without returns"),
        pytest.param([returned("R1", "A1", 200, date(2026, 3, 15))], [("warned", "0.7000")], id="200 returned in March: 700/1000"),
        pytest.param([returned("R1", "A1", 300, date(2026, 3, 31))], [("warned", "0.6000"), ("suspended", "0.6000")], id="returned on the period end"),
        pytest.param([returned("R1", "A1", 300, date(2026, 4, 1))], [], id="returned after the period end: Q1 still 900"),
        pytest.param([returned("R1", "A9", 300, date(2026, 3, 1))], [], id="a return of another acceptance changes nothing here"),
    ],
)
def test_returned_quantities_no_longer_count(book: PolicyBook, returns: list[v.VolumeEvent], expected: list[tuple[str, str]]) -> None:
    stream = Stream(book, contract(), agreement(1), accepted("A1", 900, date(2026, 2, 10)), *returns)

    assert [(kind, ratio) for kind, _, ratio in decisions(stream.close(date(2026, 3, 31)))] == expected


def test_acceptances_of_2026_do_not_count_toward_the_2027_agreement(book: PolicyBook) -> None:
    stream = Stream(book, contract(), agreement(1), agreement(2, 2000), accepted("A1", 4000, date(2026, 3, 1)))
    stream.close(date(2026, 12, 31))

    decided = stream.close(date(2027, 3, 31))

    assert decisions(decided) == [("warned", "2027-03-31", "0.0000"), ("suspended", "2027-04-01", "0.0000")]
    assert isinstance(decided[1], v.VolumeCompletionWarned)
    assert decided[1].caused_by == ("day-2027-03-31", "evt-contract-C1", "evt-agreement-y2")  # the contract and the y2 agreement


def test_a_suspension_is_not_resumed_while_a_return_keeps_the_target_unmet(book: PolicyBook) -> None:
    stream = Stream(book, contract(), agreement(1), accepted("A1", 600, date(2026, 3, 10)))
    assert [kind for kind, _, _ in decisions(stream.close(date(2026, 3, 31)))] == ["warned", "suspended"]

    stream.add(accepted("A2", 400, date(2026, 4, 10)))
    stream.add(returned("R1", "A2", 100, date(2026, 4, 12)))
    assert stream.close(date(2026, 4, 20)) == []

    stream.add(accepted("A3", 100, date(2026, 4, 22)))
    assert decisions(stream.close(date(2026, 4, 23))) == [("resumed", "2026-04-22", "target_met")]


def test_the_same_agreement_or_amendment_again_records_nothing_and_other_facts_are_refused() -> None:
    state = vs.fold("H001", [(agreement(1), "e1"), (amended(3000, date(2026, 5, 15)), "e2")])

    assert vc.decide_on_agreement(state, agreement(1).model_copy(update={"agreement_event_id": "other"})) == []
    assert vc.decide_on_amendment(state, amended(3000, date(2026, 5, 15)).model_copy(update={"amendment_event_id": "other"})) == []
    assert vc.decide_on_return(vs.fold("H001", [(returned("R1", "A1", 1, date(2026, 5, 1)), "e3")]).returns, returned("R1", "A1", 1, date(2026, 5, 1))) == []
    with pytest.raises(Conflict):
        vc.decide_on_agreement(state, agreement(1, 5000))
