"""ASGI app of the orders service: ``uvicorn jicai_orders.entrypoints.app:app``."""
from __future__ import annotations

from fastapi import FastAPI

from jicai_kit.http import create_app
from jicai_kit.settings import ServiceSettings
from jicai_orders.bootstrap import load_settings, make_runtime
from jicai_orders.entrypoints.api import router


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(
        settings=settings or load_settings(),
        make_runtime=make_runtime,
        routers=[router],
        title="Jicai orders (订单)",
        description="Acceptances pushed by hospital HIS (验收, the payment clock's start) and distributors' invoices (收到发票).",
    )


app = build_app()
