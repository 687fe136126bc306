"""What every page shares: templates, the signed session cookie, the signed-in user, CSRF checks, language."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup

from jicai_console.adapters.platform import Caller, Platform
from jicai_console.adapters.store import Session, Store
from jicai_console.domain import i18n, sessions
from jicai_console.domain.accounts import StaffUser
from jicai_console.settings import Settings

SESSION_COOKIE = "jicai_console_session"
LANG_COOKIE = "jicai_console_lang"
SIGN_IN_CSRF_COOKIE = "jicai_console_sign_in"
CSRF_FIELD = "csrf_token"

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class SignInRequired(Exception):
    """No valid session: the page answers with the sign-in form."""


class Forbidden(Exception):
    """The signed-in user may not open this page or take this action (403)."""


class CsrfRefused(Exception):
    """A form posted without this session's CSRF token (403, nothing done)."""


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(settings_of(request).session_secret.get_secret_value(), salt="jicai-console-session")


def sign_cookie(request: Request, session_id: str) -> str:
    return str(_serializer(request).dumps(session_id))


def cookie_session_id(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        value = _serializer(request).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=settings_of(request).secure_cookies, path="/")


async def current_session(request: Request) -> Session:
    session_id = cookie_session_id(request)
    found = await store_of(request).session(session_id) if session_id else None
    if found is None:
        raise SignInRequired()
    return found


SignedIn = Annotated[Session, Depends(current_session)]


async def checked_session(request: Request, session: SignedIn) -> Session:
    """The session of a form post whose CSRF token is this session's (every POST of a signed-in user)."""
    form = await request.form()
    presented = form.get(CSRF_FIELD)
    if not sessions.csrf_matches(session.csrf_token, presented if isinstance(presented, str) else None):
        raise CsrfRefused()
    return session


Posted = Annotated[Session, Depends(checked_session)]


def caller(request: Request, user: StaffUser) -> Caller:
    platform: Platform = request.app.state.platform
    return platform.as_user(user)


def lang_of(request: Request) -> str:
    return i18n.language(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))


def render(request: Request, template: str, session: Session | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    response = templates.TemplateResponse(
        request, template,
        {"t": i18n.translator(lang), "lang": lang, "user": session.user if session else None,
         "csrf": Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{session.csrf_token}">') if session else "",
         "other_lang": "en" if lang == "zh" else "zh", **context},
        status_code=status_code,
    )
    if request.query_params.get("lang") in i18n.LANGUAGES:
        set_cookie(request, response, LANG_COOKIE, lang, max_age=365 * 86400)
    return response


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(32)


def require_province(user: StaffUser) -> None:
    if not user.sees_province:
        raise Forbidden()


def require_operator(user: StaffUser) -> None:
    if not user.may_act:
        raise Forbidden()


def require_institution(user: StaffUser, institution_id: str) -> None:
    if not user.may_open_institution(institution_id):
        raise Forbidden()
