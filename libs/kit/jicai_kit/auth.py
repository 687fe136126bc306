"""Bearer tokens that identify the calling party.

A token is a JWT signed by the platform (HS256, ``JICAI_AUTH_SECRET``) with
the party id (``sub``) and its role. A hospital's HIS holds an institution
token, so it can only push its own deliveries; a distributor only its own
invoices. Every write checks the party against the record it touches.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import jwt
import typer
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jicai_kit.problems import Problem, forbidden
from jicai_kit.settings import DEVELOPMENT_SECRET

ISSUER = "jicai"


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


def issue_token(secret: str, party_id: str, role: Role, ttl: timedelta = timedelta(days=365)) -> str:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "sub": party_id, "role": role.value, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["sub", "exp", "iss"]})
        return Principal(party_id=str(claims["sub"]), role=Role(claims["role"]))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise _unauthorized(f"invalid bearer token: {exc}") from exc


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="JWT issued by the platform: sub = party id, role = party role")


async def authenticate(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None:
        raise _unauthorized("a bearer token is required for this request")
    return decode_token(request.app.state.settings.auth_secret.get_secret_value(), credentials.credentials)


Caller = Annotated[Principal, Depends(authenticate)]
"""The authenticated party calling this endpoint."""


def cli() -> None:
    """``jicai-token PARTY ROLE``: print a token (for operators and the demo)."""

    def main(
        party_id: str,
        role: Role,
        secret: Annotated[str, typer.Option(envvar="JICAI_AUTH_SECRET")] = DEVELOPMENT_SECRET,
        days: int = 365,
    ) -> None:
        typer.echo(issue_token(secret, party_id, role, timedelta(days=days)))

    typer.run(main)
