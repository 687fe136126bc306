"""ASGI app of the alerts service: ``uvicorn jicai_alerts.entrypoints.app:app``."""
from __future__ import annotations

from fastapi import FastAPI, Request

from jicai_alerts.adapters import calendar_watch
from jicai_alerts.adapters.metrics import before_scrape
from jicai_alerts.adapters.policy import current_book
from jicai_alerts.bootstrap import load_settings, make_runtime
from jicai_alerts.entrypoints.decisions_api import router as decisions_router
from jicai_alerts.entrypoints.feed_api import router as feed_router
from jicai_alerts.entrypoints.invoices_api import router as invoices_router
from jicai_alerts.entrypoints.kpi_api import router as kpi_router
from jicai_alerts.entrypoints.manufacturer_api import router as manufacturer_router
from jicai_alerts.entrypoints.non_winning_api import router as non_winning_router
from jicai_alerts.entrypoints.policy_api import router as policy_router
from jicai_alerts.entrypoints.status_api import router as status_router
from jicai_alerts.entrypoints.volume_api import router as volume_router
from jicai_kit.commands import query
from jicai_kit.http import create_app
from jicai_kit.settings import ServiceSettings


async def calendar_warning(request: Request) -> dict[str, str]:
    """Degraded from ``calendar_warning_days`` before the working-day calendar ends (the year to load is named)."""
    covered_until = calendar_watch.observe(await query(request.app.state.runtime, current_book))
    message = calendar_watch.warning(covered_until, calendar_watch.today(), request.app.state.settings.calendar_warning_days)
    return {"calendar": message} if message else {}


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(
        settings=settings or load_settings(),
        make_runtime=make_runtime,
        routers=[
            invoices_router, decisions_router, feed_router, volume_router, non_winning_router, kpi_router, manufacturer_router, status_router,
            policy_router,
        ],
        readiness_warnings=calendar_warning,
        before_scrape=before_scrape,
        title="Jicai alerts (预警)",
        description=(
            "Payment deadlines (回款期限), overdue warnings (预警) and withheld settlements (暂缓拨付), "
            "decided from the event stream alone; each decision explains its profile, rule and causes."
        ),
    )


app = build_app()
