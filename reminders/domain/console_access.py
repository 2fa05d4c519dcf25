"""Who may do what in the web console: roles per municipality, and when a session ends.

A role is held in one municipality. Staff run and preview that municipality's letters;
auditors read its dispatch log; approvers release its held print volumes to the print shop,
or cancel letters in them, but never those of a run they started themselves (four eyes).
Nothing of a municipality is shown to someone who holds no role in it, not even that it
exists. National numbers stay masked unless the auditor's grant
allows revealing them (and every reveal is itself logged).

>>> user = ConsoleUser(1, "an", (Grant("44021", Role.AUDITOR),))
>>> user.may(Role.AUDITOR, "44021"), user.may(Role.AUDITOR, "21004"), user.may(Role.STAFF, "44021")
(True, False, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")  # fits "console:<name>" in started_by (40)


class Role(StrEnum):
    STAFF = "staff"  # civil-affairs staff: configuration, letters due, previews, runs
    AUDITOR = "auditor"  # the dispatch log: search, verify, export, reports
    APPROVER = "approver"  # held volumes: release to the print shop, cancel letters (issue 21)


@dataclass(frozen=True, slots=True)
class Grant:
    """A role in one municipality; ``may_reveal`` lets an auditor see national numbers."""

    municipality_nis: str
    role: Role
    may_reveal: bool = False


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    user_id: int
    username: str
    grants: tuple[Grant, ...]
    language: str | None = None  # the console's language the user chose (None: the browser's)

    def may(self, role: Role, municipality_nis: str) -> bool:
        return any(g.role is role and g.municipality_nis == municipality_nis for g in self.grants)

    def may_see(self, municipality_nis: str) -> bool:
        """Whether the municipality exists at all for this user."""
        return any(grant.municipality_nis == municipality_nis for grant in self.grants)

    def may_reveal(self, municipality_nis: str) -> bool:
        return any(
            g.role is Role.AUDITOR and g.may_reveal and g.municipality_nis == municipality_nis
            for g in self.grants
        )

    def roles_in(self, municipality_nis: str) -> tuple[Role, ...]:
        return tuple(
            role for role in Role if self.may(role, municipality_nis)
        )  # in Role's order: staff first

    @property
    def municipalities(self) -> tuple[str, ...]:
        return tuple(sorted({grant.municipality_nis for grant in self.grants}))

    @property
    def actor(self) -> str:
        """How runs, verifications and log entries name this user."""
        return f"console:{self.username}"


def checked_username(name: str) -> str:
    """``name`` if it is a user name the console accepts, else ValueError.

    >>> checked_username("j.peeters")
    'j.peeters'
    >>> checked_username("Jan Peeters")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: a user name is 2 to 32 characters: lower-case letters, digits, ...
    """
    if not USERNAME.fullmatch(name):
        raise ValueError(
            "a user name is 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return name


@dataclass(frozen=True, slots=True)
class SessionRule:
    """How long a login lasts: ``idle`` without a request, and ``longest`` in all."""

    idle: timedelta
    longest: timedelta

    def is_over(self, *, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        """
        >>> from datetime import UTC
        >>> rule = SessionRule(timedelta(minutes=30), timedelta(hours=10))
        >>> start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        >>> rule.is_over(created_at=start, last_seen_at=start, now=start + timedelta(minutes=29))
        False
        >>> rule.is_over(created_at=start, last_seen_at=start, now=start + timedelta(minutes=31))
        True
        >>> late = start + timedelta(hours=10)
        >>> rule.is_over(created_at=start, last_seen_at=late, now=late + timedelta(seconds=1))
        True
        """
        return now - last_seen_at > self.idle or now - created_at > self.longest


@dataclass(frozen=True, slots=True)
class ConsoleAction:
    """One line of the console's activity log: who did what, where, with what outcome
    (``details`` holds no personal data beyond document numbers)."""

    at: datetime
    username: str  # a console user, or "cli:<account>" for `reminders console-user`
    municipality_nis: str | None
    action: str
    outcome: str  # ok, refused, failed, started
    details: dict[str, Any]


FAILED_LOGIN_WINDOW = timedelta(minutes=15)  # failed logins counted over this window
