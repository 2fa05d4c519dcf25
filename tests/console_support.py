"""What the console's tests share: its users, a clock the tests move, the app on a registry,
and logging in through the login form (with its CSRF token), as a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reminders.adapters.crypto.passwords import Argon2Passwords
from reminders.adapters.db.engine import make_engine
from reminders.bootstrap import console_transaction
from reminders.config import load_settings
from reminders.domain.console_access import Grant, Role
from reminders.entrypoints.console.app import create_app
from reminders.services.console_accounts import add_user, grant_role

GENT, BRUSSELS, EUPEN = "44021", "21004", "63023"
PASSWORD = "correct horse battery"  # noqa: S105 - synthetic, as everything in the tests
# name: its grants
USERS: dict[str, tuple[Grant, ...]] = {
    "staff.gent": (Grant(GENT, Role.STAFF),),
    "audit.gent": (Grant(GENT, Role.AUDITOR, may_reveal=True),),
    "audit.brussels": (Grant(BRUSSELS, Role.AUDITOR),),
    "both.gent": (Grant(GENT, Role.STAFF), Grant(GENT, Role.AUDITOR)),
    "staff.eupen": (Grant(EUPEN, Role.STAFF),),
}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def cheap_passwords() -> Argon2Passwords:
    """Argon2id at its lowest cost: tests log in often; production keeps the defaults."""
    return Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass(slots=True)
class Clock:
    """The console's clock: tests move it to expire sessions."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


def night_clock(day: str) -> Clock:
    """10:00 in Brussels on ``day`` (09:00 UTC in winter): the staff's working day."""
    return Clock(datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=UTC))


def add_users(database_url: str, passwords: Argon2Passwords) -> None:
    engine: Engine = make_engine(database_url)
    try:
        transaction = console_transaction(engine)
        now = datetime(2027, 1, 1, tzinfo=UTC)
        for name, grants in USERS.items():
            add_user(transaction, passwords, name, PASSWORD, by="cli:test", now=now)
            for grant in grants:
                grant_role(transaction, name, grant, by="cli:test", now=now)
    finally:
        engine.dispose()


def console_app(config_file: Path, database_url: str, clock: Clock) -> Starlette:
    """The console on the registry's database (users added by ``add_users``)."""
    settings = load_settings(config_file, environ={"REMINDERS_DATABASE_URL": database_url})
    return create_app(settings, now=clock, passwords=cheap_passwords())


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the start page)."""
    form = client.get("/login")
    assert form.status_code == 200
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert response.status_code == 200, response.text  # followed the redirect to "/"
    return csrf_of(response.text)


def _refused(*_args: object, **_kwargs: object) -> object:
    raise AssertionError("the console's process read a private signing key")


@contextmanager
def private_key_unreadable() -> Iterator[None]:
    """In this process (the console's, under the test client) no private key can be read:
    what signs must be done by the console's signer process (issue 18)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("reminders.adapters.crypto.signing_key.load_pem_private_key", _refused)
        yield
