"""R4 non-winning purchases (非中选), Guizhou 000 §五(一), on real 2026 dates.

Given the winning products, acceptances and non-winning purchases of an institution /
when the last day of a calendar month closes (按月监测) / then the decision or none.
Guizhou 2020 caps non-winning base units at 1 × the winning ones (采购数量不得超过中选药品的采购量).
Group G1's base unit is 片; the winning product P1 is a box of 7 片.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain.volume_completion import ClosedDay
from jicai_policy import PolicyBook, load_policy_book

GUIYANG = "520100"
JINAN = "370100"  # Shandong 2021: no non_winning_cap section, R4 does not apply
PRODUCTS = {"P1": nw.Product("G1", Decimal("7")), "P2": nw.Product("G2", Decimal("0.5"))}


@pytest.fixture
def book(monkeypatch: pytest.MonkeyPatch) -> PolicyBook:
    monkeypatch.delenv("JICAI_POLICY_DIR", raising=False)
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    return load_policy_book(calendar_overrides=())


def accepted(acceptance_id: str, boxes: int, on: date, product: str = "P1", region: str = GUIYANG) -> n.WinningAcceptanceCounted:
    return n.WinningAcceptanceCounted(
        acceptance_id=acceptance_id, institution_id="H001", pooling_region_code=region, product_id=product,
        quantity=boxes, accepted_on=on, acceptance_event_id=f"evt-{acceptance_id}",
    )


def bought(purchase_id: str, base_units: str, on: date, group: str = "G1", region: str | None = GUIYANG) -> n.NonWinningPurchaseCounted:
    return n.NonWinningPurchaseCounted(
        purchase_id=purchase_id, institution_id="H001", pooling_region_code=region, generic_group_id=group,
        base_units=Decimal(base_units), purchased_on=on, purchase_event_id=f"evt-{purchase_id}",
    )


class Stream:
    """An institution's non-winning stream in memory, recording decided events with ids as the store would."""

    def __init__(self, book: PolicyBook, *given: n.NonWinningEvent) -> None:
        self.book = book
        self.recorded: list[nw.Recorded] = []
        for event in given:
            self.add(event)

    @property
    def state(self) -> nw.NonWinningState:
        return nw.fold("H001", self.recorded)

    def add(self, event: n.NonWinningEvent) -> list[n.NonWinningEvent]:
        if isinstance(event, n.WinningAcceptanceCounted):
            new = nw.decide_on_acceptance(self.state.acceptances, event)
        else:
            assert isinstance(event, n.NonWinningPurchaseCounted)
            new = nw.decide_on_purchase(self.state.purchases, event)
        self.recorded += [(e, f"evt-{len(self.recorded) + i}") for i, e in enumerate(new)]
        return new

    def close(self, day: date) -> list[n.NonWinningEvent]:
        new = nw.decide_on_day_closed(
            self.state, ClosedDay(day, f"day-{day.isoformat()}"), PRODUCTS, lambda region, on: self.book.profile_for(region, on=on)
        )
        self.recorded += [(e, f"evt-{len(self.recorded) + i}") for i, e in enumerate(new)]
        return new


def decisions(events: list[n.NonWinningEvent]) -> list[n.NonWinningPurchaseCapExceeded]:
    return [e for e in events if isinstance(e, n.NonWinningPurchaseCapExceeded)]


def test_more_non_winning_base_units_than_winning_in_the_month_is_an_alert(book: PolicyBook) -> None:
    stream = Stream(book, accepted("A1", 100, date(2026, 10, 5)), bought("B1", "500", date(2026, 10, 9)), bought("B2", "201", date(2026, 10, 20)))

    assert stream.close(date(2026, 10, 30)) == []
    [decision] = decisions(stream.close(date(2026, 10, 31)))

    assert decision.decision_id == "non-winning-H001-G1-2026-10"
    assert (decision.month, decision.winning_base_units, decision.non_winning_base_units, decision.cap_ratio) == (
        "2026-10", Decimal("700"), Decimal("701"), Decimal("1"),
    )
    assert (decision.profile_id, decision.profile_version) == ("guizhou-2020", 1)
    assert decision.caused_by == ("day-2026-10-31", "evt-B1", "evt-B2")
    assert (decision.purchases_counted, decision.caused_by_truncated) == (2, False)
    assert stream.close(date(2026, 11, 1)) == []  # a month is decided once


