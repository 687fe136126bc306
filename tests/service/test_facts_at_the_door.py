"""Facts no service could decide on are refused at the door, on real PostgreSQL: 4xx naming the field, nothing written.

Today is fixed at 2026-11-29 (``JICAI_BUSINESS_TODAY``) with the default margin of one day, so the latest
accepted business date is 2026-11-30. Guiyang (520100) follows guizhou-2020 from 2020-04-14.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

from jicai_kit.auth import Role
from tests.service.orders.test_api import C1, _count
from tests.service.orders.test_api import _deliver as _deliver_contract
from tests.service.settlement.support import invoice as _settlement_invoice
from tests.support.in_process_client import InProcessClient
from tests.support.shared_apps import SharedApp, SharedApps

Auth = Callable[[str, Role], dict[str, str]]
TODAY = date(2026, 11, 29)
PROBLEM = "application/problem+json"


def _app(service: str, url: str, **settings: Any) -> Any:
    module = __import__(f"jicai_{service}.entrypoints.app", fromlist=["build_app"])
    settings_cls = __import__(f"jicai_{service}.settings", fromlist=["Settings"]).Settings
    return module.build_app(settings_cls(database_url=url, run_workers=False, business_today=TODAY, **settings))


def _refused(response: Any, field: str, status: int = 422) -> str:
    """The problem's reason for ``field``; fails unless the answer is a ``status`` problem naming it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    reasons = {e["field"]: e["reason"] for e in response.json().get("errors", [])}
    assert field in reasons, response.json()
    reason: str = reasons[field]
    return reason


def _shared(shared_apps: SharedApps, service: str) -> SharedApp:
    """The module's app of ``service``, on empty tables."""
    return shared_apps.fresh(service, partial(_app, service))


@pytest.fixture
def orders_app(shared_apps: SharedApps) -> SharedApp:
    shared = _shared(shared_apps, "orders")
    assert _deliver_contract(shared.client, C1) == "handled"  # H1 in Guiyang, from distributor D1, P1 at 2.0050
    return shared


@pytest.fixture
def orders_url(orders_app: SharedApp) -> str:
    return orders_app.url


@pytest.fixture
def orders(orders_app: SharedApp) -> TestClient:
    return orders_app.client


@pytest.fixture
def settlement_app(shared_apps: SharedApps) -> SharedApp:
    return _shared(shared_apps, "settlement")


@pytest.fixture
def settlement_url(settlement_app: SharedApp) -> str:
    return settlement_app.url


@pytest.fixture
def settlement(settlement_app: SharedApp) -> TestClient:
    return settlement_app.client


# ---- business dates ------------------------------------------------------------------------------------------------


def _invoice(invoice_id: str, **changes: Any) -> dict[str, Any]:
    return {"invoice_id": invoice_id, "invoice_number": f"No.{invoice_id}", "distributor_id": "D1", "institution_id": "H1",
            "issued_on": "2026-03-02", "received_on": "2026-03-02", "amount": "10.03",
            "lines": [{"acceptance_id": "H1:RK-1", "quantity": 5}], **changes}


@pytest.mark.parametrize("received_on, why", [
    ("0001-01-01", "first policy profile"), ("2020-04-13", "first policy profile"),  # the day before guizhou-2020 takes effect
    ("9999-12-31", "in the future"), ("2026-12-01", "in the future"), (20260302, "YYYY-MM-DD"),
])
def test_an_invoice_dated_where_no_rule_can_decide_is_refused_and_not_recorded(
    orders: TestClient, orders_url: str, token: Auth, received_on: Any, why: str
) -> None:
    his, d1 = token("H1", Role.INSTITUTION), token("D1", Role.DISTRIBUTOR)
    line = {"external_id": "RK-1", "contract_id": "C1", "accepted_quantity": 5, "accepted_on": "2026-03-02", "lot_number": "L1"}
    assert orders.post("/institutions/H1/acceptances:batch", json={"lines": [line]}, headers=his).json()["accepted"] == 1

    assert why in _refused(orders.post("/invoices", json=_invoice("INV-1", received_on=received_on), headers=d1), "received_on")
    assert orders.get("/invoices/INV-1", headers=d1).status_code == 404
    assert _count(orders_url, "select count(*) from outbox where convert_from(payload, 'UTF8') like '%InvoiceReceived%'") == 0
    # the last day the margin allows is a date like any other
    assert orders.post("/invoices", json=_invoice("INV-2", received_on="2026-11-30"), headers=d1).status_code == 201


