"""The services' refusals and failures in the user's language: each `errors.ReasonCode` has
a text here, marked for the catalogs, into which the reason's values go (numbers, file names,
references; a municipality's NIS code becomes its name). The command line keeps the error's
English message; so does the console for an error without a reason (a bug's, not a
refusal's), and when a catalog's text does not fit the values (logged)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from reminders.entrypoints.console.i18n import N_, _, number
from reminders.entrypoints.console.labels import word
from reminders.errors import Reason, ReasonCode, RemindersError

log = logging.getLogger(__name__)

TEXTS: dict[ReasonCode, str] = {
    ReasonCode.LOGIN_REFUSED: N_("Unknown user name or wrong password."),
    ReasonCode.LOGIN_THROTTLED: N_(
        "Too many failed logins for this name: try again in %(minutes)s minutes."
    ),
    ReasonCode.MUNICIPALITY_BUSY: N_(
        "Another run holds %(municipality)s (the nightly job, or a run from a terminal): "
        "nothing was done. Try again once it has ended."
    ),
    ReasonCode.LOG_BEHIND: N_(
        "The dispatch log of %(municipality)s in the database is not the one that was "
        "published (a database restored from an older backup): nothing was done. Ask the "
        "administrator to run reminders recover."
    ),
    ReasonCode.RUN_STOPPED: N_(
        "It was asked to stop (the console or the server stopped) and stopped at a safe point."
    ),
    ReasonCode.RUN_FAILED: N_(
        "An unexpected error (%(error)s): the administrator finds its details in the server's log."
    ),
    ReasonCode.RUN_KILLED: N_(
        "Its process stopped (killed, or the server restarted) while %(step)s."
    ),
    ReasonCode.NO_SUCH_VOLUME: N_("There is no print volume %(volume)s."),
    ReasonCode.VOLUME_NOT_FINISHED: N_(
        "Volume %(volume)s belongs to run %(run)s, which has not finished: its volumes are "
        "released once it is sealed."
    ),
    ReasonCode.VOLUME_CANCELLED: N_("%(file)s was cancelled: nothing in it goes out."),
    ReasonCode.VOLUME_GONE_TO_PRINT: N_(
        "%(file)s of run %(run)s went to the print shop already: its letters can no longer be "
        "stopped here (ask the print shop)."
    ),
    ReasonCode.RUN_NOT_FINISHED: N_("Run %(run)s has not finished yet."),
    ReasonCode.FOUR_EYES_RUN: N_(
        "%(user)s started run %(run)s (%(file)s): another approver must do this (four eyes)."
    ),
    ReasonCode.FOUR_EYES_REPRINT: N_(
        "%(user)s asked for this reprint (run %(run)s, %(file)s): another approver must do "
        "this (four eyes)."
    ),
    ReasonCode.NOT_A_REFERENCE: N_(
        "%(reference)s is not a letter's reference (like 44021-000012-000003)."
    ),
    ReasonCode.NO_SUCH_LETTER: N_("No printed letter has the reference %(reference)s."),
    ReasonCode.NO_SUCH_REPRINT: N_("No reprint has the reference %(reference)s."),
    ReasonCode.LETTER_ALREADY_CANCELLED: N_("Letter %(reference)s was cancelled already."),
    ReasonCode.LETTER_CANCELLED_NOT_SENT: N_(
        "Letter %(reference)s was cancelled: it never went out, so it cannot be printed again."
    ),
    ReasonCode.LETTER_NOT_RELEASED: N_(
        "Letter %(reference)s is in %(file)s, which has not gone to the print shop yet: release "
        "it (or cancel the letter) instead."
    ),
    ReasonCode.NO_REPRINT_NOW: N_(
        "Letter %(reference)s cannot be printed again as it was: its holder, its document or "
        "its templates changed since (a death, a move, a renewal)."
    ),
    ReasonCode.LETTERS_NEED_DECISION: N_(
        "%(file)s cannot go out as printed: these letters are no longer what was printed (a "
        "death, a move, a renewal, changed templates): %(letters)s. Cancel them, then release "
        "it again."
    ),
    ReasonCode.NOTE_TOO_SHORT: N_("Say why, in a few words (at least 3 characters)."),
    ReasonCode.NOTE_TOO_LONG: N_(
        "Say why in at most %(longest)s characters (it is kept in the log)."
    ),
    ReasonCode.NOTE_PERSONAL_DATA: N_(
        "No national numbers or e-mail addresses in the reason: it is kept in the signed "
        "dispatch log, which holds no personal data."
    ),
    ReasonCode.NO_SUCH_DOCUMENT: N_(
        "There is no document %(document)s in the registry of %(municipality)s."
    ),
    ReasonCode.NO_POLICY: N_("config.toml has no reminder policy for the %(kind)s."),
    ReasonCode.UNKNOWN_STAGE: N_(
        "The %(kind)s has no stage %(stage)s; its stages are: %(stages)s."
    ),
    ReasonCode.NO_EXPIRY: N_("Document %(document)s has no expiry date (a paper licence)."),
    ReasonCode.NO_ADDRESS: N_("The holder of document %(document)s has no usable address."),
    ReasonCode.MUNICIPALITY_NOT_CONFIGURED: N_(
        "%(municipality)s is not configured in config.toml: the administrator must add it back "
        "first."
    ),
}


def worded(reason: Reason, names: Mapping[str, str] | None = None, fallback: str = "") -> str:
    """The reason in the current language; ``names`` gives municipalities' names by NIS code."""
    values: dict[str, str] = {}
    for name, value in reason.values.items():
        if isinstance(value, int):
            values[name] = number(value) if name in ("minutes", "longest") else str(value)
        elif name == "step":  # the step it completed: say the one it was at
            values[name] = word("step", value)
        elif name == "kind":
            values[name] = word("kind", value)
        elif name in ("stage", "stages"):
            values[name] = ", ".join(word("stage", code) for code in value.split(", "))
        elif name == "municipality" and names:
            values[name] = ", ".join(names.get(nis, nis) for nis in value.split(", "))
        else:
            values[name] = value
    try:
        return _(TEXTS[reason.code]) % values
    except (KeyError, ValueError, TypeError):
        log.exception("the console's text of reason %s does not fit its values", reason.code)
        return fallback or reason.code.value


def said(error: RemindersError, names: Mapping[str, str] | None = None) -> str:
    """What the console shows for a service's error: its reason in the user's language, or
    its own (English) message when it has none."""
    if error.reason is None:
        return error.message
    return worded(error.reason, names, error.message)
