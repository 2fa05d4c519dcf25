"""Console users and their sessions: logging in and out, who a session belongs to, and the
user administration `reminders console-user` does. Each change is written to the console's
activity log in the same transaction as the change itself."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reminders.domain.console_access import (
    FAILED_LOGIN_WINDOW,
    ConsoleAction,
    ConsoleUser,
    Grant,
    Role,
    SessionRule,
    checked_username,
)
from reminders.errors import Reason, ReasonCode, RemindersError, UsageError
from reminders.services.ports import (
    ConsoleStore,
    ConsoleTransaction,
    LoginTransaction,
    Passwords,
    StoredUser,
)

MIN_PASSWORD_LENGTH = 12
# A session's last activity is written at most this often: not a write per request, which on
# SQLite would wait behind a run's long transactions. Idle sessions end up to this much later.
TOUCH_EVERY = timedelta(minutes=1)


class LoginRefusedError(RemindersError):
    """Wrong name or password, a disabled user, or too many failed attempts."""


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser: its user and the token its forms must carry (CSRF)."""

    user: ConsoleUser
    csrf_token: str


def token_digest(token: str) -> str:
    """What is stored of a session token: a leaked table gives no usable cookie."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def log_in(
    logins: LoginTransaction,
    transaction: ConsoleTransaction,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    now: datetime,
    max_failures: int,
    client: str,
) -> tuple[str, Session]:
    """A new session token for ``username``; LoginRefusedError otherwise, with one message for
    every reason but throttling, so a refusal does not tell which names exist.

    At most ``max_failures`` passwords are checked for a name in any FAILED_LOGIN_WINDOW,
    however many requests come at once: the attempt is counted (as failed) before its
    password is checked, in a transaction that admits one attempt per name at a time, and
    only a right password turns it into a success."""
    name, stored, attempt = _password_checked(
        logins, transaction, passwords, username, password, now=now,
        max_failures=max_failures, client=client,
    )  # fmt: skip
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction() as store:
        store.settle_login_attempt(attempt, succeeded=True)
        if passwords.needs_rehash(stored.password_hash):
            store.set_password(stored.user_id, passwords.hash(password))
        store.start_session(token_digest(token), stored.user_id, csrf, now)
        store.record(ConsoleAction(now, name, None, "login", "ok", {"client": client}))
        user = ConsoleUser(
            stored.user_id, stored.username, store.grants(stored.user_id), stored.language
        )
    return token, Session(user, csrf)


def _password_checked(
    logins: LoginTransaction,
    transaction: ConsoleTransaction,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    now: datetime,
    max_failures: int,
    client: str,
) -> tuple[str, StoredUser, int]:
    """The user whose password was given, counted against the lockout as a login is: the
    name as counted, the user, and the attempt (counted as failed until it is settled as a
    success). LoginRefusedError otherwise, the refusal written to the activity log."""
    name = _attempted_name(username)
    with logins() as store:
        store.lock_logins_of(name)
        store.forget_login_attempts(name, now - FAILED_LOGIN_WINDOW)
        throttled = store.failed_logins(name, now - FAILED_LOGIN_WINDOW) >= max_failures
        if throttled:
            details = {"client": client, "why": "throttled"}
            store.record(ConsoleAction(now, name, None, "login", "refused", details))
        else:
            attempt = store.add_login_attempt(name, now)
            stored = store.user(name)
    if throttled:
        minutes = int(FAILED_LOGIN_WINDOW.total_seconds() // 60)
        raise LoginRefusedError(
            f"Too many failed logins for this name: try again in {minutes} minutes.",
            reason=Reason(ReasonCode.LOGIN_THROTTLED, {"minutes": minutes}),
        )
    # Verified outside any transaction: Argon2 takes a while, and must take it for unknown
    # names too (the decoy hash). The attempt counts as failed meanwhile.
    matches = passwords.verify(stored.password_hash if stored else None, password)
    if stored is None or not matches or stored.disabled:
        why = "unknown user" if stored is None else "disabled" if matches else "wrong password"
        with transaction() as store:
            store.settle_login_attempt(attempt, succeeded=False)
            details = {"client": client, "why": why}
            store.record(ConsoleAction(now, name, None, "login", "refused", details))
        raise LoginRefusedError(
            "Unknown user name or wrong password.", reason=Reason(ReasonCode.LOGIN_REFUSED)
        )
    return name, stored, attempt


def _attempted_name(username: str) -> str:
    """The name a login attempt is counted and logged under: as typed, in lower case, cut to
    a user name's length, with control characters replaced (a database refuses some)."""
    name = username.strip().lower()[:32]
    return "".join(char if char.isprintable() else "?" for char in name)


def session_for(
    transaction: ConsoleTransaction, token: str, rule: SessionRule, *, now: datetime
) -> Session | None:
    """The session ``token`` stands for, or None when there is none or it is over (then it is
    ended). A request counts as activity."""
    digest = token_digest(token)
    with transaction() as store:
        found = store.session(digest)
        if found is None:
            return None
        if rule.is_over(created_at=found.created_at, last_seen_at=found.last_seen_at, now=now):
            store.end_session(digest)
            store.end_sessions_before(now - rule.idle, now - rule.longest)
            return None
        stored = store.user_by_id(found.user_id)
        if stored is None or stored.disabled:  # `console-user disable` ends sessions too
            store.end_session(digest)
            return None
        if now - found.last_seen_at >= TOUCH_EVERY:
            store.touch_session(digest, now)
        user = ConsoleUser(
            found.user_id, stored.username, store.grants(found.user_id), stored.language
        )
        return Session(user, found.csrf_token)