def test_equal_base_units_are_allowed(book: PolicyBook) -> None:
    stream = Stream(book, accepted("A1", 100, date(2026, 10, 5)), bought("B1", "700", date(2026, 10, 9)))

    [evaluated] = stream.close(date(2026, 10, 31))

    assert isinstance(evaluated, n.NonWinningMonthEvaluated)
    [group] = evaluated.groups
    assert (group.winning_base_units, group.non_winning_base_units, group.ratio, group.exceeded) == (
        Decimal("700"), Decimal("700"), Decimal("1.0000"), False,
    )


def test_winning_boxes_convert_to_base_units_per_group(book: PolicyBook) -> None:
    stream = Stream(
        book,
        accepted("A1", 10, date(2026, 10, 5), "P2"),  # 10 boxes × 0.5 = 5 base units of G2
        accepted("A2", 1, date(2026, 10, 5), "P1"),  # 7 of G1
        accepted("A3", 1000, date(2026, 10, 5), "P9"),  # a product without a group does not count
        bought("B1", "5.0000", date(2026, 10, 9), "G2"),
        bought("B2", "7.5", date(2026, 10, 9), "G1"),
    )

    [evaluated, decision] = stream.close(date(2026, 10, 31))

    assert isinstance(evaluated, n.NonWinningMonthEvaluated)
    assert [(g.generic_group_id, g.winning_base_units, g.exceeded) for g in evaluated.groups] == [
        ("G1", Decimal("7"), True), ("G2", Decimal("5.0"), False),
    ]
    assert isinstance(decision, n.NonWinningPurchaseCapExceeded) and decision.generic_group_id == "G1"


def test_only_the_calendar_month_counts(book: PolicyBook) -> None:
    stream = Stream(
        book,
        accepted("A1", 100, date(2026, 9, 30)),  # September's winning units do not cover October
        accepted("A2", 10, date(2026, 10, 1)),
        bought("B1", "100", date(2026, 10, 31)),
        bought("B2", "9999", date(2026, 11, 1)),
    )

    [decision] = decisions(stream.close(date(2026, 10, 31)))

    assert (decision.winning_base_units, decision.non_winning_base_units) == (Decimal("70"), Decimal("100"))


def test_one_late_day_close_decides_as_closing_every_day(book: PolicyBook) -> None:
    facts: list[n.NonWinningEvent] = [
        accepted("A1", 10, date(2026, 10, 5)), bought("B1", "100", date(2026, 10, 9)),
        bought("B2", "1", date(2026, 11, 9)), bought("B3", "50", date(2026, 12, 9)), accepted("A3", 10, date(2026, 12, 1)),
    ]
    daily = Stream(book, *facts)
    by_day = [e for d in range(0, 92) for e in daily.close(date.fromordinal(date(2026, 10, 1).toordinal() + d))]
    at_once = Stream(book, *facts).close(date(2026, 12, 31))

    def key(events: list[n.NonWinningEvent]) -> list[tuple[str, str, Decimal, Decimal]]:
        return [(d.decision_id, d.month, d.winning_base_units, d.non_winning_base_units) for d in decisions(events)]

    assert key(by_day) == key(at_once) == [
        ("non-winning-H001-G1-2026-10", "2026-10", Decimal("70"), Decimal("100")),
        ("non-winning-H001-G1-2026-11", "2026-11", Decimal("0"), Decimal("1")),
    ]
    assert [e.month for e in at_once if isinstance(e, n.NonWinningMonthEvaluated)] == [
        date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1),
    ]


def test_the_same_facts_twice_count_once(book: PolicyBook) -> None:
    stream = Stream(book, accepted("A1", 100, date(2026, 10, 5)), bought("B1", "700", date(2026, 10, 9)))

    assert stream.add(bought("B1", "700", date(2026, 10, 9))) == []
    assert stream.add(accepted("A1", 100, date(2026, 10, 5))) == []
    assert decisions(stream.close(date(2026, 10, 31))) == []


