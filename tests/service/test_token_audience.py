"""Through the services' HTTP APIs: a token works only at the services it names, and refusals say why (401)."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import jwt

from jicai_kit.auth import Role, issue_token
from jicai_orders.entrypoints.app import build_app as build_orders
from jicai_orders.settings import Settings as OrdersSettings
from jicai_settlement.entrypoints.app import build_app as build_settlement
from jicai_settlement.settings import Settings as SettlementSettings
from tests.support.in_process_client import InProcessClient
from tests.support.tokens import SIGNING_KEY


def test_an_orders_token_is_refused_by_settlement_unless_it_names_it(service_database: Callable[[str], str]) -> None:
    orders_only = {"Authorization": "Bearer " + issue_token(SIGNING_KEY, "H001", Role.INSTITUTION, ["orders"])}
    both = {"Authorization": "Bearer " + issue_token(SIGNING_KEY, "H001", Role.INSTITUTION, ["orders", "settlement"])}
    orders = InProcessClient(build_orders(OrdersSettings(database_url=service_database("orders"), run_workers=False, auth_leeway_seconds=0)))
    settlement = InProcessClient(build_settlement(SettlementSettings(database_url=service_database("settlement"), run_workers=False)))
    with orders, settlement:
        assert orders.get("/institutions/H001/acceptances", headers=orders_only).status_code == 200
        refused = settlement.get("/institutions/H001/payments", headers=orders_only)
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == "token is not for settlement"
        assert refused.headers["www-authenticate"] == "Bearer"
        assert settlement.get("/institutions/H001/payments", headers=both).status_code == 200

        # ``exp`` is whole seconds (RFC 7519 NumericDate): a token of 3 s is good for 2 s at least, then slept past.
        token = issue_token(SIGNING_KEY, "H001", Role.INSTITUTION, ["orders"], timedelta(seconds=3))
        expiring = {"Authorization": "Bearer " + token}
        assert orders.get("/institutions/H001/acceptances", headers=expiring).status_code == 200
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        time.sleep(max(0.0, expires - time.time()) + 0.1)  # the orders service here tolerates no clock skew (leeway 0)
        answer = orders.get("/institutions/H001/acceptances", headers=expiring)
        assert (answer.status_code, answer.json()["detail"]) == (401, "token expired")
