"""ASGI app of the orders service: ``uvicorn jicai_orders.entrypoints.app:app``.

Hospitals' HIS push acceptances (验收) for their own institution; distributors
record their own invoices (收到发票); operators may do both. Each party reads
only its own records; operators and the fund read all. One router per resource.
"""
from __future__ import annotations

from fastapi import FastAPI

from jicai_kit.http import create_app
from jicai_kit.settings import ServiceSettings
from jicai_orders.bootstrap import load_settings, make_runtime
from jicai_orders.entrypoints import acceptances_api, filing_api, invoices_api, orders_api, purchases_api


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(
        settings=settings or load_settings(),
        make_runtime=make_runtime,
        routers=[acceptances_api.router, purchases_api.router, invoices_api.router, orders_api.router, filing_api.router],
        title="Jicai orders (订单)",
        description="Acceptances pushed by hospital HIS (验收, the payment clock's start) and distributors' invoices (收到发票).",
    )


app = build_app()
