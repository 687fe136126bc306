"""ASGI app of the contracts service: ``uvicorn jicai_contracts.entrypoints.app:app``.

Writes are for operators (the provincial platform); one router per resource.
"""
from __future__ import annotations

from fastapi import FastAPI

from jicai_contracts.bootstrap import load_settings, make_runtime
from jicai_contracts.entrypoints import (
    agreements_api,
    batches_api,
    contracts_api,
    parties_api,
    payment_standard_api,
    policy_api,
    products_api,
    reports_api,
)
from jicai_kit.http import create_app
from jicai_kit.settings import ServiceSettings


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(
        settings=settings or load_settings(),
        make_runtime=make_runtime,
        routers=[
            parties_api.router, products_api.router, contracts_api.router, batches_api.router, agreements_api.router, reports_api.router,
            payment_standard_api.router, policy_api.router,
        ],
        title="Jicai contracts (合同)",
        description="Parties, winning products (中选药品) and volume contracts (带量购销合同) with agreed volumes (约定采购量).",
    )


app = build_app()
