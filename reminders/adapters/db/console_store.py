"""The web console's tables: users, their grants, sessions and the activity log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from reminders.adapters.db.engine import stored_utc
from reminders.adapters.db.orm import (
    ConsoleActionRow,
    ConsoleGrantRow,
    ConsoleLoginAttemptRow,
    ConsoleSessionRow,
    ConsoleUserRow,
)
from reminders.domain.console_access import ConsoleAction, Grant, Role

_user = cast(Table, ConsoleUserRow.__table__)
_grant = cast(Table, ConsoleGrantRow.__table__)
_session = cast(Table, ConsoleSessionRow.__table__)
_action = cast(Table, ConsoleActionRow.__table__)
_attempt = cast(Table, ConsoleLoginAttemptRow.__table__)
# The first key of the advisory lock taken per user name while a login attempt is counted:
# "RLG", apart from the run locks' "REM" (adapters/db/run_lock.py); the second is the name's hash.
LOGIN_LOCK_SPACE = 0x524C47


@dataclass(frozen=True, slots=True)
class StoredUser:
    user_id: int
    username: str
    password_hash: str
    disabled: bool
    language: str | None = None  # the console's language the user chose


@dataclass(frozen=True, slots=True)
class StoredSession:
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


class ConsoleStore:
    """The console's reads and writes on one connection (one transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- users and grants ----------------------------------------------------------------------

    def user(self, username: str) -> StoredUser | None:
        return self._one_user(_user.c.username == username)

    def user_by_id(self, user_id: int) -> StoredUser | None:
        return self._one_user(_user.c.id == user_id)

    def _one_user(self, where: ColumnElement[bool]) -> StoredUser | None:
        row = self.connection.execute(select(_user).where(where)).first()
        if row is None:
            return None
        return StoredUser(
            row.id, row.username, row.password_hash, row.disabled_at is not None, row.language
        )

    def add_user(self, username: str, password_hash: str, at: datetime) -> int:
        result = self.connection.execute(
            insert(_user).values(username=username, password_hash=password_hash, created_at=at)
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.connection.execute(
            update(_user).where(_user.c.id == user_id).values(password_hash=password_hash)
        )

    def set_language(self, user_id: int, language: str | None) -> None:
        self.connection.execute(
            update(_user).where(_user.c.id == user_id).values(language=language)
        )

    def set_disabled(self, user_id: int, at: datetime | None) -> None:
        self.connection.execute(update(_user).where(_user.c.id == user_id).values(disabled_at=at))

    def grants(self, user_id: int) -> tuple[Grant, ...]:
        rows = self.connection.execute(
            select(_grant.c.municipality_nis, _grant.c.role, _grant.c.may_reveal)
            .where(_grant.c.user_id == user_id)
            .order_by(_grant.c.municipality_nis, _grant.c.role)
        )
        return tuple(Grant(row.municipality_nis, Role(row.role), row.may_reveal) for row in rows)

    def set_grant(self, user_id: int, grant: Grant) -> None:
        self.revoke(user_id, grant.municipality_nis, grant.role)
        self.connection.execute(
            insert(_grant).values(
                user_id=user_id,
                municipality_nis=grant.municipality_nis,
                role=grant.role.value,
                may_reveal=grant.may_reveal,
            )
        )

    def revoke(self, user_id: int, municipality_nis: str, role: Role) -> bool:
        result = self.connection.execute(
            delete(_grant).where(
                and_(
                    _grant.c.user_id == user_id,
                    _grant.c.municipality_nis == municipality_nis,
                    _grant.c.role == role.value,
                )
            )
        )
        return bool(result.rowcount)

    def users(self) -> list[tuple[StoredUser, tuple[Grant, ...]]]:
        rows = self.connection.execute(select(_user).order_by(_user.c.username)).all()
        return [
            (
                StoredUser(row.id, row.username, row.password_hash, row.disabled_at is not None),
                self.grants(row.id),
            )
            for row in rows
        ]

    # -- sessions ------------------------------------------------------------------------------

    def start_session(self, token_sha256: str, user_id: int, csrf_token: str, at: datetime) -> None:
        self.connection.execute(
            insert(_session).values(
                token_sha256=token_sha256,
                user_id=user_id,
                csrf_token=csrf_token,
                created_at=at,
                last_seen_at=at,
            )
        )

    def session(self, token_sha256: str) -> StoredSession | None:
        row = self.connection.execute(
            select(_session).where(_session.c.token_sha256 == token_sha256)
        ).first()
        if row is None:
            return None
        return StoredSession(
            row.user_id, row.csrf_token, stored_utc(row.created_at), stored_utc(row.last_seen_at)
        )

    def touch_session(self, token_sha256: str, at: datetime) -> None:
        self.connection.execute(
            update(_session).where(_session.c.token_sha256 == token_sha256).values(last_seen_at=at)
        )

    def end_session(self, token_sha256: str) -> None:
        self.connection.execute(delete(_session).where(_session.c.token_sha256 == token_sha256))

    def end_sessions_of(self, user_id: int) -> int:
        return int(
            self.connection.execute(delete(_session).where(_session.c.user_id == user_id)).rowcount
        )

    def end_sessions_before(self, last_seen_before: datetime, created_before: datetime) -> None:
        """Forget sessions that are over anyway, so the table does not grow."""
        self.connection.execute(
            delete(_session).where(
                (_session.c.last_seen_at < last_seen_before)
                | (_session.c.created_at < created_before)
            )
        )

    # -- the activity log ------------------------------------------------------------------------

    def record(self, action: ConsoleAction) -> None:
        self.connection.execute(
            insert(_action).values(
                at=action.at,
                username=action.username,
                municipality_nis=action.municipality_nis,
                action=action.action,
                outcome=action.outcome,
                details=json.dumps(action.details, ensure_ascii=False, sort_keys=True),
            )
        )

    # -- login attempts (the lockout) ---------------------------------------------------------

    def lock_logins_of(self, username: str) -> None:
        """Hold, until this transaction ends, the right to count and add login attempts for
        ``username``. On PostgreSQL an advisory lock on the name (different names do not
        wait for each other); SQLite's transaction holds the write lock already
        (``write_locked_transaction``)."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
                {"space": LOGIN_LOCK_SPACE, "name": username},
            )

    def failed_logins(self, username: str, since: datetime) -> int:
        """Attempts for ``username`` since ``since`` that did not log in: failed ones, and
        pending ones whose password is being checked."""
        count = self.connection.execute(
            select(func.count())
            .select_from(_attempt)
            .where(
                _attempt.c.username == username,
                _attempt.c.attempted_at >= since,
                _attempt.c.outcome != "ok",
            )
        ).scalar_one()
        return int(count)

    def add_login_attempt(self, username: str, at: datetime) -> int:
        """A pending attempt (it counts as failed until ``settle_login_attempt``)."""
        result = self.connection.execute(
            insert(_attempt).values(username=username, attempted_at=at, outcome="pending")
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def settle_login_attempt(self, attempt_id: int, *, succeeded: bool) -> None:
        self.connection.execute(
            update(_attempt)
            .where(_attempt.c.id == attempt_id)
            .values(outcome="ok" if succeeded else "failed")
        )

    def forget_login_attempts(self, username: str, before: datetime) -> None:
        """Drop the name's attempts that no longer count, so the table does not grow."""
        self.connection.execute(
            delete(_attempt).where(
                _attempt.c.username == username, _attempt.c.attempted_at < before
            )
        )

    def actions(self, municipality_nis: str, *, limit: int) -> list[ConsoleAction]:
        """The newest actions in a municipality."""
        rows = self.connection.execute(
            select(_action)
            .where(_action.c.municipality_nis == municipality_nis)
            .order_by(_action.c.id.desc())
            .limit(limit)
        )
        return [
            ConsoleAction(
                stored_utc(row.at),
                row.username,
                row.municipality_nis,
                row.action,
                row.outcome,
                json.loads(row.details),
            )
            for row in rows
        ]
