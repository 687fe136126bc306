"""One HIS push followed across services by its correlation id: orders logs the request under the caller's
X-Request-Id, the DeliveryAccepted events it records carry it (envelope ``correlationid``), and settlement's and
alerts' consumers log their handling of them under it: ``jq 'select(.correlation_id == "…")'`` over the logs."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from jicai_kit.auth import Role
from tests.e2e.flow import CONTRACT_SETUP, INSTITUTION, PUSH
from tests.e2e.system import System, eventually

pytestmark = pytest.mark.e2e
ACCEPTED = "cn.jicai.orders.DeliveryAccepted.v1"


def log_lines(system: System, service: str) -> list[dict[str, Any]]:
    """The service's JSON log lines (anything else on its output, e.g. a library's print, is skipped)."""
    lines = []
    for raw in (system.run_dir / "logs" / f"{service}.log").read_text(encoding="utf-8", errors="replace").splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def _if_both(read: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The push's two accepted lines are two DeliveryAccepted events, each handled once."""
    lines = read()
    return lines if len({line["event_id"] for line in lines}) == len(lines) == 2 else []


def test_one_his_push_s_correlation_id_appears_in_orders_settlement_and_alerts_logs(system: System) -> None:
    with system.client("contracts", "OPS", Role.OPERATOR) as ops, system.client("orders", INSTITUTION, Role.INSTITUTION) as his:
        for path, body in CONTRACT_SETUP:
            assert ops.post(path, json=body).status_code in (200, 201)
        request_id = f"his-push-{uuid.uuid4().hex[:12]}"

        def pushed() -> bool:
            r = his.post(f"/institutions/{INSTITUTION}/acceptances:batch", json=PUSH, headers={"X-Request-Id": request_id})
            assert r.status_code == 200 and r.headers["X-Request-Id"] == request_id, r.text
            return all(x["status"] in ("accepted", "duplicate") for x in r.json()["results"])

        eventually(pushed, what="orders to know contract C001")
        generated = his.get(f"/acceptances/{INSTITUTION}:HIS-0901-1")
        assert generated.headers["X-Request-Id"] not in ("", request_id)  # a request without one gets its own

    def followed(service: str, handled: bool) -> list[dict[str, Any]]:
        mine = [line for line in log_lines(system, service) if line.get("correlation_id") == request_id]
        if handled:
            mine = [line for line in mine if line.get("event_type") == ACCEPTED and line.get("outcome") == "handled"]
        return mine

    [orders_line, *_] = eventually(lambda: followed("orders", handled=False), what="orders to log the push")
    assert (orders_line["service"], orders_line["request_id"], orders_line["level"]) == ("orders", request_id, "INFO")
    for service, consumer in (("settlement", "settlement."), ("alerts", "alerts.")):
        lines = eventually(partial(_if_both, partial(followed, service, handled=True)), what=f"{service} to log handling both accepted lines")
        assert all(line["service"] == service and line["consumer"].startswith(consumer) for line in lines)
        assert all(line["request_id"] is None for line in lines), "a consumer is not inside a request"
