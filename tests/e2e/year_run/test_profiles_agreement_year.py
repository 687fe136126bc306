"""Each regional profile runs its agreement year end to end, and the platform applies that province's notice."""
from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.agreement_year import CASES, GUIZHOU_VOLUME_COMPLETION_FROM, HUBEI_PHASES, LAST_CLOSED_DAY, ProfileCase, amount_due, amount_of, budget_of
from tests.e2e.system import System

pytestmark = pytest.mark.e2e
BY_PROFILE = [pytest.param(case, id=case.profile_id) for case in CASES]


def seen_for(run: tuple[System, dict[str, dict[str, Any]]], case: ProfileCase) -> dict[str, Any]:
    return run[1][case.profile_id]


@pytest.mark.parametrize("case", BY_PROFILE)
def test_payment_deadline_follows_the_profile_rule_and_the_holiday_calendar(year_run: Any, case: ProfileCase) -> None:
    seen = seen_for(year_run, case)
    invoice = seen["invoice"]
    assert (invoice["profile_id"], invoice["deadline"]) == (case.profile_id, case.expected_deadline)
    first = seen["first_deadline_decision"]["decision"]
    assert first["profile_id"] == case.profile_id and first["deadline"] == (case.first_deadline or case.expected_deadline)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.profile_id) for c in CASES if c.credit_note])
def test_a_credit_note_restarts_the_clock_where_the_profile_says_so(year_run: Any, case: ProfileCase) -> None:
    """红冲: the corrected invoice counts as received with the credit note (credit_note_restarts_clock)."""
    seen = seen_for(year_run, case)
    restarted = seen["restarted_deadline_decision"]
    assert restarted["decision"]["deadline"] == case.expected_deadline
    assert restarted["parameters"]["payment_term"]["credit_note_restarts_clock"] is True
    assert seen["orders_invoice"]["status"] == "credited" and seen["orders_invoice"]["current_amount"] == amount_due(case)


@pytest.mark.parametrize("case", BY_PROFILE)
def test_warnings_and_withholds_follow_the_profile(year_run: Any, case: ProfileCase) -> None:
    seen = seen_for(year_run, case)
    invoice = seen["invoice"]
    # The invoice's own alerts (R1/R2): the feed also lists the year's volume decisions (R3), tested below.
    alerts = [a for a in seen["alerts"] if a.get("invoice_id") == invoice["invoice_id"]]
    assert (invoice["warned_on"], invoice["withheld_from"], invoice["status"]) == (
        case.expected_warned_on, case.expected_withheld_from, case.expected_final_status)
    kinds = sorted(a["kind"] for a in alerts)
    expected = (["overdue_warning"] if case.expected_warned_on else []) + (["settlement_withheld"] if case.expected_withheld_from else [])
    assert kinds == sorted(expected)
    assert all(a["profile_id"] == case.profile_id for a in alerts)
    # whatever was decided, the institution's settlement is normal again once it has paid, and never withheld without a withhold rule
    assert seen["settlement_status"]["active_withholds"] == []
    if case.payments:
        assert all(a["status"] == "closed" for a in alerts)
    else:
        assert [a["status"] for a in alerts] == ["open"]


@pytest.mark.parametrize("case", BY_PROFILE)
def test_every_service_agrees_on_what_is_owed(year_run: Any, case: ProfileCase) -> None:
    seen = seen_for(year_run, case)
    paid = sum(float(p.amount) for p in case.payments)
    outstanding = f"{float(amount_due(case)) - paid:.2f}"
    assert seen["invoice"]["outstanding"] == outstanding
    assert seen["settlement_invoice"]["outstanding"] == outstanding
    assert seen["settlement_invoice"]["amount_due"] == seen["orders_invoice"]["current_amount"] == amount_due(case)
    assert seen["orders_invoice"]["amount"] == amount_of(case)


