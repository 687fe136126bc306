"""The console's database: staff accounts, sessions, audit (SQLAlchemy async on psycopg, like the services)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from jicai_console.adapters import tables as t
from jicai_console.domain import accounts, sessions
from jicai_console.domain.accounts import StaffRole, StaffUser


@dataclass(frozen=True)
class Session:
    user: StaffUser
    csrf_token: str


def _user(row: Row[Any]) -> StaffUser:
    return StaffUser(username=row.username, role=StaffRole(row.role), display_name=row.display_name, party_id=row.party_id)


class Store:
    def __init__(self, database_url: str, passwords: accounts.Passwords) -> None:
        self.passwords = passwords
        self.engine: AsyncEngine = create_async_engine(database_url, pool_pre_ping=True)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def close(self) -> None:
        await self.engine.dispose()

    async def add_user(self, username: str, password: str, role: StaffRole, display_name: str, party_id: str | None = None,
                       *, replace: bool = False) -> bool:
        """Create an account (``replace``: also set a new password, role and party of an existing one); True if written."""
        accounts.check_new_account(username, password, role, party_id)
        values = {"username": username, "password_hash": self.passwords.hash(password), "role": role.value, "party_id": party_id,
                  "display_name": display_name or username, "created_at": datetime.now(UTC)}
        statement = pg_insert(t.staff_users).values(values)
        if replace:
            statement = statement.on_conflict_do_update(index_elements=[t.staff_users.c.username],
                                                        set_={k: statement.excluded[k] for k in values if k != "created_at"})
        else:
            statement = statement.on_conflict_do_nothing(index_elements=[t.staff_users.c.username])
        async with self._sessions.begin() as db:
            return (await db.execute(statement.returning(t.staff_users.c.username))).first() is not None

    async def authenticate(self, username: str, password: str) -> StaffUser | None:
        async with self._sessions() as db:
            row = (await db.execute(select(t.staff_users).where(t.staff_users.c.username == username))).first()
        if row is None or row.disabled:
            self.passwords.matches(self.passwords.dummy_hash(), password)  # same work as for a real account
            return None
        if not self.passwords.matches(row.password_hash, password):
            return None
        if self.passwords.needs_rehash(row.password_hash):
            async with self._sessions.begin() as db:
                await db.execute(update(t.staff_users).where(t.staff_users.c.username == username)
                                 .values(password_hash=self.passwords.hash(password)))
        return _user(row)

    async def open_session(self, user: StaffUser, hours: int) -> str:
        """A new session for ``user``; returns its id (only its hash is stored)."""
        session_id = sessions.new_session_id()
        now = datetime.now(UTC)
        async with self._sessions.begin() as db:
            await db.execute(delete(t.sessions).where(t.sessions.c.expires_at < now))
            await db.execute(insert(t.sessions).values(
                session_hash=sessions.session_hash(session_id), username=user.username, csrf_token=sessions.new_csrf_token(),
                created_at=now, expires_at=now + timedelta(hours=hours),
            ))
        return session_id

    async def session(self, session_id: str) -> Session | None:
        s, u = t.sessions, t.staff_users
        query = (select(s.c.csrf_token, u).join(u, u.c.username == s.c.username)
                 .where(s.c.session_hash == sessions.session_hash(session_id), s.c.expires_at > datetime.now(UTC), u.c.disabled.is_(False)))
        async with self._sessions() as db:
            row = (await db.execute(query)).first()
        return Session(_user(row), row.csrf_token) if row else None

    async def close_session(self, session_id: str) -> None:
        async with self._sessions.begin() as db:
            await db.execute(delete(t.sessions).where(t.sessions.c.session_hash == sessions.session_hash(session_id)))

    async def record(self, user: StaffUser, action: str, target: str, reason: str, request: dict[str, Any], status: int,
                     response: Any) -> None:
        async with self._sessions.begin() as db:
            await db.execute(insert(t.audit).values(
                at=datetime.now(UTC), username=user.username, role=user.role.value, action=action, target=target, reason=reason,
                request=request, status=status, response=response,
            ))

    async def audit_rows(self, limit: int = 200) -> list[dict[str, Any]]:
        async with self._sessions() as db:
            rows = (await db.execute(select(t.audit).order_by(t.audit.c.audit_id.desc()).limit(limit))).mappings().all()
        return [dict(r) for r in rows]
