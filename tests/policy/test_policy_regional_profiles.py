"""The five regional profiles: every notice number, R1 on real 2026 dates, region resolution,
and refusal of invalid variants of the added sections.

2026 schedule (国办发明电〔2025〕7号, see test_policy_deadlines.py): rest 01-01..01-03,
02-15..02-23, 04-04..04-06, 05-01..05-05, 06-19..06-21, 09-25..09-27, 10-01..10-07;
make-up working days 01-04 (Sun), 02-14 (Sat), 02-28 (Sat), 05-09 (Sat), 09-20 (Sun),
10-10 (Sat). Expected dates are counted by hand (start day not counted; a rest-day end
moves to the next working day).
"""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from jicai_policy import (
    NoProfileForRegion,
    PaymentTermRule,
    PolicyBook,
    PolicyFileError,
    load_policy_book,
    parse_profile,
    payment_deadline,
    withhold_date,
)
from jicai_policy.loading import PACKAGED_PROFILE_DIR
from jicai_policy.sections.common import Basis
from jicai_policy.sections.fund import PrepaymentTrigger
from jicai_policy.sections.monitoring import Kpi
from jicai_policy.sections.procurement import AllocationMethod

PROFILE_IDS = ["guizhou-2020", "shandong-2021", "hubei-2019", "chongqing-2019", "chongqing-liangjiang-2023"]


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return load_policy_book(calendar_overrides=())


def _data(profile_id: str) -> dict[str, Any]:
    with (PACKAGED_PROFILE_DIR / f"{profile_id}.toml").open("rb") as handle:
        return tomllib.load(handle)


# --- every profile loads -------------------------------------------------------------------------


def test_the_packaged_book_holds_exactly_the_five_profiles(book: PolicyBook) -> None:
    """Five notices; Guizhou's in two versions (version 2 transcribes its payment standard, §五(五))."""
    assert set(book.profiles) == {(profile_id, 1) for profile_id in PROFILE_IDS} | {("guizhou-2020", 2)}


@pytest.mark.parametrize("profile_id", PROFILE_IDS)
def test_every_profile_loads_and_cites_its_seed(book: PolicyBook, profile_id: str) -> None:
    profile = book.get(profile_id, 1)
    seed = profile.source.split(" ")[0].split(".txt")[0]
    assert profile.timezone == "Asia/Shanghai"
    assert profile.payment_term.source.startswith(seed)
    assert profile.overdue.source.startswith(seed)


# --- R1 payment term per profile ------------------------------------------------------------------

R1_CASES = [
    # profile, acceptance, invoice received, deadline
    # Guizhou 000 §五(三): 30 days from the later of acceptance and invoice
    ("guizhou-2020", date(2026, 9, 1), date(2026, 9, 3), date(2026, 10, 8)),  # 10-03 National Day -> 10-08
    ("guizhou-2020", date(2026, 4, 20), date(2026, 4, 1), date(2026, 5, 20)),  # acceptance is later
    ("guizhou-2020", date(2026, 8, 21), date(2026, 8, 21), date(2026, 9, 20)),  # Sun make-up day stays
    # Shandong 001 / Chongqing 004: platform default, same rule
    ("shandong-2021", date(2026, 4, 1), date(2026, 4, 5), date(2026, 5, 6)),  # 05-05 Labour Day -> 05-06
    ("shandong-2021", date(2026, 9, 1), date(2026, 9, 3), date(2026, 10, 8)),
    ("chongqing-2019", date(2026, 1, 10), date(2026, 1, 15), date(2026, 2, 14)),  # Sat make-up day stays
    ("chongqing-2019", date(2026, 5, 20), date(2026, 5, 21), date(2026, 6, 22)),  # 06-20 Dragon Boat -> Mon 06-22
    # Hubei 003 §四(三): 30 days from acceptance (入库), invoice irrelevant
    ("hubei-2019", date(2026, 9, 1), None, date(2026, 10, 8)),  # 10-01 -> 10-08
    ("hubei-2019", date(2026, 9, 10), date(2026, 9, 30), date(2026, 10, 10)),  # Sat make-up day stays
    ("hubei-2019", date(2026, 3, 6), None, date(2026, 4, 7)),  # 04-05 Qingming, 04-06 rest -> 04-07
    ("hubei-2019", date(2026, 6, 2), None, date(2026, 7, 2)),  # ordinary Thursday
    # Liangjiang 002 §三(四): end of the month after acceptance
    ("chongqing-liangjiang-2023", date(2026, 8, 15), None, date(2026, 9, 30)),  # Wednesday
    ("chongqing-liangjiang-2023", date(2026, 8, 31), None, date(2026, 9, 30)),
    ("chongqing-liangjiang-2023", date(2026, 9, 1), None, date(2026, 11, 2)),  # 10-31 Sat -> Mon 11-02
    ("chongqing-liangjiang-2023", date(2026, 9, 30), None, date(2026, 11, 2)),
    ("chongqing-liangjiang-2023", date(2026, 1, 20), None, date(2026, 2, 28)),  # Sat make-up day stays
    ("chongqing-liangjiang-2023", date(2026, 3, 10), None, date(2026, 4, 30)),  # Thursday
]


