"""ASGI app of the console: ``jicai-console serve`` (migrations, then uvicorn on this app)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from jicai_console.adapters.platform import ApiError, Platform
from jicai_console.adapters.store import Store
from jicai_console.bootstrap import load_settings
from jicai_console.domain import sessions
from jicai_console.entrypoints import actions, pages, signin
from jicai_console.entrypoints.web import CsrfRefused, Forbidden, SignInRequired, render
from jicai_console.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store(settings.database_url, settings.passwords())
        app.state.store.passwords.dummy_hash()  # before the first sign-in, which must take as long for an unknown name as for a known one
        app.state.platform = Platform(settings)
        try:
            yield
        finally:
            await app.state.platform.close()
            await app.state.store.close()

    app = FastAPI(title="Jicai operations console (运营管理台)", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    for router in (signin.router, pages.router, actions.router):
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> PlainTextResponse:
        from sqlalchemy import text

        async with request.app.state.store.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return PlainTextResponse("ready")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        """To the sign-in form, which leads back to the page asked for (a page, not a form's post)."""
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET" or sessions.page_after_sign_in(asked) == "/":
            return RedirectResponse("/sign-in", 303)
        return RedirectResponse(f"/sign-in?{urlencode({'next': asked})}", 303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        return render(request, "error.html", None, status_code=403, title="forbidden", detail="forbidden_detail")

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> HTMLResponse:
        return render(request, "error.html", None, status_code=403, title="forbidden", detail="CSRF token missing or wrong: nothing was done")

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> HTMLResponse:
        status = exc.status if exc.status in (403, 404) else 502
        detail = str(exc.problem.get("detail") or exc.problem.get("title") or exc)
        return render(request, "error.html", None, status_code=status, title=f"{exc.service}: {exc.status}", detail=detail)

    return app


def __getattr__(name: str) -> FastAPI:
    """``app`` for uvicorn (``jicai-console serve``), built from the environment only when asked for, so tests
    import ``build_app`` with their own settings."""
    if name == "app":
        return build_app()
    raise AttributeError(name)