def test_every_bad_line_of_a_his_push_is_named_and_nothing_is_recorded(orders: TestClient, orders_url: str, token: Auth) -> None:
    line = {"external_id": "RK-1", "contract_id": "C1", "accepted_quantity": 5, "accepted_on": "2026-03-02", "lot_number": "L1"}
    push = [line, {**line, "external_id": "RK-2", "accepted_on": "2019-01-01"}, {**line, "external_id": "RK-3", "accepted_on": "2027-01-01"}]
    r = orders.post("/institutions/H1/acceptances:batch", json={"lines": push}, headers=token("H1", Role.INSTITUTION))
    _refused(r, "lines[1].accepted_on")
    _refused(r, "lines[2].accepted_on")
    assert _count(orders_url, "select count(*) from acceptances") == 0


def test_a_filing_purchase_before_the_policy_start_is_refused_before_anything_is_committed(
    orders: TestClient, orders_url: str, token: Auth
) -> None:
    """It used to be committed, then answered 500 "nothing was changed" when its year's standing found no profile."""
    filing = {"filing_id": "F-1", "institution_id": "H1", "generic_name": "注射用头孢曲松钠", "specification": "1g",
              "manufacturer_name": "某药业", "quantity": 3, "unit_price": "12.3456", "purchased_on": "2019-12-31",
              "filed_on": "2019-12-30", "reason": "中选产品断供"}
    r = orders.post("/filing-purchases", json=filing, headers=token("H1", Role.INSTITUTION))
    _refused(r, "purchased_on")
    _refused(r, "filed_on")
    assert _count(orders_url, "select count(*) from event_store where stream_type = 'filing_purchase'") == 0
    assert _count(orders_url, "select count(*) from filing_purchases") == 0
    # the year before the profile is a question no profile answers: 422, not 500
    _refused(orders.get("/institutions/H1/filing-purchases", params={"year": 2019}, headers=token("OPS", Role.OPERATOR)), "year")


# ---- amounts, quantities, text --------------------------------------------------------------------------------------


def test_money_is_stored_exactly_to_the_columns_limit_and_never_coerced(settlement: TestClient, token: Auth) -> None:
    fund = token("FUND", Role.FUND)
    _settlement_invoice(settlement, "INV-1", "500.00")  # settlement knows H1 from an invoice
    body = {"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05", "amount": "99999999999999.99"}
    for amount in (99999999999999.99, "100000000000000.00", "1E+2", "１２.００", True):
        _refused(settlement.post("/monthly-settlements", json={**body, "amount": amount}, headers=fund), "amount")
    assert settlement.get("/institutions/H1/monthly-settlements", headers=fund).json() == []
    assert settlement.post("/monthly-settlements", json=body, headers=fund).status_code == 201
    [stored] = settlement.get("/institutions/H1/monthly-settlements", headers=fund).json()
    assert stored["amount"] == "99999999999999.99"  # not ...98, as a float would have made it


def test_a_quantity_is_a_json_integer(orders: TestClient, orders_url: str, token: Auth) -> None:
    line = {"external_id": "RK-1", "contract_id": "C1", "accepted_quantity": 5, "accepted_on": "2026-03-02", "lot_number": "L1"}
    for quantity in (True, 5.0, "5"):
        r = orders.post("/institutions/H1/acceptances:batch", json={"lines": [{**line, "accepted_quantity": quantity}]},
                        headers=token("H1", Role.INSTITUTION))
        _refused(r, "lines[0].accepted_quantity")
    assert _count(orders_url, "select count(*) from acceptances") == 0


