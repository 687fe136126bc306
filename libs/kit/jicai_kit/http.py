"""The FastAPI app every service builds: problems, health, readiness, metrics.

``/healthz`` says the process is alive; ``/readyz`` checks the database and
Kafka for real; ``/metrics`` is Prometheus text.
"""
from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from jicai_kit import problems
from jicai_kit.runtime import ServiceRuntime
from jicai_kit.settings import ServiceSettings

REQUEST_LATENCY = Histogram(
    "jicai_http_request_duration_seconds", "HTTP request latency", ["service", "method", "route", "status"]
)


def create_app(
    *,
    settings: ServiceSettings,
    make_runtime: Callable[[ServiceSettings], ServiceRuntime],
    routers: list[APIRouter],
    title: str,
    description: str,
    openapi_tags: list[dict[str, Any]] | None = None,
    before_scrape: Callable[[ServiceRuntime], Awaitable[None]] | None = None,
) -> FastAPI:
    """``before_scrape``: sets the service's gauges from its database when ``/metrics`` is read (not per event)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = make_runtime(settings)
        app.state.runtime = runtime
        if settings.run_workers:
            runtime.start_workers()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan, openapi_tags=openapi_tags)
    app.state.settings = settings
    problems.install(app)

    @app.middleware("http")
    async def _latency(request: Request, call_next: Callable[[Request], Any]) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        REQUEST_LATENCY.labels(settings.service_name, request.method, path, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    ops = APIRouter(tags=["operations"])

    @ops.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @ops.get("/readyz", summary="Readiness: database and Kafka reachable, workers running")
    async def readyz(request: Request) -> JSONResponse:
        runtime: ServiceRuntime = request.app.state.runtime
        checks = {
            "database": await runtime.database_ready(),
            "kafka": await runtime.kafka_ready(),
            "workers": runtime.workers_alive if settings.run_workers else True,
        }
        ready = all(checks.values())
        return JSONResponse({"status": "ready" if ready else "not-ready", "checks": checks}, status_code=200 if ready else 503)

    @ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(request: Request) -> Response:
        if before_scrape is not None:
            await before_scrape(request.app.state.runtime)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(ops)
    for router in routers:
        app.include_router(router, responses=problems.PROBLEM_RESPONSES)
    return app