@pytest.mark.parametrize(("profile_id", "accepted", "invoiced", "expected"), R1_CASES)
def test_payment_deadline_per_profile_on_2026_dates(
    book: PolicyBook, profile_id: str, accepted: date, invoiced: date | None, expected: date
) -> None:
    profile = book.get(profile_id, 1)
    assert payment_deadline(profile.payment_term, accepted, invoiced, book.calendar) == expected


def test_payment_term_rules_and_basis(book: PolicyBook) -> None:
    expected = {
        "guizhou-2020": (PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS, 30, Basis.NOTICE),
        "shandong-2021": (PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS, 30, Basis.PLATFORM_DEFAULT),
        "chongqing-2019": (PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS, 30, Basis.PLATFORM_DEFAULT),
        "hubei-2019": (PaymentTermRule.ACCEPTANCE_PLUS_DAYS, 30, Basis.NOTICE),
        "chongqing-liangjiang-2023": (PaymentTermRule.END_OF_MONTH_AFTER_ACCEPTANCE, None, Basis.NOTICE),
    }
    for profile_id, (rule, days, basis) in expected.items():
        term = book.get(profile_id, 1).payment_term
        assert (term.rule, term.days, term.basis) == (rule, days, basis), profile_id
        assert (term.basis_reason is not None) == (basis is Basis.PLATFORM_DEFAULT), profile_id



def test_a_credit_note_restarts_the_clock_only_where_it_counts_from_invoice_receipt(book: PolicyBook) -> None:
    """红冲: Guizhou 000 §五(三) (and the Shandong/Chongqing platform default) count from the later of acceptance and invoice,
    so the corrected invoice is received with the credit note; Hubei 003 §四(三) and Liangjiang 002 §三(四) count from acceptance."""
    restarts = {profile_id: book.get(profile_id, 1).payment_term.credit_note_restarts_clock for profile_id in PROFILE_IDS}
    assert restarts == {
        "guizhou-2020": True, "shandong-2021": True, "chongqing-2019": True, "hubei-2019": False, "chongqing-liangjiang-2023": False,
    }

# --- R2 .. R7 numbers -----------------------------------------------------------------------------


def test_only_guizhou_withholds(book: PolicyBook) -> None:
    guizhou = book.get("guizhou-2020", 1).overdue
    assert guizhou.withhold_enabled is True
    assert guizhou.grace_working_days == 10
    assert guizhou.basis is Basis.NOTICE
    assert withhold_date(date(2026, 10, 9), guizhou, book.calendar) == date(2026, 10, 23)  # 10-10 make-up day counts
    for profile_id in PROFILE_IDS[1:]:
        overdue = book.get(profile_id, 1).overdue
        assert overdue.withhold_enabled is False, profile_id
        assert overdue.grace_working_days == 0, profile_id
        assert overdue.basis is Basis.PLATFORM_DEFAULT, profile_id


def test_volume_completion_defaults_keep_guizhou_unchanged(book: PolicyBook) -> None:
    volume = book.get("guizhou-2020", 1).volume_completion
    assert volume is not None
    assert (volume.period, volume.warning_below, volume.suspend_below) == ("quarter", Decimal("0.80"), Decimal("0.70"))
    assert volume.combination == "amount_weighted_capped"
    assert volume.targets == "even_periods_from_cycle_start"
    for profile_id in PROFILE_IDS[1:]:
        assert book.get(profile_id, 1).volume_completion is None, profile_id  # no thresholds in the notice


