"""R3 volume completion on real PostgreSQL: contracts and acceptances in through the real consumer
path, decisions out through the API, the outbox and the metrics.

Guizhou (贵阳市 520100), contract cycle 2026-01-01..12-31, agreed 4000 boxes: the
cumulative target at the end of Q1 (2026-03-31) is 1000. R3 goes live in Guizhou on
2026-01-01 (``volume_completion_from`` in the policy directory's ``regions.toml``).
"""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from jicai_alerts.adapters.policy import FOLDED
from jicai_events.catalog import ContractSigned, DeliveryAccepted, DeliveryReturned, YearlyAgreementAmended, YearlyAgreementSigned
from jicai_kit.auth import Role
from jicai_policy.loading import PACKAGED_PROFILE_DIR
from tests.service.alerts.test_flow import Alerts, default_alerts
from tests.support.shared_apps import DefaultApps


def policy_dir_with_go_live(tmp_path: Path, assignment_source: str, go_live: str) -> Path:
    """The packaged profiles, with ``go_live`` (e.g. ``volume_completion_from = 2026-01-01``) added to one assignment."""
    directory = tmp_path / "policy"
    shutil.copytree(PACKAGED_PROFILE_DIR, directory)
    regions = directory / "regions.toml"
    text = regions.read_text(encoding="utf-8")
    line = f'source = "{assignment_source}"\n'
    assert line in text
    regions.write_text(text.replace(line, line + go_live + "\n"), encoding="utf-8")
    return directory


GUIZHOU_SOURCE = "000_0b8eb23f70a351bf.txt (黔医保发〔2020〕30号, 2020-04-14)"


@pytest.fixture
def alerts(
    default_apps: DefaultApps, token: Callable[[str, Role], dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> Iterator[Alerts]:
    monkeypatch.setenv("JICAI_POLICY_DIR", str(policy_dir_with_go_live(tmp_path, GUIZHOU_SOURCE, "volume_completion_from = 2026-01-01")))
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    yield default_alerts(default_apps, token)
    FOLDED.reset()

WARNED = "cn.jicai.alerts.VolumeCompletionWarned.v1"
SUSPENDED = "cn.jicai.alerts.SettlementSuspended.v1"
RESUMED = "cn.jicai.alerts.SettlementResumed.v1"
GRANTED = "cn.jicai.alerts.VolumeExemptionGranted.v1"


def contract(contract_id: str = "C1", product: str = "P1", agreed: int = 4000, price: str = "10.0000") -> ContractSigned:
    return ContractSigned(
        contract_id=contract_id, institution_id="H001", pooling_region_code="520100", manufacturer_id="M001",
        distributor_id="D001", product_id=product, unit_price=Decimal(price), agreed_quantity=agreed,
        cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31), signed_on=date(2025, 12, 20),
    )


def accepted(acceptance_id: str, quantity: int, on: date, contract_id: str = "C1", product: str = "P1") -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=acceptance_id, external_id=f"HIS-{acceptance_id}", institution_id="H001", pooling_region_code="520100",
        contract_id=contract_id, product_id=product, distributor_id="D001", accepted_quantity=quantity, rejected_quantity=0,
        accepted_on=on, lot_number="L1", unit_price=Decimal("10.0000"), accepted_amount=Decimal(quantity * 10).quantize(Decimal("0.01")),
    )


def volume_kinds(alerts: Alerts) -> list[tuple[str, dict[str, object]]]:
    return [(kind, data) for kind, data in alerts.outbox() if ".Volume" in kind or "Suspended" in kind or "Resumed" in kind]


def test_75_percent_at_the_end_of_q1_is_warned(alerts: Alerts) -> None:
    alerts.deliver(contract())
    alerts.deliver(accepted("A1", 750, date(2026, 2, 10)))

    alerts.close_days(date(2026, 3, 30), date(2026, 3, 30))
    assert volume_kinds(alerts) == []
    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))

    [(kind, data)] = volume_kinds(alerts)
    assert (kind, data["decision_id"], data["ratio"], data["profile_id"]) == (
        WARNED, "volume-warning-H001-2026-03-31", "0.7500", "guizhou-2020",
    )
    completion = alerts.get("/institutions/H001/volume-completion")
    assert completion["status"] == "normal"
    [q1] = completion["periods"]
    assert (q1["period_end"], q1["ratio"], q1["target_amount"], q1["accepted_amount"]) == ("2026-03-31", "0.7500", "10000.00", "7500.00")
    assert [(c["contract_id"], c["target_quantity"], c["accepted_quantity"]) for c in q1["contracts"]] == [("C1", "1000.00", 750)]
    assert [d["kind"] for d in q1["decisions"]] == ["volume_warning"]