@pytest.mark.parametrize("service", ["contracts", "orders", "settlement", "alerts"])
def test_a_nul_byte_in_text_an_id_or_a_path_is_refused_not_a_server_error(
    service: str, shared_apps: SharedApps, token: Auth
) -> None:
    ops = token("OPS", Role.OPERATOR)
    client = _shared(shared_apps, service).client
    assert _refused(client.get("/institutions/H%001/kpis?month=2026-05", headers=ops), "path").startswith("contains the control")
    _refused(client.get("/healthz", params={"q": "a\x00b"}), "query.q")
    _refused(client.post("/anything", json={"lines": [{"reason": "断供\x00"}]}, headers=ops), "lines[0].reason")
    if service == "contracts":
        body = {"institution_id": "H1", "name": "医院\x00", "pooling_region_code": "520100", "county_code": "520102"}
        _refused(client.post("/institutions", json=body, headers=ops), "name")
        assert client.get("/institutions/H1", headers=ops).status_code == 404


# ---- parties, limits, query parameters ------------------------------------------------------------------------------


def test_fund_writes_for_an_institution_settlement_knows_nothing_of_are_refused(settlement: TestClient, settlement_url: str, token: Auth) -> None:
    fund = token("FUND", Role.FUND)
    _settlement_invoice(settlement, "INV-1", "500.00")  # H1 is known; NOBODY is not
    direct = {"payment_id": "DS-1", "institution_id": "NOBODY", "distributor_id": "D1", "paid_on": "2026-03-20", "amount": "10.00",
              "allocations": [{"invoice_id": "INV-1", "amount": "10.00"}]}
    disbursement = {"disbursement_id": "PD-1", "institution_id": "NOBODY", "year": 2026, "phase": 1, "amount": "10.00",
                    "disbursed_on": "2026-03-20"}
    monthly = {"settlement_id": "MS-1", "institution_id": "NOBODY", "month": "2026-05", "amount": "10.00"}
    for path, body in (("/direct-settlements", direct), ("/prepayment-disbursements", disbursement), ("/monthly-settlements", monthly)):
        assert "unknown institution NOBODY" in _refused(settlement.post(path, json=body, headers=fund), "institution_id")
    assert _count(settlement_url, "select count(*) from event_store where stream_id not like 'invoice-%'") == 0


def test_a_body_over_the_limit_is_refused_with_413_and_a_list_over_its_bound_with_422(settlement: TestClient, token: Auth) -> None:
    h1 = token("H1", Role.INSTITUTION)
    payment = {"payment_id": "PAY-1", "institution_id": "H1", "distributor_id": "D1", "paid_on": "2026-03-20", "amount": "1.00"}
    huge = {**payment, "allocations": [{"invoice_id": f"INV-{i}", "amount": "0.01"} for i in range(60_000)]}  # ≈ 2.6 MB
    r = settlement.post("/payments", json=huge, headers=h1)
    assert (r.status_code, r.headers["content-type"], r.json()["type"]) == (413, PROBLEM, "urn:jicai:problem:request-too-large")
    many = {**payment, "allocations": [{"invoice_id": f"INV-{i}", "amount": "0.01"} for i in range(1001)]}
    _refused(settlement.post("/payments", json=many, headers=h1), "allocations")


def test_out_of_range_query_parameters_are_422_not_500(orders: TestClient, shared_apps: SharedApps, token: Auth) -> None:
    ops = token("OPS", Role.OPERATOR)
    _refused(orders.get("/institutions/H1/invoices", params={"offset": 2**63}, headers=ops), "offset")
    alerts = _shared(shared_apps, "alerts").client
    _refused(alerts.get("/institutions/H1/kpis", params={"month": "0000-01"}, headers=ops), "month")
    _refused(alerts.get("/kpis", params={"month": "0000-01", "indicator": "volume_completion"}, headers=ops), "month")


# ---- the database away, and a commit whose outcome is unknown --------------------------------------------------------


def test_an_unreachable_database_answers_503_with_retry_after(token: Auth) -> None:
    nowhere = "postgresql+psycopg://jicai@127.0.0.1:9/nowhere"  # nothing listens on the discard port
    with InProcessClient(_app("settlement", nowhere)) as client:
        body = {"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05", "amount": "10.00"}
        for r in (client.post("/monthly-settlements", json=body, headers=token("FUND", Role.FUND)),
                  client.get("/institutions/H1/monthly-settlements", headers=token("FUND", Role.FUND))):
            assert (r.status_code, r.headers["content-type"], r.json()["type"]) == (503, PROBLEM, "urn:jicai:problem:database-unavailable")
            assert int(r.headers["retry-after"]) > 0
        ready = client.get("/readyz")
        assert ready.status_code == 503 and int(ready.headers["retry-after"]) > 0