PROFILE_METHODS = {"guizhou-2020": "share_of_platform_purchases", "shandong-2021": "reported_demand_times_ratio",
                   "hubei-2019": "reported_demand", "chongqing-2019": "share_of_last_year_use", "chongqing-liangjiang-2023": "reported_demand"}


@pytest.mark.parametrize("case", BY_PROFILE)
def test_the_agreed_volume_is_allocated_by_the_profiles_method(year_run: Any, case: ProfileCase) -> None:
    """任务量分解: Guizhou 000 §五(一) platform share, Shandong 001 §一 demand × ratio, Hubei 003 §四(一) reported demand by county,
    Chongqing 004 §二(二) 60–70% of last year's use, Liangjiang 002 reported demand."""
    allocation = seen_for(year_run, case)["allocation"]
    assert (allocation["status"], allocation["profile_id"], allocation["profile_method"]) == ("approved", case.profile_id, PROFILE_METHODS[case.profile_id])
    assert allocation["group_by_county"] is (case.profile_id == "hubei-2019")
    [line] = allocation["lines"]
    assert line["allocated_quantity"] == case.agreed_quantity


@pytest.mark.parametrize("case", BY_PROFILE)
def test_the_volume_still_owed_is_visible_on_the_yearly_agreement(year_run: Any, case: ProfileCase) -> None:
    agreement = seen_for(year_run, case)["yearly_agreement"]
    agreed = case.amended_to or case.agreed_quantity
    assert (agreement["agreed_quantity"], agreement["accepted_quantity"], agreement["returned_quantity"]) == (
        agreed, case.quantity, case.returned_quantity)
    assert agreement["owed_quantity"] == agreed - case.quantity + case.returned_quantity


@pytest.mark.parametrize("case", [pytest.param(c, id=c.profile_id) for c in CASES if c.rolled_over])
def test_the_next_agreement_year_is_signed_from_the_previous_one(year_run: Any, case: ProfileCase) -> None:
    """采购协议每年一签: in a two-year cycle the second year rolls over with the first year's volume."""
    second = seen_for(year_run, case)["second_year_agreement"]
    assert (second["agreement_year"], second["year_start"], second["year_end"]) == (2, "2027-01-01", "2027-12-31")
    assert (second["agreed_quantity"], second["owed_quantity"]) == (case.agreed_quantity, case.agreed_quantity)


@pytest.mark.parametrize("case", BY_PROFILE)
def test_direct_settlement_is_deducted_from_the_monthly_settlement(year_run: Any, case: ProfileCase) -> None:
    [september] = seen_for(year_run, case)["monthly_settlements"]
    by_fund = sum(float(p.amount) for p in case.payments if p.payer == "insurance_fund" and p.paid_on.startswith("2026-09"))
    assert float(september["direct_settlement_deductions"]) == by_fund
    assert float(september["net_paid"]) == 800000 - by_fund


@pytest.mark.parametrize("case", BY_PROFILE)
def test_prepayments_follow_the_profile(year_run: Any, case: ProfileCase) -> None:
    """R5: Hubei two phases (003 §四(三)), Guizhou yearly (000 §五(三)), Chongqing ≥50% (004 §二(七)); none elsewhere."""
    answer = seen_for(year_run, case)["prepayments"]
    if case.profile_id in ("shandong-2021", "chongqing-liangjiang-2023"):
        assert answer["status"] == 422 and case.profile_id in str(answer["body"])
        return
    assert answer["status"] == 200, answer
    schedule = answer["body"]
    assert schedule["profile_id"] == case.profile_id and schedule["procurement_budget"] == budget_of(case)
    floors = [float(i["minimum_amount"]) for i in schedule["instalments"]]
    if case.profile_id == "hubei-2019":
        assert floors == [float(amount) for _, _, amount in HUBEI_PHASES]
        assert all(i["due"] and i["shortfall"] == "0.00" for i in schedule["instalments"])
        assert schedule["disbursed"] == "9000.00"
        # 清算 at the cycle end: 9,000 prepaid against 750 invoiced → 8,250 go back to the fund
        liquidation = schedule["liquidation"]
        assert (liquidation["prepaid"], liquidation["invoiced"], liquidation["outcome"], liquidation["amount"]) == ("9000.00", "750.00", "return", "8250.00")
    elif case.profile_id == "chongqing-2019":
        assert floors == [5000.0]
    else:
        # no monthly settlements of 2025 known: the floor is 30% of the procurement amount
        assert floors == [0.3 * float(budget_of(case))] and schedule["as_of"] == LAST_CLOSED_DAY.isoformat()


