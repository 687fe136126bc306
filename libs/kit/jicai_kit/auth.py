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
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import jwt
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.utils import base64url_decode

from jicai_kit.keys import ALGORITHM, SigningKey, WatchedFile, load_public_keys, load_revoked
from jicai_kit.problems import Problem, forbidden

ISSUER = "jicai"
PERSON_LIFETIME = timedelta(minutes=15)
"""Default token lifetime: a person signed in (console, jicai-token)."""
LONGEST_SHORT_LIFETIME = timedelta(hours=12)
"""Longest lifetime without asking for a long-lived (HIS) token."""
LEEWAY = timedelta(seconds=30)
"""Clock skew tolerated on iat/nbf/exp between the minting host and the service."""


class Role(StrEnum):
    OPERATOR = "operator"  # provincial platform / insurance bureau operations (经办机构)
    INSTITUTION = "institution"  # a hospital and its HIS (医疗机构)
    DISTRIBUTOR = "distributor"  # 配送企业
    MANUFACTURER = "manufacturer"  # 中选生产企业
    FUND = "fund"  # the insurance fund's information system (医保信息系统)


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


def issue_token(
    key: SigningKey, party_id: str, role: Role, audiences: Sequence[str], lifetime: timedelta = PERSON_LIFETIME,
    *, long_lived: bool = False,
) -> str:
    """A token for ``party_id`` acting as ``role``, accepted by the services named in ``audiences`` for ``lifetime``.

    Lifetimes beyond ``LONGEST_SHORT_LIFETIME`` are for a hospital's HIS only, asked for explicitly
    (``long_lived``): a machine holding a token in its configuration, revoked by its ``jti`` if it leaks."""
    if not audiences or any(not a for a in audiences):
        raise ValueError("a token needs at least one audience (the services that accept it)")
    if lifetime <= timedelta(0):
        raise ValueError("a token's lifetime must be positive")
    if lifetime > LONGEST_SHORT_LIFETIME and not (long_lived and role is Role.INSTITUTION):
        raise ValueError(
            f"lifetimes beyond {LONGEST_SHORT_LIFETIME} are for a hospital's HIS (role institution) asked for as long-lived"
        )
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER, "sub": party_id, "role": role.value, "aud": list(audiences),
        "iat": now, "nbf": now, "exp": now + lifetime, "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


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


def parse_lifetime(text: str) -> timedelta:
    """``90s``, ``15m``, ``8h``, ``365d``."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise ValueError(f"lifetime {text!r} is not a number followed by s, m, h or d (e.g. 15m)")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: int(match[1])})


def cli() -> None:
    """``jicai-token PARTY ROLE --audience orders,settlement [--ttl 15m]``: print a token signed with the private key."""

    def main(
        party_id: str,
        role: Role,
        audience: Annotated[str, typer.Option(help="comma-separated services that accept the token, e.g. orders,settlement")],
        ttl: Annotated[str, typer.Option(help="lifetime: 90s, 15m, 8h, 365d")] = "15m",
        key: Annotated[Path, typer.Option(envvar="JICAI_AUTH_SIGNING_KEY_FILE", help="private JWK that signs")] = Path(
            ".run/auth/signing-key.json"
        ),
        long_lived: Annotated[bool, typer.Option(help=f"allow a lifetime beyond {LONGEST_SHORT_LIFETIME} (a HIS)")] = False,
    ) -> None:
        try:
            lifetime = parse_lifetime(ttl)
            audiences = [a.strip() for a in audience.split(",") if a.strip()]
            typer.echo(issue_token(SigningKey.load(key), party_id, role, audiences, lifetime, long_lived=long_lived))
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc

    typer.run(main)