def choose_language(
    transaction: ConsoleTransaction, session: Session, language: str, *, now: datetime
) -> None:
    """Keep the console's language the user chose (one the console has: the caller checks)."""
    user = session.user
    with transaction() as store:
        store.set_language(user.user_id, language)
        store.record(
            ConsoleAction(now, user.username, None, "language_chosen", "ok", {"language": language})
        )


def log_out(
    transaction: ConsoleTransaction, token: str, session: Session, *, now: datetime
) -> None:
    with transaction() as store:
        store.end_session(token_digest(token))
        store.record(ConsoleAction(now, session.user.username, None, "logout", "ok", {}))


def note_action(
    transaction: ConsoleTransaction,
    user: ConsoleUser | str,
    municipality_nis: str | None,
    action: str,
    outcome: str,
    *,
    now: datetime,
    **details: Any,
) -> None:
    """Write one line to the console's activity log."""
    name = user.username if isinstance(user, ConsoleUser) else user
    with transaction() as store:
        store.record(ConsoleAction(now, name, municipality_nis, action, outcome, details))


# -- administration (`reminders console-user`) -----------------------------------------------


def add_user(
    transaction: ConsoleTransaction,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    by: str,
    now: datetime,
) -> None:
    name = _name(username)
    hashed = passwords.hash(_checked_password(password))
    with transaction() as store:
        if store.user(name) is not None:
            raise UsageError(f"console user {name!r} exists already")
        store.add_user(name, hashed, now)
        store.record(ConsoleAction(now, by, None, "user_added", "ok", {"user": name}))


def set_password(
    transaction: ConsoleTransaction,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    by: str,
    now: datetime,
) -> None:
    """A new password; every session of the user ends."""
    hashed = passwords.hash(_checked_password(password))
    with transaction() as store:
        stored = _existing(store, username)
        store.set_password(stored.user_id, hashed)
        store.end_sessions_of(stored.user_id)
        store.record(ConsoleAction(now, by, None, "password_set", "ok", {"user": stored.username}))


def set_disabled(
    transaction: ConsoleTransaction, username: str, disabled: bool, *, by: str, now: datetime
) -> None:
    """Disable (ending every session at once) or enable a user; users are never deleted, as
    the activity log names them."""
    with transaction() as store:
        stored = _existing(store, username)
        store.set_disabled(stored.user_id, now if disabled else None)
        store.end_sessions_of(stored.user_id)
        action = "user_disabled" if disabled else "user_enabled"
        store.record(ConsoleAction(now, by, None, action, "ok", {"user": stored.username}))


def grant_role(
    transaction: ConsoleTransaction,
    username: str,
    grant: Grant,
    *,
    by: str,
    now: datetime,
) -> None:
    if grant.may_reveal and grant.role is not Role.AUDITOR:
        raise UsageError("--reveal: only an auditor's role may reveal national numbers")
    with transaction() as store:
        stored = _existing(store, username)
        store.set_grant(stored.user_id, grant)
        details = {"user": stored.username, "role": grant.role.value, "reveal": grant.may_reveal}
        store.record(ConsoleAction(now, by, grant.municipality_nis, "role_granted", "ok", details))


def revoke_role(
    transaction: ConsoleTransaction,
    username: str,
    municipality_nis: str,
    role: Role,
    *,
    by: str,
    now: datetime,
) -> None:
    with transaction() as store:
        stored = _existing(store, username)
        if not store.revoke(stored.user_id, municipality_nis, role):
            raise UsageError(f"{stored.username} holds no {role} role in {municipality_nis}")
        store.end_sessions_of(stored.user_id)  # the next request sees the narrower rights
        details = {"user": stored.username, "role": role.value}
        store.record(ConsoleAction(now, by, municipality_nis, "role_revoked", "ok", details))


def _name(username: str) -> str:
    try:
        return checked_username(username)
    except ValueError as err:
        raise UsageError(f"user name {username!r}: {err}") from err


def _existing(store: ConsoleStore, username: str) -> StoredUser:
    stored = store.user(_name(username))
    if stored is None:
        raise UsageError(f"no console user {username!r} (add one with `console-user add`)")
    return stored


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


# -- console users acting on the command line (issue 21) ---------------------------------------


def authenticated_user(
    logins: LoginTransaction,
    transaction: ConsoleTransaction,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    roles: Collection[Role],
    municipality_nis: str,
    action: str,
    now: datetime,
    max_failures: int,
) -> ConsoleUser:
    """The console user ``username`` for a command that acts in their name (`reminders
    release --by NAME`): their password checked as a login checks it (counted against the
    same lockout, logged as a login on the command line), and one of ``roles`` held in the
    municipality. A refusal says one thing for every reason but throttling and a missing
    role, as a login does."""
    try:
        name, stored, attempt = _password_checked(
            logins, transaction, passwords, username, password, now=now,
            max_failures=max_failures, client="cli",
        )  # fmt: skip
    except LoginRefusedError as err:
        raise UsageError(f"--by {_attempted_name(username)}: {err.message}") from err
    with transaction() as store:
        store.settle_login_attempt(attempt, succeeded=True)
        store.record(ConsoleAction(now, name, None, "login", "ok", {"client": "cli"}))
        user = ConsoleUser(stored.user_id, stored.username, store.grants(stored.user_id))
    if not any(user.may(role, municipality_nis) for role in roles):
        wanted = " or ".join(role.value for role in roles)
        note_action(transaction, name, municipality_nis, action, "refused", now=now,
                    client="cli", why=f"not {wanted}")  # fmt: skip
        raise UsageError(f"--by {name}: holds no {wanted} role in {municipality_nis}")
    return user
