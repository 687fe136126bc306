"""Staff accounts: roles, what each may see and do, and password hashing.

Passwords are hashed with argon2id (argon2-cffi, the maintained binding of the Password Hashing Competition's
winner) with its library defaults, which follow RFC 9106's recommendations; a hash made under other parameters
is re-made at the next sign-in (``needs_rehash``). The test suite alone hashes with the library's cheapest
parameters (``JICAI_CONSOLE_PASSWORD_HASHING``, refused in production): a hash at RFC 9106's costs 0.2 s of CPU.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from jicai_kit.tokens import Role

MIN_PASSWORD_LENGTH = 10


class StaffRole(StrEnum):
    OPERATOR = "operator"  # 医保局/采购办 operations: reads everything, takes every action
    FUND = "fund"  # the insurance fund's staff (医保基金): reads everything, no platform operations
    READ_ONLY = "read_only"  # reads everything, acts on nothing
    INSTITUTION = "institution"  # a hospital's user: its own pages only
    DISTRIBUTOR = "distributor"  # a distributor's user: its own pages only


API_ROLE = {
    StaffRole.OPERATOR: Role.OPERATOR,
    StaffRole.FUND: Role.FUND,
    # Read-only staff read province-wide, which the APIs grant to operators and the fund only; the fund's role
    # has no operator power (exemptions, calendars, dead letters), and the console refuses every action anyway.
    StaffRole.READ_ONLY: Role.FUND,
    StaffRole.INSTITUTION: Role.INSTITUTION,
    StaffRole.DISTRIBUTOR: Role.DISTRIBUTOR,
}
"""The API role of the short-lived token minted for a signed-in user."""

PARTY_ROLES = frozenset({StaffRole.INSTITUTION, StaffRole.DISTRIBUTOR})


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: StaffRole
    display_name: str
    party_id: str | None = None

    @property
    def sees_province(self) -> bool:
        return self.role not in PARTY_ROLES

    @property
    def may_act(self) -> bool:
        """Platform operations (exemptions, calendars, dead letters, warning lines, go-lives): operators only."""
        return self.role is StaffRole.OPERATOR

    @property
    def api_party(self) -> str:
        """Who the API token names: the party for a hospital's or distributor's user, else the staff member."""
        return self.party_id if self.role in PARTY_ROLES and self.party_id else self.username

    def may_open_institution(self, institution_id: str) -> bool:
        return self.sees_province or (self.role is StaffRole.INSTITUTION and self.party_id == institution_id)


class AccountError(ValueError):
    """An account that cannot be created as asked, with the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_new_account(username: str, password: str, role: StaffRole, party_id: str | None) -> None:
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AccountError("username", "1 to 64 letters, digits, '-', '_' or '.'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    if role in PARTY_ROLES and not party_id:
        raise AccountError("party_id", f"a {role.value} user acts for one {role.value}: name its id")
    if role not in PARTY_ROLES and party_id:
        raise AccountError("party_id", f"a {role.value} user acts for the bureau, not for a party")


PasswordHashing = Literal["rfc9106", "cheapest"]
"""``rfc9106``: RFC 9106's second recommended option (argon2-cffi's default); ``cheapest``: the library's profile
"only useful for testing", for the test suite's accounts."""

HASHING_PARAMETERS: dict[PasswordHashing, Parameters] = {"rfc9106": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}


class Passwords:
    """Hashes and checks staff passwords with one set of argon2id parameters."""

    def __init__(self, hashing: PasswordHashing = "rfc9106") -> None:
        self._hasher = PasswordHasher.from_parameters(HASHING_PARAMETERS[hashing])
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def dummy_hash(self) -> str:
        """Verified against when the username is unknown, so a sign-in takes as long whether or not the account exists.
        Made once, when the console starts serving (``entrypoints.app``): a command that only adds accounts pays no
        extra hashing."""
        if self._dummy is None:
            self._dummy = self.hash("a password no account has")
        return self._dummy