def test_an_order_placed_on_the_platform_is_delivered_through_the_his_acceptance(year_run: Any) -> None:
    [case] = [c for c in CASES if c.ordered]
    order = seen_for(year_run, case)["order"]
    assert (order["status"], order["confirmed_on"], order["shipped_on"]) == ("delivered", "2026-07-07", "2026-07-10")


@pytest.mark.parametrize("case", BY_PROFILE)
def test_non_winning_purchases_are_capped_where_the_profile_caps_them(year_run: Any, case: ProfileCase) -> None:
    july = [m for m in seen_for(year_run, case)["non_winning"]["months"] if m["month"] == "2026-07"]
    if not case.non_winning_base_units:
        assert all(not g["exceeded"] for m in july for g in m["groups"])
        return
    [month] = july
    [group] = month["groups"]
    winning = case.quantity * 7 if case.accepted_on.startswith("2026-07") else 0
    assert (float(group["winning_base_units"]), float(group["non_winning_base_units"])) == (winning, case.non_winning_base_units)
    assert group["exceeded"] is (case.non_winning_base_units > winning)
    assert group["profile_id"] == case.profile_id and group["cap_ratio"] is not None


@pytest.mark.parametrize("case", BY_PROFILE)
def test_volume_completion_is_decided_only_where_the_profile_has_it_and_it_is_live(year_run: Any, case: ProfileCase) -> None:
    """R3 (Guizhou 000 §五(三)): live in Guizhou from 2026-07-01 in this platform's region data; no other notice has it."""
    completion = seen_for(year_run, case)["volume_completion"]
    decided = [(p["period_end"], d["kind"]) for p in completion["periods"] for d in p["decisions"]]
    if case.profile_id != "guizhou-2020":
        assert decided == [] and completion["status"] == "normal"
        return
    [q3] = [p for p in completion["periods"] if p["period_end"] == "2026-09-30"]
    [line] = q3["contracts"]
    assert (float(line["target_quantity"]), line["accepted_quantity"]) == (480, 380)
    assert q3["ratio"].startswith("0.7916")
    # Q4: the whole 640 is due, 380 bought → 59.38%: below 80% (warned) and below 70% (suspended from the next month)
    [q4] = [p for p in completion["periods"] if p["period_end"] == "2026-12-31"]
    assert q4["ratio"].startswith("0.5937")
    assert sorted(decided) == [("2026-09-30", "volume_warning"), ("2026-12-31", "settlement_suspended"), ("2026-12-31", "volume_warning")]
    assert completion["suspended_from"] == "2027-01-01"
    assert all(p["period_end"] >= GUIZHOU_VOLUME_COMPLETION_FROM for p in completion["periods"])


DEADLINE_MONTH_ON_TIME = {"guizhou-2020": ("2026-09", 0), "hubei-2019": ("2026-09", 0), "chongqing-2019": ("2026-08", 1),
                          "chongqing-liangjiang-2023": ("2026-08", 0)}


