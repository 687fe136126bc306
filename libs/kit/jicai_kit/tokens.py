"""Issuing tokens: the roles, the claims and ``jicai-token``, without the web framework the services verify them in.

``jicai-token`` and the tools that only mint tokens (the console's accounts, the dev stack) import this module alone:
``jicai_kit.auth`` (verification, FastAPI dependencies) took a second of imports per call.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import jwt
import typer

from jicai_kit.keys import ALGORITHM, SigningKey

ISSUER = "jicai"
PERSON_LIFETIME = timedelta(minutes=15)
"""Default token lifetime: a person signed in (console, jicai-token)."""
LONGEST_SHORT_LIFETIME = timedelta(hours=12)
"""Longest lifetime without asking for a long-lived (HIS) token."""


class Role(StrEnum):
    OPERATOR = "operator"  # provincial platform / insurance bureau operations (经办机构)
    INSTITUTION = "institution"  # a hospital and its HIS (医疗机构)
    DISTRIBUTOR = "distributor"  # 配送企业
    MANUFACTURER = "manufacturer"  # 中选生产企业
    FUND = "fund"  # the insurance fund's information system (医保信息系统)


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
