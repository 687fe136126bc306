"""R3 volume completion (完成约定采购量), Guizhou 000 §五(三), on real 2026 dates.

Given the events of an institution's volume stream / when a day closes or an
exemption is granted / then the decisions. Contracts run 2026-01-01..12-31 in
quarters: cumulative targets at 03-31, 06-30, 09-30, 12-31 are ¼, ½, ¾, 1 of the
agreed quantity. Guizhou 2020: warning below 80%, suspension below 70% from the
next month (自次月起暂停医保月结算) until the cumulative target is met.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_alerts.domain import volume_completion as vc
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain import volume_exemptions as vx
from jicai_alerts.domain import volume_periods as vp
from jicai_alerts.domain import volume_state as vs
from jicai_events.rules import Conflict, RuleViolated
from jicai_policy import PolicyBook, load_policy_book

GUIYANG = "520100"


@pytest.fixture
def book(monkeypatch: pytest.MonkeyPatch) -> PolicyBook:
    monkeypatch.delenv("JICAI_POLICY_DIR", raising=False)
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    return load_policy_book(calendar_overrides=())


def contract(contract_id: str = "C1", agreed: int = 4000, price: str = "10.0000", product: str = "P1") -> v.ContractTracked:
    return v.ContractTracked(
        contract_id=contract_id, institution_id="H001", pooling_region_code=GUIYANG, product_id=product,
        unit_price=Decimal(price), agreed_quantity=agreed, cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31),
        contract_event_id=f"evt-contract-{contract_id}",
    )


def accepted(acceptance_id: str, quantity: int, on: date, contract_id: str = "C1") -> v.AcceptanceCounted:
    return v.AcceptanceCounted(
        acceptance_id=acceptance_id, institution_id="H001", contract_id=contract_id, quantity=quantity, accepted_on=on,
        acceptance_event_id=f"evt-{acceptance_id}",
    )


class Stream:
    """An institution's volume stream in memory, recording decided events with ids as the store would."""

    def __init__(self, book: PolicyBook, *given: v.VolumeEvent) -> None:
        self.book = book
        self.recorded: list[vs.Recorded] = []
        self._record(list(given))

    @property
    def state(self) -> vs.VolumeState:
        return vs.fold("H001", self.recorded)

    def _record(self, new: list[v.VolumeEvent]) -> list[v.VolumeEvent]:
        self.recorded += [(event, f"evt-{len(self.recorded) + i}") for i, event in enumerate(new)]
        return new

    def close(self, day: date) -> list[v.VolumeEvent]:
        """Close ``day``, recording stage after stage until nothing more is due."""
        decided: list[v.VolumeEvent] = []
        closed = vc.ClosedDay(day, f"day-{day.isoformat()}")
        while new := vc.decide_on_day_closed(self.state, closed, lambda r, on: self.book.profile_for(r, on=on)):
            decided += self._record(new)
        return decided

    def add(self, event: v.VolumeEvent) -> None:
        self._record(vc.decide_on_acceptance(self.state.acceptances, event) if isinstance(event, v.AcceptanceCounted) else [event])


def decisions(events: list[v.VolumeEvent]) -> list[tuple[str, str, str]]:
    out = []
    for e in events:
        if isinstance(e, v.VolumeCompletionWarned):
            out.append(("warned", e.period_end.isoformat(), str(e.ratio)))
        elif isinstance(e, v.SettlementSuspended):
            out.append(("suspended", e.suspended_from.isoformat(), str(e.ratio)))
        elif isinstance(e, v.SettlementResumed):
            out.append(("resumed", e.resumed_on.isoformat(), e.reason))
    return out


def test_quarters_count_from_the_cycle_start_and_the_last_ends_with_the_cycle() -> None:
    assert vp.period_ends(contract()) == [date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)]
    assert vp.cumulative_target(contract(), date(2026, 3, 31)) == 1000
    assert vp.cumulative_target(contract(), date(2026, 3, 30)) == 0
    assert vp.cumulative_target(contract(), date(2026, 7, 15)) == 2000


def test_75_percent_at_the_end_of_q1_is_warned_only(book: PolicyBook) -> None:
    stream = Stream(book, contract(), accepted("A1", 750, date(2026, 2, 10)))

    assert stream.close(date(2026, 3, 30)) == []
    decided = stream.close(date(2026, 3, 31))

    assert decisions(decided) == [("warned", "2026-03-31", "0.7500")]
    warning = decided[1]
    assert isinstance(warning, v.VolumeCompletionWarned)
    assert (warning.decision_id, warning.profile_id, warning.profile_version) == ("volume-warning-H001-2026-03-31", "guizhou-2020", 1)
    assert warning.caused_by == ("day-2026-03-31", "evt-contract-C1")


def test_65_percent_is_warned_and_suspended_from_the_next_month_until_the_target_is_met(book: PolicyBook) -> None:
    stream = Stream(book, contract(), accepted("A1", 650, date(2026, 3, 20)))

    assert decisions(stream.close(date(2026, 3, 31))) == [("warned", "2026-03-31", "0.6500"), ("suspended", "2026-04-01", "0.6500")]

    stream.add(accepted("A2", 300, date(2026, 4, 15)))
    assert stream.close(date(2026, 4, 20)) == []  # 950 of the 1000 due by 03-31: still suspended
    stream.add(accepted("A3", 50, date(2026, 4, 22)))
    resumed = stream.close(date(2026, 4, 25))

    assert decisions(resumed) == [("resumed", "2026-04-22", "target_met")]
    [r] = resumed
    assert isinstance(r, v.SettlementResumed)
    assert (r.decision_id, r.suspension_decision_id) == ("volume-resumption-H001-2026-03-31", "volume-suspension-H001-2026-03-31")
    assert stream.state.suspension is None


