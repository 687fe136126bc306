"""Session ids and CSRF tokens: random, compared in constant time; only a session id's hash is stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_hash(session_id: str) -> str:
    """What the database keeps: a leaked table names no usable session."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(expected.encode(), (presented or "").encode())


def page_after_sign_in(asked: str | None) -> str:
    """The console's page a signed-out visitor asked for, where signing in leads; the overview ("/") for anything
    else: a link to another site (``//host``, ``https://…``, ``/\\host``) must not ride on the sign-in (open redirect)."""
    if not asked or not asked.startswith("/") or asked.startswith(("//", "/\\")) or any(c in asked for c in "\r\n\t"):
        return "/"
    parts = urlsplit(asked)
    return "/" if parts.scheme or parts.netloc else asked
