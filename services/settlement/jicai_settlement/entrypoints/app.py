"""ASGI app of the settlement service: ``uvicorn jicai_settlement.entrypoints.app:app``."""
from __future__ import annotations

from fastapi import FastAPI

from jicai_kit.http import create_app
from jicai_kit.settings import ServiceSettings
from jicai_settlement.bootstrap import load_settings, make_runtime
from jicai_settlement.entrypoints import monthly_settlements_api, payments_api, prepayments_api


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(
        settings=settings or load_settings(),
        make_runtime=make_runtime,
        routers=[payments_api.router, monthly_settlements_api.router, prepayments_api.router],
        title="Jicai settlement (结算)",
        description="Payments (回款) of institutions to distributors, and monthly insurance settlements (医保月结算) "
        "withheld (暂缓拨付) while an institution owes overdue payments, released once it has paid.",
    )


app = build_app()