def test_65_percent_is_suspended_from_april_then_catching_up_resumes_it(alerts: Alerts) -> None:
    alerts.deliver(contract())
    alerts.deliver(accepted("A1", 650, date(2026, 3, 20)))

    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))

    assert [(k, d["decision_id"]) for k, d in volume_kinds(alerts)] == [
        (WARNED, "volume-warning-H001-2026-03-31"), (SUSPENDED, "volume-suspension-H001-2026-03-31"),
    ]
    assert volume_kinds(alerts)[1][1]["suspended_from"] == "2026-04-01"
    completion = alerts.get("/institutions/H001/volume-completion")
    assert (completion["status"], completion["suspended_from"]) == ("suspended", "2026-04-01")
    assert "jicai_suspended_institutions 1.0" in alerts.client.get("/metrics").text

    alerts.deliver(accepted("A2", 350, date(2026, 4, 14)))
    alerts.close_days(date(2026, 4, 1), date(2026, 4, 14))

    kind, data = volume_kinds(alerts)[-1]
    assert (kind, data["resumed_on"], data["suspension_decision_id"]) == (RESUMED, "2026-04-14", "volume-suspension-H001-2026-03-31")
    assert alerts.get("/institutions/H001/volume-completion")["status"] == "normal"
    assert "jicai_suspended_institutions 0.0" in alerts.client.get("/metrics").text


def test_over_buying_one_product_does_not_hide_another_s_shortfall(alerts: Alerts) -> None:
    alerts.deliver(contract("C1", "P1"))
    alerts.deliver(contract("C2", "P2"))
    alerts.deliver(accepted("A1", 3000, date(2026, 2, 1), "C1", "P1"))  # 300% of C1's Q1 target
    alerts.deliver(accepted("A2", 300, date(2026, 2, 1), "C2", "P2"))  # 30% of C2's

    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))

    assert [(k, d["ratio"]) for k, d in volume_kinds(alerts)] == [(WARNED, "0.6500"), (SUSPENDED, "0.6500")]
    [q1] = alerts.get("/institutions/H001/volume-completion")["periods"]
    assert [(c["contract_id"], c["ratio"]) for c in q1["contracts"]] == [("C1", "1.0000"), ("C2", "0.3000")]


def test_an_exemption_prevents_the_decisions_and_bad_input_is_refused(
    alerts: Alerts, token: Callable[[str, Role], dict[str, str]]
) -> None:
    alerts.deliver(contract())
    alerts.deliver(accepted("A1", 100, date(2026, 2, 1)))
    body = {"exemption_id": "X1", "reason": "洪灾 (flood)", "from": "2026-03-01", "to": "2026-04-30"}

    refused = alerts.client.post("/institutions/H001/volume-exemptions", json={**body, "to": "2026-02-01"}, headers=alerts.headers)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert "to" in refused.text
    missing = alerts.client.post("/institutions/H001/volume-exemptions", json={**body, "reason": ""}, headers=alerts.headers)
    assert missing.status_code == 422 and "reason" in missing.text
    bad_date = alerts.client.post("/institutions/H001/volume-exemptions", json={**body, "from": "2026-13-01"}, headers=alerts.headers)
    assert bad_date.status_code == 422 and '"from"' in bad_date.text
    hospital = token("H001", Role.INSTITUTION)
    assert alerts.client.post("/institutions/H001/volume-exemptions", json=body, headers=hospital).status_code == 403
    assert alerts.client.get("/institutions/H001/volume-completion", headers=token("H002", Role.INSTITUTION)).status_code == 403
    granted = alerts.client.post("/institutions/H001/volume-exemptions", json=body, headers=alerts.headers)
    assert granted.status_code == 201, granted.text

    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))

    assert [k for k, _ in volume_kinds(alerts)] == [GRANTED]
    completion = alerts.get("/institutions/H001/volume-completion")
    assert (completion["status"], completion["periods"][0]["exemption_id"]) == ("normal", "X1")

    revoked = alerts.client.post("/institutions/H001/volume-exemptions/X1/revocation", json={"reason": "水灾已过"}, headers=alerts.headers)
    assert revoked.status_code == 200, revoked.text
    unknown = alerts.client.post("/institutions/H001/volume-exemptions/X9/revocation", json={"reason": "r"}, headers=alerts.headers)
    assert unknown.status_code == 422 and "exemption_id" in unknown.text
    alerts.close_days(date(2026, 6, 30), date(2026, 6, 30))
    assert [k for k, _ in volume_kinds(alerts)][-2:] == [WARNED, SUSPENDED]


