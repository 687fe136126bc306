"""Bearer tokens that identify the calling party.

A token is a JWT signed by the platform's private Ed25519 key (EdDSA, key id
in the header) with the party id (``sub``), its role, the services it is for
(``aud``), a short lifetime (``iat``/``nbf``/``exp``) and an id (``jti``) that
can be revoked. Services verify with public keys only (``jicai_kit.keys``).
A hospital's HIS holds an institution token, so it can only push its own
deliveries; a distributor only its own invoices. Every write checks the party
against the record it touches.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.utils import base64url_decode

from jicai_kit.keys import ALGORITHM, WatchedFile, load_public_keys, load_revoked
from jicai_kit.problems import Problem, forbidden
from jicai_kit.tokens import ISSUER, LONGEST_SHORT_LIFETIME, PERSON_LIFETIME, Role, cli, issue_token, parse_lifetime

__all__ = [  # minted in jicai_kit.tokens (no web framework), verified here; both known by this module's name too
    "ISSUER", "LONGEST_SHORT_LIFETIME", "PERSON_LIFETIME", "Caller", "Principal", "Role", "TokenVerifier", "authenticate", "cli",
    "issue_token", "parse_lifetime",
]

LEEWAY = timedelta(seconds=30)
"""Clock skew tolerated on iat/nbf/exp between the minting host and the service."""


SEES_ALL = frozenset({Role.OPERATOR, Role.FUND})
"""Roles that read every party's records: provincial operations and the insurance fund."""


@dataclass(frozen=True)
class Principal:
    party_id: str
    role: Role

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise forbidden(f"role {self.role.value} may not do this; needs {' or '.join(r.value for r in roles)}")

    def may_read(self, *, what: str = "these records", **owners: str | None) -> None:
        """Read access, the one rule for every service: operators and the fund read everything;
        a party reads a record that names it in the owner field of its role
        (``institution_id``, ``distributor_id``, ``manufacturer_id``)."""
        if self.role in SEES_ALL:
            return
        if owners.get(f"{self.role.value}_id") != self.party_id:
            raise forbidden(f"{what} are not {self.role.value} {self.party_id}'s records")

    def require_party(self, party_id: str, what: str) -> None:
        if self.role is not Role.OPERATOR and self.party_id != party_id:
            raise forbidden(f"{what} belongs to {party_id}, not to {self.party_id}")


class TokenVerifier:
    """Checks bearer tokens for one service (the audience) against the public keys it trusts."""

    def __init__(
        self, audience: str, public_keys: Path | None, revoked: Path | None = None, leeway: timedelta = LEEWAY,
        *, reread_after: float = 5.0,
    ) -> None:
        self.audience, self.leeway = audience, leeway
        self._keys = WatchedFile(public_keys, load_public_keys, reread_after) if public_keys else None
        self._revoked = WatchedFile(revoked, load_revoked, reread_after) if revoked else None
        self._verified: dict[str, _Verified] = {}

    def verify(self, token: str) -> Principal:
        """The caller a token names, or 401 saying why not: expired, not yet valid, wrong audience,
        unknown key id, revoked; any other fault (the signature among them) is just "invalid".

        A HIS or a console sends the same token request after request: one whose signature and claims passed
        is kept (at most ``VERIFIED_KEPT``) and later only checked for expiry, its key still trusted and
        revocation (the signature check was a tenth of a settlement-status read)."""
        if self._keys is None:
            raise _unauthorized("this service has no public keys to verify tokens with (JICAI_AUTH_PUBLIC_KEYS)")
        known = self._verified.get(token)
        if known is not None and time.time() < known.expires and self._keys.current().get(known.kid) is known.key:
            principal, jti = known.principal, known.jti
        else:
            principal, jti = self._verify_signed(token)
        if self._revoked is not None and jti in self._revoked.current():
            raise _unauthorized("token revoked")
        return principal

    def _verify_signed(self, token: str) -> tuple[Principal, object]:
        assert self._keys is not None
        kid = _key_id(token)
        if not isinstance(kid, str):
            raise _unauthorized("token has no key id")
        key = self._keys.current().get(kid)
        if key is None:
            raise _unauthorized(f"token signed with an unknown key id {kid[:64]!r}")
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=ISSUER, leeway=self.leeway,
                options={"require": ["iss", "sub", "aud", "iat", "nbf", "exp"]},
            )
            principal = Principal(party_id=str(claims["sub"]), role=Role(claims["role"]))
        except jwt.PyJWTError as exc:
            raise _unauthorized(_reason(exc, self.audience)) from exc
        except (KeyError, ValueError) as exc:
            raise _unauthorized("token names no valid role") from exc
        if len(self._verified) >= VERIFIED_KEPT:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = _Verified(principal, claims.get("jti"), kid, key, float(claims["exp"]) + self.leeway.total_seconds())
        return principal, claims.get("jti")


VERIFIED_KEPT = 4096
"""Verified tokens a service keeps (a few hundred bytes each): the HIS and people calling it at once."""


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    jti: object
    kid: str
    key: Ed25519PublicKey
    expires: float
    """Epoch seconds after which the token is refused (its ``exp`` plus the leeway)."""


def _key_id(token: str) -> object:
    """The ``kid`` of the token's header. Only the header is decoded: PyJWT's ``get_unverified_header``
    decodes and checks all three segments, which ``decode`` then does again (the half of a request's auth cost)."""
    try:
        header = json.loads(base64url_decode(token.split(".", 1)[0]))
    except (ValueError, TypeError) as exc:  # binascii.Error and JSONDecodeError are ValueErrors
        raise _unauthorized("invalid bearer token") from exc
    return header.get("kid") if isinstance(header, dict) else None


def _reason(exc: jwt.PyJWTError, audience: str) -> str:
    """What a caller may learn about a refused token; a bad signature reads as any other forgery."""
    match exc:
        case jwt.ExpiredSignatureError():
            return "token expired"
        case jwt.ImmatureSignatureError():
            return "token not yet valid"
        case jwt.InvalidAudienceError():
            return f"token is not for {audience}"
        case jwt.InvalidIssuerError():
            return f"token not issued by {ISSUER}"
        case jwt.MissingRequiredClaimError():
            return f"token lacks the {exc.claim} claim"
        case _:
            return "invalid bearer token"


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="JWT issued by the platform: sub = party id, role = party role")


async def authenticate(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None:
        raise _unauthorized("a bearer token is required for this request")
    return _verifier(request.app).verify(credentials.credentials)


def _verifier(app: FastAPI) -> TokenVerifier:
    """One verifier per app, made at its first request: the parsed keys are kept, not read per request."""
    verifier: TokenVerifier | None = getattr(app.state, "token_verifier", None)
    if verifier is None:
        settings = app.state.settings
        verifier = TokenVerifier(
            settings.service_name, settings.auth_public_keys, settings.auth_revoked_tokens,
            timedelta(seconds=settings.auth_leeway_seconds),
        )
        app.state.token_verifier = verifier
    return verifier


Caller = Annotated[Principal, Depends(authenticate)]
"""The authenticated party calling this endpoint."""

