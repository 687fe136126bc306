"""Sign-in and sign-out. The sign-in form carries a CSRF token too (a double-submit cookie, as there is no session yet)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jicai_console.domain import sessions
from jicai_console.entrypoints.web import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    Posted,
    cookie_session_id,
    new_sign_in_token,
    render,
    set_cookie,
    settings_of,
    sign_cookie,
    store_of,
)

router = APIRouter()


def _form(request: Request, after: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    token = new_sign_in_token()
    response = render(request, "sign_in.html", None, status_code=status_code, sign_in_token=token, error=error,
                      next=None if after == "/" else after)
    set_cookie(request, response, SIGN_IN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, asked: Annotated[str | None, Query(alias="next")] = None) -> HTMLResponse:
    return _form(request, sessions.page_after_sign_in(asked))


@router.post("/sign-in", response_model=None)
async def sign_in(
    request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "",
    asked: Annotated[str, Form(alias="next")] = "",
) -> Response:
    after = sessions.page_after_sign_in(asked)
    if not sessions.csrf_matches(request.cookies.get(SIGN_IN_CSRF_COOKIE, ""), csrf_token):
        return _form(request, after, "csrf", 403)
    user = await store_of(request).authenticate(username, password)
    if user is None:
        return _form(request, after, "bad_credentials", 401)
    settings = settings_of(request)
    session_id = await store_of(request).open_session(user, settings.session_hours)
    response = RedirectResponse(after, 303)
    set_cookie(request, response, SESSION_COOKIE, sign_cookie(request, session_id), max_age=settings.session_hours * 3600)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: Posted) -> RedirectResponse:
    session_id = cookie_session_id(request)
    if session_id:
        await store_of(request).close_session(session_id)
    response = RedirectResponse("/sign-in", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
