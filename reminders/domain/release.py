"""The release gate (issue 21): whether a municipality's print volumes go to the print shop
when the run is sealed, or wait for a second person to release them; who that person may be;
and what a person must say when stopping or reprinting a letter.

Four eyes: the person who started a run cannot release its volumes (or cancel its letters),
nor the person who asked for a reprint release it. Runs started by the scheduler, or by
`reminders run` on the command line, were started by no console user: any approver may
release them.

>>> four_eyes_refusal("console:an", "an")
'an started run'
>>> four_eyes_refusal("console:an", "bert") is None, four_eyes_refusal("scheduler:nightly", "an")
(True, None)
>>> checked_note("the citizen renewed her card on 26 November")
'the citizen renewed her card on 26 November'
"""

from __future__ import annotations

import re
from enum import StrEnum

from reminders.errors import Reason, ReasonCode, UsageError


class ReleaseMode(StrEnum):
    """``release`` of a municipality in config.toml."""

    AUTO = "auto"  # the sealed run's volumes go to the pick-up folder at once (as before)
    APPROVAL = "approval"  # they are held until an approver releases them


class VolumeState(StrEnum):
    """Where a print volume stands towards the print shop."""

    AUTO = "auto"  # released with its run, no approval needed
    HELD = "held"  # waits for an approver
    RELEASED = "released"  # an approver released it: it is (or goes) in the pick-up folder
    CANCELLED = "cancelled"  # every letter in it was cancelled: it never goes out
    REPLACED = "replaced"  # re-cut without its cancelled letters: the re-cut goes out instead


# The actors whose runs count as started by a person who could also approve them: console
# users (`console:<name>`) and approvers on the command line (`cli:<name>`, `--by NAME`).
_PERSON_ACTORS = ("console:", "cli:")
NOTE_MAX = 200
_NATIONAL_NUMBER = re.compile(r"\d{2}\D?\d{2}\D?\d{2}\D?\d{3}\D?\d{2}")
_EMAIL = re.compile(r"\S+@\S+\.\S+")


def person_of(actor: str | None) -> str | None:
    """The console user behind an actor (``console:an`` → ``an``); None for the scheduler,
    a plain `reminders run` ("cli"), the demo, or nobody."""
    if not actor:
        return None
    for prefix in _PERSON_ACTORS:
        if actor.startswith(prefix):
            return actor[len(prefix) :] or None
    return None


def four_eyes_refusal(started_by: str | None, approver: str) -> str | None:
    """Why ``approver`` may not release what ``started_by`` started (a short phrase for a
    message), or None when they may."""
    if person_of(started_by) == approver:
        return f"{approver} started run"
    return None


def checked_note(text: str, *, what: str = "--reason") -> str:
    """A person's reason for cancelling or reprinting a letter, as it is kept in the signed
    dispatch log for good: one line, 3 to 200 characters, and nothing that looks like a
    national number or an e-mail address (the log holds no personal data)."""
    note = " ".join(text.split())
    if len(note) < 3:
        raise UsageError(
            f"{what}: say why, in a few words (at least 3 characters)",
            reason=Reason(ReasonCode.NOTE_TOO_SHORT),
        )
    if len(note) > NOTE_MAX:
        raise UsageError(
            f"{what}: at most {NOTE_MAX} characters (it is kept in the log)",
            reason=Reason(ReasonCode.NOTE_TOO_LONG, {"longest": NOTE_MAX}),
        )
    if _NATIONAL_NUMBER.search(note) or _EMAIL.search(note):
        raise UsageError(
            f"{what}: no national numbers or e-mail addresses: the reason is kept in the "
            "signed dispatch log, which holds no personal data",
            reason=Reason(ReasonCode.NOTE_PERSONAL_DATA),
        )
    return note
