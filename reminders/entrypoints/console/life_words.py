"""What happened to a letter (domain/letter_life.py), in the user's language: each event's
code has a text here, marked for the catalogs, into which its values go (file names,
references, dates as the language writes them, a person's note as they wrote it). An event
without a known code keeps its English text."""

from __future__ import annotations

from collections.abc import Callable

from reminders.domain.letter_life import LifeEvent
from reminders.entrypoints.console.i18n import N_, _, day, ngettext, number

TEXTS: dict[str, str] = {
    "run": N_("run %(run)s, night of %(night)s"),
    "held": N_("%(volume)s waits for an approver"),
    "released_with_run": N_("with its run (its volumes need no approval)"),
    "released": N_("%(volume)s to the print shop"),
    "cancelled_decide_again": N_("%(note)s (its stage is decided again)"),
    "reprinted": N_("as %(reprint)s in %(volume)s: %(note)s"),
    "reprinted_held": N_("as %(reprint)s in %(volume)s (held for an approver): %(note)s"),
    "returned": N_("%(reference)s came back on %(returned_on)s (%(reason)s)"),
}
COUNTED = {"printed": "pages", "recut": "left_out"}  # texts with a count: the value counted
_DATES = ("night", "returned_on")
_FORMATTED: dict[str, Callable[[str | int], str]] = {
    **{name: lambda value: day(str(value)) if value else "" for name in _DATES},
    "page": lambda value: number(int(value)),
}


def life_what(event: LifeEvent) -> str:
    values = {
        name: _FORMATTED[name](value) if name in _FORMATTED else str(value)
        for name, value in event.values
    }
    try:
        if event.what_code == "cancelled":
            return values["note"]  # the approver's own words, as the log keeps them
        if event.what_code in COUNTED:
            count = int(dict(event.values).get(COUNTED[event.what_code], 0))
            return _counted(event.what_code, count) % {**values, "num": number(count)}
        if event.what_code in TEXTS:
            return _(TEXTS[event.what_code]) % values
    except (KeyError, ValueError, TypeError):
        pass  # a catalog's text that does not fit: the English one below
    return event.what


def _counted(code: str, count: int) -> str:
    if code == "printed":
        return ngettext(
            "%(volume)s, page %(page)s (%(num)s page)",
            "%(volume)s, page %(page)s (%(num)s pages)",
            count,
        )
    return ngettext(
        "now in %(volume)s, cut again without %(num)s cancelled letter",
        "now in %(volume)s, cut again without %(num)s cancelled letters",
        count,
    )