def test_a_profile_without_non_winning_cap_decides_nothing(book: PolicyBook) -> None:
    stream = Stream(book, bought("B1", "100", date(2026, 10, 9), region=JINAN))

    [evaluated] = stream.close(date(2026, 10, 31))

    assert isinstance(evaluated, n.NonWinningMonthEvaluated)
    assert (evaluated.profile_id, evaluated.cap_ratio, evaluated.groups[0].exceeded) == (None, None, False)


def test_caused_by_lists_at_most_50_purchases(book: PolicyBook) -> None:
    stream = Stream(book, *(bought(f"B{i:03}", "1", date(2026, 10, 9)) for i in range(60)))

    [decision] = decisions(stream.close(date(2026, 10, 31)))

    assert len(decision.caused_by) == 51 and decision.caused_by[:2] == ("day-2026-10-31", "evt-B000")
    assert (decision.purchases_counted, decision.caused_by_truncated) == (60, True)


def test_a_product_listed_again_with_the_same_facts_records_nothing() -> None:
    known = n.WinningProductTracked(product_id="P1", generic_group_id="G1", base_units_per_trading_unit=Decimal(7), product_event_id="e1")

    assert nw.decide_on_product(known, known.model_copy(update={"product_event_id": "e2"})) == []
    changed = known.model_copy(update={"base_units_per_trading_unit": Decimal(14)})
    assert nw.decide_on_product(known, changed) == [changed]


@pytest.mark.parametrize(
    ("go_live", "decided"),
    [
        pytest.param(date(2026, 10, 20), True, id="live from mid-October: October is decided"),
        pytest.param(date(2026, 11, 1), False, id="live from November: October is evaluated without a decision"),
        pytest.param(None, False, id="not live in the region"),
    ],
)
def test_months_before_the_region_s_r4_go_live_get_no_decision(book: PolicyBook, go_live: date | None, decided: bool) -> None:
    """Guizhou 000 §五(一), with the platform's go-live from regions.toml (``non_winning_cap_from``)."""
    stream = Stream(book, accepted("A1", 100, date(2026, 10, 5)), bought("B1", "707", date(2026, 10, 9)))

    new = nw.decide_on_day_closed(
        stream.state, ClosedDay(date(2026, 10, 31), "day"), PRODUCTS, lambda region, on: book.profile_for(region, on=on),
        lambda region, on: go_live,
    )

    assert any(isinstance(e, n.NonWinningPurchaseCapExceeded) for e in new) is decided
    [evaluated] = [e for e in new if isinstance(e, n.NonWinningMonthEvaluated)]
    assert (evaluated.cap_ratio is not None) is decided


def test_the_next_month_to_evaluate_follows_each_counted_purchase_as_the_refolded_stream_gives_it(book: PolicyBook) -> None:
    """The day close finds institutions by ``next_month_end``, kept per purchase without refolding the stream."""
    stream = Stream(book, accepted("A1", 100, date(2026, 9, 5)))
    kept, checked = None, 0
    facts: list[tuple[str, str, date]] = [
        ("B1", "10", date(2026, 10, 9)), ("B2", "0", date(2026, 8, 1)), ("B3", "5", date(2026, 9, 30)),
        ("close", "", date(2026, 9, 30)), ("B4", "5", date(2026, 9, 2)), ("B5", "5", date(2026, 8, 20)),
        ("B6", "5", date(2026, 12, 1)), ("close", "", date(2026, 11, 30)), ("B7", "5", date(2026, 10, 31)),
        ("B8", "5", date(2026, 11, 3)), ("B1", "10", date(2026, 10, 9)),
    ]
    for purchase_id, units, on in facts:
        if purchase_id == "close":
            stream.close(on)
            kept = nw.next_month_end(stream.state)  # the day close refolds (once a month)
            continue
        purchase = bought(purchase_id, units, on)
        if stream.add(purchase):
            kept = nw.next_month_end_counting(kept, stream.state.last_month, purchase)
        assert kept == nw.next_month_end(stream.state), purchase_id
        checked += 1

    assert checked == 9 and kept == date(2026, 11, 30)  # B8: November, after October evaluated; B7 came too late
