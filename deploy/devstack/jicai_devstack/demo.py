"""Demo data for ``make up``, recorded through the public REST APIs like any platform would.

Three Guizhou hospitals (profile guizhou-2020), real 2026 dates:
- H001 贵阳市第一人民医院 pays part of its September invoice: warned 2026-10-09,
  monthly settlement withheld from 2026-10-23 (暂缓拨付).
- H002 遵义医科大学附属医院 pays in full before its deadline: nothing happens.
- H003 贵阳市花溪区人民医院 leaves its October invoice unpaid: warned 2026-11-14,
  withheld from 2026-11-28 unless it pays (the scheduler closes the days).

Volume completion (R3, Guizhou 000 §五(三)) is live in Anshun (520400) from 2026-07-01, switched on through
contracts' policy API (``PUT /policy/regions/520400/go-lives/volume_completion``) as an operator would; it is
live nowhere in ``regions.toml``. Against the cumulative target at the quarter end 2026-09-30 (¾ of the
agreed volume):
- H004 安顺市人民医院 accepted 1500 of 3000: 50%, below 70%, so its monthly settlement is suspended
  from 2026-10-01 (暂停医保月结算) until it catches up or an operator grants a force-majeure exemption (不可抗力).
- H005 安顺市西秀区人民医院 accepted 2250 of 3000: 75%, below 80%: a volume warning (预警). It buys 600 more in
  October, so the console's November completion (2850 of 11/12 of 4000: 77%) shows it in the warning band.

One hospital in each of the other four profiles, so their different notices show side by side:
- SD01 (shandong-2021): invoice received 10-15, due 11-16 (11-14 is a Saturday), unpaid: warned
  2026-11-17, never withheld (the notice has no withhold rule).
- HB01 (hubei-2019): due 30 days from acceptance (入库) 10-09 → 11-09 although the invoice came
  on 10-20; paid on 11-05, on time.
- CQ01 (chongqing-2019): due 10-16, paid on 10-10.
- LJ01 (chongqing-liangjiang-2023): accepted 09-21, due at the end of the next month (10-31 is a
  Saturday → 11-02), unpaid: warned 2026-11-03.
Every write is idempotent, so seeding twice changes nothing.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx

from jicai_devstack.services import local_tls, party_token
from jicai_kit.auth import Role
from jicai_kit.clock import publish_day_closed
from jicai_kit.consistency import HEADER as CONSISTENCY
from jicai_kit.keys import SigningKey

INSTITUTIONS = [
    ("H001", "贵阳市第一人民医院", "520100", "520102"),
    ("H002", "遵义医科大学附属医院", "520300", "520302"),
    ("H003", "贵阳市花溪区人民医院", "520100", "520111"),
    ("SD01", "济南市中心医院", "370100", "370102"),
    ("HB01", "武汉市第一医院", "420100", "420103"),
    ("CQ01", "重庆市人民医院", "500000", "500103"),
    ("LJ01", "两江新区第一人民医院", "500099", "500099"),
    ("H004", "安顺市人民医院", "520400", "520402"),
    ("H005", "安顺市西秀区人民医院", "520400", "520402"),
]
PRODUCTS = [
    ("P001", "M001", "阿托伐他汀钙片", "片剂", "20mg*7片", "1.9800"),
    ("P002", "M002", "苯磺酸氨氯地平片", "片剂", "5mg*28片", "2.4000"),
]
CONTRACTS = [  # contract, institution, product, distributor, price, agreed volume
    ("C-H001-P001", "H001", "P001", "D001", "1.9800", 12000),
    ("C-H002-P001", "H002", "P001", "D001", "1.9800", 30000),
    ("C-H002-P002", "H002", "P002", "D002", "2.4000", 8000),
    ("C-H003-P001", "H003", "P001", "D001", "1.9800", 4000),
    ("C-SD01-P001", "SD01", "P001", "D002", "1.9800", 6000),
    ("C-HB01-P002", "HB01", "P002", "D002", "2.4000", 5000),
    ("C-CQ01-P001", "CQ01", "P001", "D002", "1.9800", 6000),
    ("C-LJ01-P002", "LJ01", "P002", "D002", "2.4000", 3000),
    ("C-H004-P001", "H004", "P001", "D001", "1.9800", 4000),
    ("C-H005-P002", "H005", "P002", "D002", "2.4000", 4000),
]
DELIVERIES = [  # institution, HIS line, contract, accepted, rejected, accepted on
    ("H001", "HIS-20260901-01", "C-H001-P001", 100, 0, "2026-09-01"),
    ("H001", "HIS-20260901-02", "C-H001-P001", 50, 5, "2026-09-01"),
    ("H002", "ZY-0903-001", "C-H002-P001", 200, 0, "2026-09-03"),
    ("H002", "ZY-0903-002", "C-H002-P002", 120, 0, "2026-09-03"),
    ("H003", "HX-1012-1", "C-H003-P001", 80, 0, "2026-10-12"),
    ("SD01", "JN-1012-1", "C-SD01-P001", 120, 0, "2026-10-12"),
    ("HB01", "WH-1009-1", "C-HB01-P002", 60, 0, "2026-10-09"),
    ("CQ01", "CQ-0914-1", "C-CQ01-P001", 90, 0, "2026-09-14"),
    ("LJ01", "LJ-0921-1", "C-LJ01-P002", 40, 0, "2026-09-21"),
    ("H004", "AS-0316-1", "C-H004-P001", 1500, 0, "2026-03-16"),
    ("H005", "XX-0420-1", "C-H005-P002", 2250, 0, "2026-04-20"),
    ("H005", "XX-1020-1", "C-H005-P002", 600, 0, "2026-10-20"),
]
INVOICES = [  # invoice, distributor, institution, issued, received, amount, [(acceptance, qty)]
    ("INV-H001-0901", "D001", "H001", "2026-09-04", "2026-09-05", "297.00", [("H001:HIS-20260901-01", 100), ("H001:HIS-20260901-02", 50)]),
    ("INV-H002-0903", "D001", "H002", "2026-09-05", "2026-09-06", "396.00", [("H002:ZY-0903-001", 200)]),
    ("INV-H002-0903B", "D002", "H002", "2026-09-05", "2026-09-06", "288.00", [("H002:ZY-0903-002", 120)]),
    ("INV-H003-1012", "D001", "H003", "2026-10-13", "2026-10-14", "158.40", [("H003:HX-1012-1", 80)]),
    ("INV-SD01-1012", "D002", "SD01", "2026-10-13", "2026-10-15", "237.60", [("SD01:JN-1012-1", 120)]),
    ("INV-HB01-1009", "D002", "HB01", "2026-10-19", "2026-10-20", "144.00", [("HB01:WH-1009-1", 60)]),
    ("INV-CQ01-0914", "D002", "CQ01", "2026-09-15", "2026-09-16", "178.20", [("CQ01:CQ-0914-1", 90)]),
    ("INV-LJ01-0921", "D002", "LJ01", "2026-09-22", "2026-09-25", "96.00", [("LJ01:LJ-0921-1", 40)]),
]
PAYMENTS = [  # payment, institution, distributor, paid on, [(invoice, amount)]
    ("PAY-H001-01", "H001", "D001", "2026-09-20", [("INV-H001-0901", "97.00")]),
    ("PAY-H002-01", "H002", "D001", "2026-09-28", [("INV-H002-0903", "396.00")]),
    ("PAY-H002-02", "H002", "D002", "2026-09-28", [("INV-H002-0903B", "288.00")]),
    ("PAY-HB01-01", "HB01", "D002", "2026-11-05", [("INV-HB01-1009", "144.00")]),
    ("PAY-CQ01-01", "CQ01", "D002", "2026-10-10", [("INV-CQ01-0914", "178.20")]),
]
DAYS = (date(2026, 9, 1), date(2026, 11, 22))
R3_REGION = "520400"
R3_GO_LIVE = {"from": "2026-07-01", "source": "demo: the platform holds every acceptance of Anshun's contracts since 2026-01-01"}
R3_INSTITUTIONS = frozenset(i for i, _, region, _ in INSTITUTIONS if region == R3_REGION)
SUSPENDED = "H004"


def seed(urls: dict[str, str], key: SigningKey, bootstrap: str, namespace: str | None = None) -> None:
    with ExitStack() as clients:  # closed at the end: a caller that goes on running (a test) leaks no connection

        def client(service: str, party: str, role: Role) -> httpx.Client:
            token = party_token(key, party, role)
            return clients.enter_context(httpx.Client(base_url=urls[service], headers={"Authorization": f"Bearer {token}"}, timeout=30,
                                                      verify=local_tls()))

        _seed(client, bootstrap, namespace)


def _seed(client: Callable[[str, str, Role], httpx.Client], bootstrap: str, namespace: str | None) -> None:
    ops = client("contracts", "OPS", Role.OPERATOR)
    for iid, name, region, county in INSTITUTIONS:
        _ok(ops.post("/institutions", json={"institution_id": iid, "name": name, "pooling_region_code": region, "county_code": county}))
    for pid, name in (("M001", "某制药股份有限公司"), ("M002", "某药业集团有限公司")):
        _ok(ops.post("/manufacturers", json={"party_id": pid, "name": name}))
    for pid, name in (("D001", "贵州某医药物流有限公司"), ("D002", "某医药配送有限公司")):
        _ok(ops.post("/distributors", json={"party_id": pid, "name": name}))
    for pid, mid, generic, form, spec, price in PRODUCTS:
        _ok(ops.post("/winning-products", json={
            "product_id": pid, "batch_id": "GJ-VBP-2", "generic_name": generic, "dosage_form": form, "specification": spec,
            "manufacturer_id": mid, "winning_unit_price": price, "trading_unit": "盒"}))
    for cid, iid, pid, did, price, volume in CONTRACTS:
        mid = next(p[1] for p in PRODUCTS if p[0] == pid)
        _ok(ops.post("/contracts", json={
            "contract_id": cid, "institution_id": iid, "manufacturer_id": mid, "distributor_id": did, "product_id": pid,
            "unit_price": price, "agreed_quantity": volume, "cycle_start": "2026-01-01", "cycle_end": "2026-12-31", "signed_on": "2025-12-20"}))

    go_live = _ok(ops.put(f"/policy/regions/{R3_REGION}/go-lives/volume_completion", json=R3_GO_LIVE))
    r3_facts = [go_live.headers[CONSISTENCY]] if CONSISTENCY in go_live.headers else []  # none when seeded before
    for iid in {d[0] for d in DELIVERIES}:
        lines = [{"external_id": ext, "contract_id": cid, "accepted_quantity": acc, "rejected_quantity": rej, "accepted_on": on,
                  "lot_number": "A2608", **({"rejection_reason": "外包装破损"} if rej else {})}
                 for inst, ext, cid, acc, rej, on in DELIVERIES if inst == iid]
        his = client("orders", iid, Role.INSTITUTION)

        def pushed(his: httpx.Client = his, iid: str = iid, lines: list[dict[str, Any]] = lines) -> bool:
            response = _ok(his.post(f"/institutions/{iid}/acceptances:batch", json={"lines": lines}))
            if iid in R3_INSTITUTIONS and CONSISTENCY in response.headers:
                r3_facts.append(response.headers[CONSISTENCY])
            return all(r["status"] in ("accepted", "duplicate") for r in response.json()["results"])

        _eventually(pushed, f"orders to receive the contracts of {iid}")

    for inv, did, iid, issued, received, amount, invoice_lines in INVOICES:
        _ok(client("orders", did, Role.DISTRIBUTOR).post("/invoices", json={
            "invoice_id": inv, "invoice_number": inv.replace("INV-", "52"), "distributor_id": did, "institution_id": iid,
            "issued_on": issued, "received_on": received, "amount": amount,
            "lines": [{"acceptance_id": a, "quantity": q} for a, q in invoice_lines]}))

    settlement = client("settlement", "OPS", Role.OPERATOR)
    for pay, iid, did, paid_on, allocations in PAYMENTS:
        for inv, _ in allocations:
            _eventually(partial(_known, settlement, f"/invoices/{inv}"), f"settlement to receive {inv}")
        total = sum((Decimal(a) for _, a in allocations), Decimal("0.00"))
        _ok(client("settlement", iid, Role.INSTITUTION).post("/payments", json={
            "payment_id": pay, "institution_id": iid, "distributor_id": did, "paid_on": paid_on, "amount": str(total),
            "allocations": [{"invoice_id": i, "amount": a} for i, a in allocations]}))

    alerts = client("alerts", "OPS", Role.OPERATOR)
    for pay, _, _, _, allocations in PAYMENTS:  # decisions must see payments before the days close
        for inv, _ in allocations:
            _eventually(partial(_paid_something, alerts, inv), f"alerts to see {pay}")
    # R3 decides a quarter end when its DayClosed arrives: alerts must hold the go-live and the acceptances by then
    _eventually(lambda: alerts.get(f"/policy/regions/{R3_REGION}", params=[("after", t) for t in r3_facts]).status_code == 200,
                "alerts to hold Anshun's R3 go-live and acceptances")
    first, last = DAYS
    asyncio.run(publish_day_closed(bootstrap, [first + timedelta(days=i) for i in range((last - first).days + 1)], namespace))
    _eventually(lambda: settlement.get("/institutions/H001/settlement-status").json()["status"] == "withheld", "H001 to be withheld")
    _eventually(lambda: settlement.get(f"/institutions/{SUSPENDED}/settlement-status").json()["status"] == "suspended",
                f"{SUSPENDED} to be suspended (R3)")
    fund = client("settlement", "FUND-GZ", Role.FUND)
    for iid, *_ in INSTITUTIONS:
        _ok(fund.post("/monthly-settlements", json={"settlement_id": f"MS-{iid}-2026-10", "institution_id": iid, "month": "2026-10", "amount": "1250000.00"}))


def _known(client: httpx.Client, path: str) -> bool:
    return client.get(path).status_code == 200


def _paid_something(alerts: httpx.Client, invoice_id: str) -> bool:
    return bool(alerts.get(f"/invoices/{invoice_id}").json().get("paid", "0.00") != "0.00")


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url} → {response.status_code}: {response.text}")
    return response


def _eventually(probe: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    pause = 0.02  # most facts arrive within a few hops; a long wait is asked less often
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except (httpx.HTTPError, KeyError):
            pass
        time.sleep(pause)
        pause = min(pause * 1.5, 0.3)
    raise RuntimeError(f"demo: timed out waiting for {what}")
