"""The console's login lockout under parallel requests, against a real server (uvicorn on
127.0.0.1, real HTTP), on SQLite and PostgreSQL: however many login requests for a name arrive
at once, at most ``max_failed_logins`` passwords are checked per window, and once they are
spent even the right password is refused (issue 18, item 1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine, func, select

from reminders.adapters.crypto.passwords import Argon2Passwords
from reminders.adapters.db.orm import ConsoleLoginAttemptRow
from reminders.config import load_settings
from reminders.entrypoints.console.app import create_app
from tests.console_support import PASSWORD, add_users, cheap_passwords, csrf_of, night_clock
from tests.live_server import serving

REQUESTS = 20  # at once, each from its own login page (its own CSRF cookie)
MAX_FAILED = 5  # [console] max_failed_logins in the example config
WRONG_MESSAGE = "Unknown user name or wrong password."
THROTTLED_MESSAGE = "Too many failed logins"
# Production Argon2 takes tens of milliseconds: the time in which parallel requests used to
# read the same count of failures. The tests' cheap Argon2 plus this stands in for it.
VERIFY_SECONDS = 0.3


class SlowPasswords:
    """The tests' cheap Argon2, taking as long to verify as production parameters would."""

    def __init__(self, inner: Argon2Passwords) -> None:
        self.inner = inner

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        time.sleep(VERIFY_SECONDS)
        return self.inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.inner.needs_rehash(password_hash)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    text: str
    logged_in: bool  # a session cookie was set


@pytest.fixture
def console_url(config_file: Path, database_url: str, engine: Engine) -> Iterator[str]:
    """The console on a migrated database with the test users, served over HTTP."""
    passwords = cheap_passwords()
    add_users(database_url, passwords)
    settings = load_settings(config_file, environ={"REMINDERS_DATABASE_URL": database_url})
    app = create_app(settings, now=night_clock("2027-03-01"), passwords=SlowPasswords(passwords))
    with serving(app) as url:
        yield url


def logins_at_once(url: str, username: str, passwords: list[str]) -> list[Answer]:
    """One POST /login per password, all sent at the same moment, each by a client that first
    fetched its own login page (as separate browsers would)."""
    clients = [httpx2.Client(base_url=url, timeout=60) for _ in passwords]
    try:
        tokens = [csrf_of(client.get("/login").text) for client in clients]
        start = threading.Barrier(len(clients))
        answers: list[Answer | None] = [None] * len(clients)

        def post(index: int) -> None:
            start.wait()
            response = clients[index].post(
                "/login",
                data={
                    "username": username,
                    "password": passwords[index],
                    "csrf_token": tokens[index],
                },
            )
            answers[index] = Answer(
                response.status_code, response.text, "reminders_session" in response.cookies
            )

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for client in clients:
            client.close()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def wrong_passwords(count: int) -> list[str]:
    return [f"wrong password {n:02d}" for n in range(count)]


def failed_attempts(engine: Engine, username: str) -> int:
    """The name's attempts that count against it (every one but a success)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(ConsoleLoginAttemptRow)
                .where(
                    ConsoleLoginAttemptRow.username == username,
                    ConsoleLoginAttemptRow.outcome != "ok",
                )
            ).scalar_one()
        )


def test_parallel_wrong_passwords_get_only_the_allowed_guesses(
    console_url: str, engine: Engine
) -> None:
    answers = logins_at_once(console_url, "staff.gent", wrong_passwords(REQUESTS))
    checked = [a for a in answers if WRONG_MESSAGE in a.text]
    throttled = [a for a in answers if THROTTLED_MESSAGE in a.text]
    assert len(checked) == MAX_FAILED
    assert len(throttled) == REQUESTS - MAX_FAILED
    assert {a.status for a in answers} == {401}
    assert failed_attempts(engine, "staff.gent") == MAX_FAILED
    # The limit reached, the right password among 19 wrong ones, at once: all refused.
    again = logins_at_once(console_url, "staff.gent", [*wrong_passwords(REQUESTS - 1), PASSWORD])
    assert all(THROTTLED_MESSAGE in a.text and not a.logged_in for a in again)


def test_the_right_password_among_wrong_ones_is_one_of_the_allowed_guesses(
    console_url: str, engine: Engine
) -> None:
    passwords = [*wrong_passwords(REQUESTS - 1), PASSWORD]
    answers = logins_at_once(console_url, "audit.gent", passwords)
    logged_in = [a for a in answers if a.logged_in]
    checked = [a for a in answers if WRONG_MESSAGE in a.text]
    throttled = [a for a in answers if THROTTLED_MESSAGE in a.text]
    # At most the allowed number of wrong passwords is checked. The right one, if its turn
    # came before the limit, logs in (a success is not a failed guess, so a request that
    # came after it may still have had its turn), else it is refused like the rest.
    assert len(logged_in) <= 1
    assert len(checked) <= MAX_FAILED
    assert len(checked) + len(logged_in) >= MAX_FAILED
    assert len(checked) + len(logged_in) + len(throttled) == REQUESTS
    assert failed_attempts(engine, "audit.gent") == len(checked)