def test_granting_an_exemption_during_a_suspension_resumes_it(alerts: Alerts) -> None:
    alerts.deliver(contract())
    alerts.close_days(date(2026, 3, 31), date(2026, 4, 9))
    body = {"exemption_id": "X1", "reason": "疫情", "from": "2026-01-01", "to": "2026-03-31"}

    assert alerts.client.post("/institutions/H001/volume-exemptions", json=body, headers=alerts.headers).status_code == 201

    kind, data = volume_kinds(alerts)[-1]
    assert (kind, data["resumed_on"], data["reason"]) == (RESUMED, "2026-04-10", "exemption")
    assert alerts.get("/institutions/H001/volume-completion")["status"] == "normal"


def test_duplicated_events_change_nothing(alerts: Alerts) -> None:
    envelopes = [alerts.deliver(contract())[1], alerts.deliver(accepted("A1", 650, date(2026, 3, 20)))[1]]
    envelopes += alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))
    envelopes.append(alerts.deliver(accepted("A2", 350, date(2026, 4, 14)))[1])
    envelopes += alerts.close_days(date(2026, 4, 14), date(2026, 4, 14))
    before = (alerts.get("/institutions/H001/volume-completion"), alerts.outbox())

    assert {alerts.deliver(envelope)[0] for envelope in envelopes} == {"duplicate"}
    # the same facts published again under new envelope ids
    assert alerts.deliver(accepted("A1", 650, date(2026, 3, 20)))[0] == "handled"
    assert alerts.deliver(contract())[0] == "handled"

    assert (alerts.get("/institutions/H001/volume-completion"), alerts.outbox()) == before
    assert [k for k, _ in volume_kinds(alerts)] == [WARNED, SUSPENDED, RESUMED]


def test_year_end_shortfall_per_institution(alerts: Alerts) -> None:
    alerts.deliver(contract("C1", "P1", agreed=1000))
    alerts.deliver(contract("C2", "P2", agreed=1000, price="20.0000"))
    alerts.deliver(accepted("A1", 1500, date(2026, 6, 1), "C1", "P1"))  # surplus does not offset C2
    alerts.deliver(accepted("A2", 600, date(2026, 11, 1), "C2", "P2"))

    [row] = alerts.get("/reports/volume-shortfall?year=2026")

    assert (row["institution_id"], row["agreed_quantity"], row["accepted_quantity"], row["shortfall_quantity"]) == ("H001", 2000, 1600, 400)
    assert (row["agreed_amount"], row["accepted_amount"], row["shortfall_amount"]) == ("30000.00", "22000.00", "8000.00")
    assert alerts.get("/reports/volume-shortfall?year=2025") == []
    assert alerts.client.get("/reports/volume-shortfall?year=abc", headers=alerts.headers).status_code == 422