def test_prepayment_forms(book: PolicyBook) -> None:
    hubei = book.get("hubei-2019", 1).prepayment
    assert hubei is not None
    assert hubei.minimum_total_share_of_procurement_budget == Decimal("0.90")
    assert hubei.earmarked and hubei.liquidated_at_cycle_end
    first, second = hubei.phases
    assert first.triggers == (PrepaymentTrigger.CONTRACT_SIGNED,)
    assert first.min_share_of_procurement_budget == Decimal("0.30")
    assert second.triggers == (PrepaymentTrigger.HALF_CYCLE_ELAPSED, PrepaymentTrigger.AGREED_VOLUME_SHARE_REACHED)
    assert second.trigger_volume_share == Decimal("0.60")
    chongqing = book.get("chongqing-2019", 1).prepayment
    assert chongqing is not None and chongqing.minimum_share_of_procurement_amount == Decimal("0.50")
    assert chongqing.phases == ()
    guizhou = book.get("guizhou-2020", 1).prepayment
    assert guizhou is not None and guizhou.phases == () and guizhou.paid_by_month == 1
    assert book.get("shandong-2021", 1).prepayment is None
    assert book.get("chongqing-liangjiang-2023", 1).prepayment is None


def test_other_sections(book: PolicyBook) -> None:
    shandong = book.get("shandong-2021", 1)
    hubei = book.get("hubei-2019", 1)
    chongqing = book.get("chongqing-2019", 1)
    liangjiang = book.get("chongqing-liangjiang-2023", 1)
    guizhou = book.get("guizhou-2020", 1)
    # R4
    caps = {pid: book.get(pid, 1).non_winning_cap for pid in PROFILE_IDS}
    assert {pid for pid, cap in caps.items() if cap is not None} == {"guizhou-2020", "chongqing-2019", "chongqing-liangjiang-2023"}
    # direct settlement
    assert shandong.direct_settlement is not None and shandong.direct_settlement.allowed
    assert hubei.direct_settlement is not None and hubei.direct_settlement.allowed
    assert chongqing.direct_settlement is not None and not chongqing.direct_settlement.allowed
    # R6
    assert shandong.payment_standard is not None
    assert shandong.payment_standard.dearer_non_winning_self_pay_increase == Decimal("0.10")
    assert hubei.payment_standard is not None and hubei.payment_standard.patient_pays_excess
    # allocation
    assert shandong.allocation is not None and shandong.allocation.method is AllocationMethod.REPORTED_DEMAND_TIMES_RATIO
    assert guizhou.allocation is not None and guizhou.allocation.method is AllocationMethod.SHARE_OF_PLATFORM_PURCHASES
    assert chongqing.allocation is not None and chongqing.allocation.method is AllocationMethod.SHARE_OF_LAST_YEAR_USE
    assert (chongqing.allocation.min_share_of_last_year_use, chongqing.allocation.max_share_of_last_year_use) == (
        Decimal("0.60"),
        Decimal("0.70"),
    )
    assert hubei.allocation is not None and hubei.allocation.primary_care_grouped_by == "county"
    # cycle
    assert hubei.cycle is not None
    assert [(rule.max_winners, rule.years) for rule in hubei.cycle.by_winner_count] == [(2, 1), (3, 2)]
    assert hubei.cycle.extendable_years == 1
    assert guizhou.cycle is not None and (guizhou.cycle.min_years, guizhou.cycle.max_years) == (1, 3)
    # filing purchases, KPIs, manufacturers' report
    assert liangjiang.filing_purchase is not None and liangjiang.filing_purchase.warning_line_enabled
    assert liangjiang.kpis is not None
    assert {Kpi.ON_TIME_PAYMENT_RATE, Kpi.OFFLINE_PURCHASE_SHARE, Kpi.PLATFORM_PURCHASE_RATE} <= set(liangjiang.kpis.indicators)
    assert hubei.manufacturer_report is not None and hubei.manufacturer_report.due_day_of_month == 5


# --- regions -> profiles with effective dates -----------------------------------------------------