def test_one_late_day_close_decides_as_closing_every_day(book: PolicyBook) -> None:
    given = (contract(), accepted("A1", 650, date(2026, 3, 20)), accepted("A2", 350, date(2026, 5, 6)),
             accepted("A3", 500, date(2026, 6, 15)))
    one_by_one, at_once = Stream(book, *given), Stream(book, *given)

    step: list[v.VolumeEvent] = []
    for day in (date(2026, 3, 31), date(2026, 5, 1), date(2026, 5, 7), date(2026, 6, 30), date(2026, 7, 1)):
        step += one_by_one.close(day)

    assert decisions(at_once.close(date(2026, 7, 1))) == decisions(step) == [
        ("warned", "2026-03-31", "0.6500"), ("suspended", "2026-04-01", "0.6500"), ("resumed", "2026-05-06", "target_met"),
        ("warned", "2026-06-30", "0.7500"),
    ]


def test_over_buying_one_product_does_not_hide_another_s_shortfall(book: PolicyBook) -> None:
    # Same target amount for both: C1 bought 200% of its target, C2 only 40%.
    stream = Stream(book, contract("C1", product="P1"), contract("C2", product="P2"),
                    accepted("A1", 2000, date(2026, 2, 1), "C1"), accepted("A2", 400, date(2026, 2, 1), "C2"))

    ratio, lines = vp.completion(stream.state, date(2026, 3, 31))

    assert ratio == Decimal("0.7000")  # ½ × 1 (capped) + ½ × 0.4, not (2000 + 400) / 2000
    assert [(x.contract_id, x.ratio, x.weight) for x in lines] == [
        ("C1", Decimal("1.0000"), Decimal("0.5000")), ("C2", Decimal("0.4000"), Decimal("0.5000")),
    ]
    assert decisions(stream.close(date(2026, 3, 31))) == [("warned", "2026-03-31", "0.7000")]


def test_products_weigh_by_their_target_amount(book: PolicyBook) -> None:
    # C1 target 1000 × 30.00 = 30000, C2 target 1000 × 10.00 = 10000: weights ¾ and ¼.
    stream = Stream(book, contract("C1", price="30.0000"), contract("C2", product="P2"),
                    accepted("A1", 1000, date(2026, 2, 1), "C1"))

    ratio, _ = vp.completion(stream.state, date(2026, 3, 31))

    assert ratio == Decimal("0.7500")


def test_an_exemption_covering_the_period_end_prevents_the_decisions(book: PolicyBook) -> None:
    stream = Stream(book, contract(), accepted("A1", 100, date(2026, 2, 1)))
    grant = v.VolumeExemptionGranted(exemption_id="X1", institution_id="H001", reason="洪灾 (flood)",
                                     from_date=date(2026, 3, 1), to_date=date(2026, 4, 30), granted_by="ops")
    stream._record(vx.decide_on_grant(stream.state, grant))

    decided = stream.close(date(2026, 3, 31))

    assert decisions(decided) == []
    assert isinstance(decided[0], v.PeriodEvaluated) and decided[0].exemption_id == "X1"
    assert vx.decide_on_grant(stream.state, grant) == []  # the same grant again records nothing
    with pytest.raises(Conflict):
        vx.decide_on_grant(stream.state, grant.model_copy(update={"reason": "other"}))


def test_granting_an_exemption_during_a_suspension_resumes_it(book: PolicyBook) -> None:
    stream = Stream(book, contract(), accepted("A1", 100, date(2026, 2, 1)))
    stream.close(date(2026, 3, 31))
    assert stream.state.suspension is not None
    grant = v.VolumeExemptionGranted(exemption_id="X1", institution_id="H001", reason="疫情",
                                     from_date=date(2026, 1, 1), to_date=date(2026, 3, 31), granted_by="ops")
    stream._record(vx.decide_on_grant(stream.state, grant))

    resumed = vx.decide_resumption_by_exemption(stream.state, "X1", date(2026, 4, 10))

    assert decisions(resumed) == [("resumed", "2026-04-10", "exemption")]


def test_an_exemption_ending_before_it_starts_is_refused() -> None:
    grant = v.VolumeExemptionGranted(exemption_id="X1", institution_id="H001", reason="r",
                                     from_date=date(2026, 4, 1), to_date=date(2026, 3, 1), granted_by="ops")
    with pytest.raises(RuleViolated) as refused:
        vx.decide_on_grant(vs.VolumeState("H001"), grant)
    assert refused.value.field == "to"


def test_the_same_acceptance_twice_counts_once(book: PolicyBook) -> None:
    stream = Stream(book, contract(), accepted("A1", 800, date(2026, 2, 1)))
    stream.add(accepted("A1", 800, date(2026, 2, 1)))

    assert decisions(stream.close(date(2026, 3, 31))) == []
    assert vp.completion(stream.state, date(2026, 3, 31))[0] == Decimal("0.8000")