def test_a_region_where_r3_is_not_live_takes_no_volume_decisions(alerts: Alerts, monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform going live mid-cycle has not seen the earlier acceptances: R3 waits for the region's go-live
    (the packaged regions.toml sets none)."""
    monkeypatch.delenv("JICAI_POLICY_DIR")
    FOLDED.reset()
    alerts.deliver(contract())
    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))

    assert volume_kinds(alerts) == []
    assert alerts.get("/institutions/H001/volume-completion")["periods"] == []
    assert alerts.get("/reports/volume-shortfall?year=2026")[0]["shortfall_quantity"] == 4000


def test_period_ends_before_the_region_s_go_live_are_never_evaluated(alerts: Alerts, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JICAI_POLICY_DIR", str(policy_dir_with_go_live(tmp_path / "later", GUIZHOU_SOURCE, "volume_completion_from = 2026-04-01")))
    FOLDED.reset()
    alerts.deliver(contract())
    alerts.deliver(accepted("A1", 1000, date(2026, 4, 10)))
    alerts.close_days(date(2026, 3, 31), date(2026, 6, 30))

    assert [(k, d["period_end"], d["ratio"]) for k, d in volume_kinds(alerts)] == [(WARNED, "2026-06-30", "0.5000"), (SUSPENDED, "2026-06-30", "0.5000")]
    assert [p["period_end"] for p in alerts.get("/institutions/H001/volume-completion")["periods"]] == ["2026-06-30"]


def agreement_signed(agreed: int = 4000) -> YearlyAgreementSigned:
    return YearlyAgreementSigned(
        agreement_id="C1-y1", contract_id="C1", institution_id="H001", pooling_region_code="520100", product_id="P1",
        agreement_year=1, year_start=date(2026, 1, 1), year_end=date(2026, 12, 31), agreed_quantity=agreed,
        unit_price=Decimal("10.0000"), signed_on=date(2025, 12, 20),
    )


def test_targets_follow_the_yearly_agreement_its_amendment_and_returns(alerts: Alerts) -> None:
    """The cycle's 8000 boxes over two years; y1 agrees 4000, amended to 3000 from May: Q2's target is 1500.
    A return (退货) of 200 in June leaves 1300 of 1500 (0.8666): no decision (by the cycle it would be 1300 of 2000)."""
    alerts.deliver(contract(agreed=8000).model_copy(update={"cycle_end": date(2027, 12, 31)}))
    alerts.deliver(agreement_signed())
    alerts.deliver(accepted("A1", 1000, date(2026, 2, 10)))
    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))
    assert volume_kinds(alerts) == []  # 1000 of y1's Q1 target 1000

    alerts.deliver(YearlyAgreementAmended(
        agreement_id="C1-y1", contract_id="C1", institution_id="H001", pooling_region_code="520100", product_id="P1",
        agreed_quantity=3000, previous_agreed_quantity=4000, amended_on=date(2026, 5, 15), reason="调整约定采购量",
    ))
    alerts.deliver(accepted("A2", 500, date(2026, 5, 20)))
    alerts.deliver(DeliveryReturned(
        return_id="R1", acceptance_id="A2", institution_id="H001", pooling_region_code="520100", contract_id="C1",
        product_id="P1", distributor_id="D001", returned_quantity=200, returned_amount=Decimal("2000.00"),
        returned_on=date(2026, 6, 2), reason="破损",
    ))
    alerts.close_days(date(2026, 6, 30), date(2026, 6, 30))
    assert volume_kinds(alerts) == []
    q2 = alerts.get("/institutions/H001/volume-completion")["periods"][-1]
    assert (q2["period_end"], q2["ratio"]) == ("2026-06-30", "0.8666")
    assert [(c["agreement_id"], c["agreed_quantity"], c["target_quantity"], c["accepted_quantity"]) for c in q2["contracts"]] == [
        ("C1-y1", 3000, "1500.00", 1300),
    ]
    [year_end] = alerts.get("/reports/volume-shortfall?year=2026")  # y1's amended 3000, less the return
    assert (year_end["agreed_quantity"], year_end["accepted_quantity"], year_end["shortfall_quantity"]) == (3000, 1300, 1700)
    assert alerts.get("/reports/volume-shortfall?year=2027") == []  # the cycle ends in 2027, but y2 is not agreed yet


def test_a_suspension_and_its_resumption_explain_targets_thresholds_exemptions_and_causes(alerts: Alerts) -> None:
    _, signed = alerts.deliver(contract())
    _, agreed = alerts.deliver(agreement_signed())
    alerts.deliver(accepted("A1", 650, date(2026, 3, 20)))
    alerts.deliver(accepted("A2", 350, date(2026, 4, 14)))  # dated after the period end: not counted in Q1
    [q1_end] = alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))

    why = alerts.get("/decisions/volume-suspension-H001-2026-03-31")

    assert (why["kind"], why["invoice_id"], why["effective_on"], why["event"]["type"]) == ("settlement_suspended", None, "2026-04-01", SUSPENDED)
    assert (why["parameters"]["volume_completion"]["warning_below"], why["parameters"]["volume_completion"]["suspend_below"]) == ("0.80", "0.70")
    assert why["evaluation"]["ratio"] == "0.6500"
    assert [(c["contract_id"], c["agreement_id"], c["agreed_quantity"], c["target_quantity"], c["accepted_quantity"], c["ratio"])
            for c in why["evaluation"]["contracts"]] == [("C1", "C1-y1", 4000, "1000.00", 650, "0.6500")]
    assert why["evaluation"]["exemptions_considered"] == []
    assert [(c["id"], c["type"]) for c in why["causes"]] == [
        (q1_end.id, "cn.jicai.clock.DayClosed.v1"), (signed.id, "cn.jicai.contracts.ContractSigned.v1"),
        (agreed.id, "cn.jicai.contracts.YearlyAgreementSigned.v1"),
    ]

    alerts.close_days(date(2026, 4, 14), date(2026, 4, 14))
    resumed = alerts.get("/decisions/volume-resumption-H001-2026-03-31")
    assert (resumed["kind"], resumed["decision"]["resumed_on"]) == ("settlement_resumed", "2026-04-14")
    assert [(c["type"], c["subject"]) for c in resumed["causes"]][0] == (SUSPENDED, "volume-suspension-H001-2026-03-31")


def test_an_exempted_period_s_exemption_is_listed_among_those_considered(alerts: Alerts) -> None:
    alerts.deliver(contract())
    alerts.deliver(accepted("A1", 750, date(2026, 2, 10)))
    response = alerts.client.post(
        "/institutions/H001/volume-exemptions", headers=alerts.headers,
        json={"exemption_id": "X1", "reason": "洪灾", "from": "2026-06-01", "to": "2026-06-30"},
    )
    assert response.status_code == 201, response.text
    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))

    [considered] = alerts.get("/decisions/volume-warning-H001-2026-03-31")["evaluation"]["exemptions_considered"]
    assert (considered["exemption_id"], considered["covers_period_end"], considered["revoked"]) == ("X1", False, False)