SHANDONG_CITIES = [f"37{n:02d}00" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17)]
HUBEI_DIVISIONS = [
    "420100", "420200", "420300", "420500", "420600", "420700", "420800", "420900",
    "421000", "421100", "421200", "421300", "422800", "429004", "429005", "429006", "429021",
]  # fmt: skip

REGION_CASES = [
    # region, first day, profile
    *[(code, date(2021, 2, 1), "shandong-2021") for code in SHANDONG_CITIES],
    *[(code, date(2019, 12, 1), "hubei-2019") for code in HUBEI_DIVISIONS],
    ("500000", date(2019, 3, 20), "chongqing-2019"),
    ("520100", date(2020, 4, 14), "guizhou-2020"),
]


@pytest.mark.parametrize(("code", "first_day", "profile_id"), REGION_CASES)
def test_region_resolves_from_its_effective_date(book: PolicyBook, code: str, first_day: date, profile_id: str) -> None:
    assert book.profile_for(code, first_day).profile_id == profile_id
    assert book.profile_for(code, date(2026, 9, 1)).profile_id == profile_id
    with pytest.raises(NoProfileForRegion, match=f"takes effect on {first_day.isoformat()}"):
        book.profile_for(code, date.fromordinal(first_day.toordinal() - 1))


def test_region_counts(book: PolicyBook) -> None:
    assert len(SHANDONG_CITIES) == 16 and "371200" not in book.regions  # 莱芜 merged into 济南
    assert len(HUBEI_DIVISIONS) == 17
    assert set(book.regions) == {*SHANDONG_CITIES, *HUBEI_DIVISIONS, "500000", "500099"} | {
        code for code in book.regions if code.startswith("52")
    }
    assert book.entry_for("370100", date(2026, 1, 1)).region_name == "济南市"
    assert book.entry_for("429004", date(2026, 1, 1)).region_name == "仙桃市"


def test_liangjiang_switches_from_municipal_to_its_own_profile(book: PolicyBook) -> None:
    with pytest.raises(NoProfileForRegion):
        book.profile_for("500099", date(2019, 3, 19))
    assert book.profile_for("500099", date(2019, 3, 20)).profile_id == "chongqing-2019"
    assert book.profile_for("500099", date(2022, 12, 31)).profile_id == "chongqing-2019"
    assert book.profile_for("500099", date(2023, 1, 1)).profile_id == "chongqing-liangjiang-2023"
    assert book.profile_for("500000", date(2026, 9, 1)).profile_id == "chongqing-2019"


# --- invalid variants are refused with file, field and reason -------------------------------------

DELETE = object()


