"""ASGI app of the alerts service: ``uvicorn jicai_alerts.entrypoints.app:app``."""
from __future__ import annotations

from fastapi import FastAPI

from jicai_alerts.adapters.metrics import before_scrape
from jicai_alerts.bootstrap import load_settings, make_runtime
from jicai_alerts.entrypoints.api import router
from jicai_alerts.entrypoints.kpi_api import router as kpi_router
from jicai_alerts.entrypoints.manufacturer_api import router as manufacturer_router
from jicai_alerts.entrypoints.non_winning_api import router as non_winning_router
from jicai_alerts.entrypoints.status_api import router as status_router
from jicai_alerts.entrypoints.volume_api import router as volume_router
from jicai_kit.http import create_app
from jicai_kit.settings import ServiceSettings


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(
        settings=settings or load_settings(),
        make_runtime=make_runtime,
        before_scrape=before_scrape,
        routers=[router, volume_router, non_winning_router, kpi_router, manufacturer_router, status_router],
        title="Jicai alerts (预警)",
        description=(
            "Payment deadlines (回款期限), overdue warnings (预警) and withheld settlements (暂缓拨付), "
            "decided from the event stream alone; each decision explains its profile, rule and causes."
        ),
    )


app = build_app()