def test_a_connection_lost_during_commit_says_the_outcome_is_unknown_and_a_retry_tells(
    shared_apps: SharedApps, token: Auth
) -> None:
    contracts = _shared(shared_apps, "contracts")
    ops = token("OPS", Role.OPERATOR)
    killer = create_engine(contracts.url)
    client = contracts.client
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]

    def terminate_before_commit(connection: Any) -> None:
        pid = connection.exec_driver_sql("select pg_backend_pid()").scalar()
        with killer.connect() as other:
            assert other.execute(text("select pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()

    event.listen(engine.sync_engine, "commit", terminate_before_commit, once=True)
    body = {"institution_id": "H1", "name": "贵阳市第一人民医院", "pooling_region_code": "520100", "county_code": "520102"}
    lost = client.post("/institutions", json=body, headers=ops)
    assert (lost.status_code, lost.json()["type"]) == (503, "urn:jicai:problem:commit-outcome-unknown")
    assert "retrying the same request is safe" in lost.json()["detail"].lower() and int(lost.headers["retry-after"]) > 0
    retried = client.post("/institutions", json=body, headers=ops)
    assert (retried.status_code, retried.json()) == (201, {"id": "H1", "created": True})  # it had not been recorded
    assert client.post("/institutions", json=body, headers=ops).json()["created"] is False
    killer.dispose()


def test_an_amount_computed_beyond_what_can_be_stored_is_refused_not_a_server_error(
    orders_app: SharedApp, token: Auth
) -> None:
    url = orders_app.url
    client = orders_app.client
    dear = C1.model_copy(update={"contract_id": "C9", "unit_price": Decimal("9999999999.9999")})
    assert _deliver_contract(client, dear) == "handled"
    line = {"external_id": "RK-1", "contract_id": "C9", "accepted_quantity": 10**12, "accepted_on": "2026-03-02", "lot_number": "L1"}
    r = client.post("/institutions/H1/acceptances:batch", json={"lines": [line]}, headers=token("H1", Role.INSTITUTION))
    assert r.status_code < 500, r.text
    assert r.status_code == 422 or r.json()["rejected"] == 1, r.text
    assert _count(url, "select count(*) from acceptances") == 0


def test_a_write_that_keeps_losing_the_race_is_a_retryable_409_unlike_a_final_conflict(
    shared_apps: SharedApps, token: Auth
) -> None:
    """Two kinds of 409: ``concurrent-change`` (repeat after Retry-After) and ``conflict`` (recorded with other content)."""
    from jicai_contracts.adapters import repository
    from jicai_contracts.domain.events import InstitutionRegistered
    from jicai_kit.commands import execute
    from jicai_kit.problems import Problem

    ops = token("OPS", Role.OPERATOR)
    body = {"institution_id": "H1", "name": "贵阳市第一人民医院", "pooling_region_code": "520100", "county_code": "520102"}
    client = _shared(shared_apps, "contracts").client
    assert client.post("/institutions", json=body, headers=ops).status_code == 201
    final = client.post("/institutions", json={**body, "name": "另一家医院"}, headers=ops)
    assert (final.status_code, final.json()["type"]) == (409, "urn:jicai:problem:conflict") and "retry-after" not in final.headers

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    again = InstitutionRegistered(institution_id="H1", institution_name="x", pooling_region_code="520100", county_code="520102")

    async def always_stale() -> Problem:  # appends at version 0 of a stream already at 1, on every retry: the real store refuses
        try:
            await execute(runtime, lambda uow: repository.streams.append(uow, "institution-H1", "institution", 0, [again]))
        except Problem as problem:
            return problem
        raise AssertionError("a stale append was recorded")

    busy = client.portal.call(always_stale)  # type: ignore[union-attr]
    assert (busy.status, busy.kind, busy.headers) == (409, "concurrent-change", {"Retry-After": "1"})
    assert client.get("/institutions/H1", headers=ops).json()["name"] == "贵阳市第一人民医院"
