"""The FastAPI app every service builds: problems, health, readiness, metrics.

``/healthz`` says the process is alive; ``/readyz`` checks the database and
Kafka for real (in production also that the database keeps what it commits),
and says ``degraded`` (still 200: the API serves) with the reason while a consumer
has a parked partition or a warning is due; ``/metrics`` is Prometheus text.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jicai_kit import consistency, logs, problems
from jicai_kit import policy as policy_changes
from jicai_kit.clock_api import router as clock_router
from jicai_kit.dead_letters_api import parked_partitions
from jicai_kit.dead_letters_api import router as dead_letters_router
from jicai_kit.durability import unsafe_database_settings
from jicai_kit.guard import RequestGuard
from jicai_kit.policy_api import router as policy_router
from jicai_kit.runtime import ServiceRuntime
from jicai_kit.settings import ServiceSettings
from jicai_kit.workers_lock import end_with_supervisor, run_workers_when_leading

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
    readiness_warnings: Callable[[Request], Awaitable[dict[str, str]]] | None = None,
    before_scrape: Callable[[ServiceRuntime], Awaitable[None]] | None = None,
) -> FastAPI:
    """``readiness_warnings``: what an operator must act on soon without the service being unready (e.g. the
    working-day calendar ending within weeks): ``/readyz`` answers 200 ``degraded`` with them.
    ``before_scrape``: sets the service's gauges from its database when ``/metrics`` is read (not per event)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = make_runtime(settings)
        app.state.runtime = runtime
        leading: asyncio.Task[None] | None = None
        supervised: asyncio.Task[None] | None = None
        if settings.workers_supervisor is not None:  # one of the API processes of ``jicai-serve --workers N``
            supervised = asyncio.create_task(end_with_supervisor(settings.workers_supervisor))
        if settings.run_workers and settings.workers_lock:
            leading = asyncio.create_task(run_workers_when_leading(runtime, settings.workers_lock))
        elif settings.run_workers:
            runtime.start_workers()
        # Everything loaded so far lives as long as the process: keep it out of the collector's full passes
        # (each walked ~130,000 objects, 50-150 ms). And collect young objects every 50,000 allocations,
        # not 700: refcounting frees a request's garbage; the collector walking a 1,000-line push's live
        # objects again and again took a quarter of its time (43 collections, 38 ms of 150).
        gc.freeze()
        gc.set_threshold(50_000, 10, 10)
        gc.enable()  # jicai-serve paused it while the service imported
        try:
            yield
        finally:
            if supervised is not None:
                supervised.cancel()
            await runtime.stop()
            if leading is not None:
                leading.cancel()  # the lock goes once this process's workers have stopped
                with contextlib.suppress(asyncio.CancelledError):
                    await leading

    app = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan, openapi_tags=openapi_tags,
        dependencies=[Depends(before_each_route)],
    )
    app.state.settings = settings
    problems.install(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_request_bytes)

    app.add_middleware(ObservedRequests, service=settings.service_name)

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
        reasons: list[str] = []
        if settings.environment == "production":
            unsafe = await unsafe_database_settings(runtime.engine) if checks["database"] else []
            checks["database_durable"] = checks["database"] and not unsafe
            reasons += [f"PostgreSQL runs with {setting}: a committed write can be lost in a crash" for setting in unsafe]
        ready = all(checks.values())
        warnings = await readiness_warnings(request) if readiness_warnings is not None and checks["database"] else {}
        parked = [p.model_dump(mode="json") for p in parked_partitions(runtime)]
        status = "not-ready" if not ready else "degraded" if warnings or parked else "ready"
        body: dict[str, Any] = {"status": status, "checks": checks, "parked": parked}
        if warnings:
            body["warnings"] = warnings
        if reasons:
            body["reasons"] = reasons
        headers = None if ready else {"Retry-After": str(problems.RETRY_AFTER_SECONDS)}
        return JSONResponse(body, status_code=200 if ready else 503, headers=headers)

    @ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus text; ``name[]=…`` (repeatable) restricts it to those metrics, as prometheus_client's own
        handlers do (a probe asking one counter does not pay for the whole page)."""
        if before_scrape is not None:
            await before_scrape(request.app.state.runtime)
        names = request.query_params.getlist("name[]")
        registry = REGISTRY.restricted_registry(names) if names else REGISTRY
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    logs.configure(settings.service_name, settings.log_format, settings.log_level, settings.log_handled_events)
    app.add_middleware(logs.RequestId)  # outermost: every response, problems and 413s too, carries X-Request-Id
    app.include_router(ops)
    app.include_router(clock_router, responses=problems.PROBLEM_RESPONSES)
    app.include_router(dead_letters_router, responses=problems.PROBLEM_RESPONSES)
    app.include_router(policy_router, responses=problems.PROBLEM_RESPONSES)
    for router in routers:
        app.include_router(router, responses=problems.PROBLEM_RESPONSES)
    return app


async def before_each_route(request: Request, after: consistency.AfterTokens = None) -> None:
    """Every route's one app-wide dependency (FastAPI solves each dependency anew per request, a seventh of a status
    read): wait for the events ``after`` names, then refresh the policy book the request decides with."""
    await consistency.wait_for_tokens(request, after)
    await policy_changes.refresh_for_request(request)


class ObservedRequests:
    """Every request's latency (``jicai_http_request_duration_seconds``) and the consistency tokens of what it recorded.

    A pure ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) ran each request in an extra
    task with memory streams, a fifth of the request path's time for a single-line push.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        async with consistency.collecting() as recorded:

            async def observed(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    if recorded:  # the endpoint has returned: every command it ran has committed
                        MutableHeaders(scope=message).append(consistency.HEADER, consistency.token_header(recorded))
                await send(message)

            try:
                await self.app(scope, receive, observed)
            finally:
                path = getattr(scope.get("route"), "path", "unmatched")
                REQUEST_LATENCY.labels(self.service, scope["method"], path, str(status)).observe(time.perf_counter() - started)