@pytest.mark.parametrize("case", BY_PROFILE)
def test_monthly_kpis_follow_the_profile_indicators(year_run: Any, case: ProfileCase) -> None:
    """R7: on-time payment rate in the month of the deadline, only where the profile monitors it (Shandong lists none)."""
    kpis = seen_for(year_run, case)["kpis"]
    if case.profile_id not in DEADLINE_MONTH_ON_TIME:
        assert all(k["indicators"] == [] for k in kpis.values())
        return
    month, on_time = DEADLINE_MONTH_ON_TIME[case.profile_id]
    by_indicator = {k["indicator"]: k for k in kpis[month]["indicators"]}
    rate = by_indicator["on_time_payment_rate"]
    assert (float(rate["value"]), float(rate["numerator"]), float(rate["denominator"])) == (on_time, on_time, 1)
    assert kpis[month]["profile_id"] == case.profile_id


def test_kpis_rank_institutions_across_regions(year_run: Any) -> None:
    ranking = year_run[1]["platform"]["on_time_ranking_2026_08"]
    ranked = [(r["institution_id"], r["rank"]) for r in ranking if r["value"] is not None]
    assert ranked == [("CH-H1", 1), ("CHLJ-H1", 2)]


@pytest.mark.parametrize("case", BY_PROFILE)
def test_a_missing_manufacturer_report_is_an_alert_where_the_profile_requires_it(year_run: Any, case: ProfileCase) -> None:
    """Hubei 003 §五(二): manufacturers report the previous month by the 5th; July's came on 08-03, August's and September's never."""
    missed = seen_for(year_run, case)["missed_reports"]
    if case.profile_id != "hubei-2019":
        assert missed == []
        return
    assert [(m["month"], m["due_on"], m["status"]) for m in missed if m["month"] >= "2026-07"] == [
        ("2026-08", "2026-09-05", "missing"), ("2026-09", "2026-10-05", "missing"), ("2026-10", "2026-11-05", "missing"),
        ("2026-11", "2026-12-05", "missing")]


def test_the_year_end_shortfall_report_names_what_each_institution_did_not_buy(year_run: Any) -> None:
    """Guizhou 000 §五(五): a missed agreed volume reduces next year's insurance budget; each agreement capped at its volume."""
    report = {r["institution_id"]: r for r in year_run[1]["platform"]["shortfall_2026"]}
    for case in CASES:
        agreed = case.amended_to or case.agreed_quantity
        bought = case.quantity - case.returned_quantity
        row = report[case.institution]
        assert (row["agreed_quantity"], row["accepted_quantity"], row["shortfall_quantity"]) == (agreed, bought, agreed - bought)


@pytest.mark.parametrize("case", BY_PROFILE)
def test_filing_purchases_over_the_warning_line_are_flagged(year_run: Any, case: ProfileCase) -> None:
    """Liangjiang 002 §二(三): the bureau sets each institution's filing-purchase warning line; going over it is an alert and a KPI."""
    seen = seen_for(year_run, case)
    if not case.filing_over_line:
        assert seen["filing_warnings"] == []
        return
    [warning] = seen["filing_warnings"]
    assert (warning["year"], float(warning["filing_amount"]), float(warning["warning_line"]), warning["line_source"]) == (2026, 6000, 5000, "institution")
    [kpi] = [k for k in seen["kpis_october"]["indicators"] if k["indicator"] == "filing_purchase_amount"]
    assert (float(kpi["year_to_date"]), float(kpi["warning_line"])) == (6000, 5000)


def test_an_institutions_status_can_be_asked_as_of_any_past_day(year_run: Any) -> None:
    """As of 09-29 Guizhou's invoice was overdue and warned; as of 10-05 its settlement was withheld (from 09-30)."""
    [case] = [c for c in CASES if c.profile_id == "guizhou-2020"]
    before, after = (seen_for(year_run, case)["as_of"][day] for day in ("2026-09-29", "2026-10-05"))
    assert [(i["invoice_id"], i["overdue"]) for i in before["invoices"]] == [(case.invoice, True)]
    assert [w["kind"] for w in before["warnings"]] == ["payment_overdue_warning"] and before["withholds"] == []
    assert [(w["kind"], w["since"]) for w in after["withholds"]] == [("settlement_withheld", "2026-09-30")]