def _set(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    target: Any = changed
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


PHASES = "prepayment.phases"
INVALID_CASES = [
    # (profile, key changed, new value, field named in the error, part of the reason)
    ("hubei-2019", "prepayment.minimum_total_share_of_procurement_budget", "0.20", "prepayment", "phase floors add up to 0.30"),
    ("hubei-2019", "prepayment.minimum_total_share_of_procurement_budget", "1.1",
     "prepayment.minimum_total_share_of_procurement_budget", "less than or equal to 1"),
    ("hubei-2019", "prepayment.minimum_total_share_of_procurement_budget", DELETE, "prepayment",
     "phases need 'minimum_total_share_of_procurement_budget'"),
    ("hubei-2019", f"{PHASES}.0.phase", 2, "prepayment", "numbered 1, 2"),
    ("hubei-2019", f"{PHASES}.1.trigger_volume_share", DELETE, f"{PHASES}.1", "needs 'trigger_volume_share'"),
    ("hubei-2019", f"{PHASES}.1.trigger_volume_share", "1.6", f"{PHASES}.1.trigger_volume_share", "less than or equal to 1"),
    ("hubei-2019", f"{PHASES}.0.triggers", [], f"{PHASES}.0.triggers", "at least 1"),
    ("hubei-2019", f"{PHASES}.0.triggers", ["on_demand"], f"{PHASES}.0.triggers.0", "'on_demand'"),
    ("hubei-2019", "cycle.min_years", 3, "cycle", "min_years (3) exceeds max_years (2)"),
    ("hubei-2019", "cycle.by_winner_count.1.max_winners", 2, "cycle", "strictly increasing"),
    ("hubei-2019", "cycle.years_max", 3, "cycle.years_max", "Extra inputs are not permitted"),
    ("hubei-2019", "manufacturer_report.due_day_of_month", 31, "manufacturer_report.due_day_of_month", "less than or equal to 28"),
    ("hubei-2019", "kpis.indicators", ["volume_completion", "volume_completion"], "kpis", "listed twice"),
    ("hubei-2019", "kpis.indicators", ["bogus"], "kpis.indicators.0", "'bogus'"),
    ("hubei-2019", "allocation.primary_care_grouped_by", "province", "allocation.primary_care_grouped_by", "'province'"),
    ("hubei-2019", "withhold", False, "withhold", "Extra inputs are not permitted"),
    ("hubei-2019", "overdue.grace_working_days", 10, "overdue", "only applies when withhold_enabled"),
    ("hubei-2019", "overdue.withhold_enabled", True, "overdue", "withhold_enabled needs 'grace_working_days'"),
    ("hubei-2019", "overdue.basis_reason", DELETE, "overdue", "needs 'basis_reason'"),
    ("shandong-2021", "payment_term.basis_reason", DELETE, "payment_term", "needs 'basis_reason'"),
    ("shandong-2021", "payment_term.basis", "guess", "payment_term.basis", "'guess'"),
    ("hubei-2019", "payment_term.basis_reason", "because", "payment_term", "only applies to basis 'platform_default'"),
    ("shandong-2021", "payment_standard.dearer_non_winning_self_pay_increase", "10",
     "payment_standard.dearer_non_winning_self_pay_increase", "less than or equal to 1"),
    ("chongqing-2019", "allocation.min_share_of_last_year_use", "0.80", "allocation", "exceeds max_share_of_last_year_use (0.70)"),
    ("chongqing-2019", "allocation.max_share_of_last_year_use", DELETE, "allocation", "needs min_ and max_share"),
    ("chongqing-2019", "prepayment.minimum_share_of_procurement_amount", "1.5",
     "prepayment.minimum_share_of_procurement_amount", "less than or equal to 1"),
    ("chongqing-2019", "direct_settlement.stage", "someday", "direct_settlement.stage", "'someday'"),
    ("chongqing-liangjiang-2023", "filing_purchase.amount_warning_line", "-1", "filing_purchase.amount_warning_line",
     "greater than or equal to 0"),
    ("chongqing-liangjiang-2023", "payment_term.days", 30, "payment_term", "takes no 'days'"),
    ("guizhou-2020", "volume_completion.combination", "sum", "volume_completion.combination", "'sum'"),
    ("guizhou-2020", "volume_completion.suspend_below", "0.90", "volume_completion", "must not exceed warning_below"),
]  # fmt: skip


@pytest.mark.parametrize(("profile_id", "dotted", "value", "field", "reason"), INVALID_CASES)
def test_invalid_variants_are_refused(profile_id: str, dotted: str, value: Any, field: str, reason: str) -> None:
    origin = f"profiles/{profile_id}.toml"
    with pytest.raises(PolicyFileError) as caught:
        parse_profile(_set(_data(profile_id), dotted, value), origin)
    problems = caught.value.problems
    assert any(f == field and reason in r for f, r in problems), problems
    assert f"{origin}: {field}: " in str(caught.value)


def test_an_invalid_new_profile_stops_the_whole_book(tmp_path: Any) -> None:
    for source in PACKAGED_PROFILE_DIR.glob("*.toml"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    hubei = tmp_path / "hubei-2019.toml"
    hubei.write_text(hubei.read_text(encoding="utf-8").replace('"0.90"', '"0.20"'), encoding="utf-8")
    with pytest.raises(PolicyFileError, match=r"hubei-2019\.toml: prepayment: phase floors add up to 0\.30"):
        load_policy_book(tmp_path, calendar_overrides=())


@pytest.mark.parametrize("profile_id", PROFILE_IDS[1:])
def test_no_withhold_is_scheduled_for_profiles_without_one(book: PolicyBook, profile_id: str) -> None:
    overdue = book.get(profile_id, 1).overdue
    with pytest.raises(ValueError, match="withhold_enabled = false"):
        withhold_date(date(2026, 10, 9), overdue, book.calendar)
