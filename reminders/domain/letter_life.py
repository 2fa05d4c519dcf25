"""A letter's life in one place (issue 21), read from the dispatch log alone: decided by a
run, printed in a volume, held for an approver or released with its run, re-cut, released,
cancelled, reprinted, returned; each with when and by whom.

The log's entries about a letter are its own (by reference, its reprints' too) and those of
its run about the run and the volumes (the letter entry says which volume it was printed in;
a re-cut entry says which volume replaced which; a release names the volume).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reminders.domain.dispatch_log import LogEntry, LogEvent, entry_details


class LetterState(StrEnum):
    DECIDED = "decided"
    PRINTED = "printed"
    HELD = "held"
    RECUT = "recut"
    RELEASED = "released"
    CANCELLED = "cancelled"
    REPRINTED = "reprinted"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class LifeEvent:
    """One state of a letter: which, when (the log's UTC time stamp), by whom, and what."""

    state: LetterState
    at: str
    by: str | None
    what: str  # in English, for the command line
    seq: int  # the entry of the log that says so
    reference: str  # the letter's, or its reprint's
    # ``what`` as a code and its values (file names, numbers, dates, a person's note), which
    # the console words in the user's language
    what_code: str = ""
    values: tuple[tuple[str, str | int], ...] = ()


@dataclass(frozen=True, slots=True)
class LetterLife:
    reference: str
    municipality_nis: str
    document_kind: str | None
    document_number: str | None
    stage: str | None
    events: tuple[LifeEvent, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "municipality_nis": self.municipality_nis,
            "document_kind": self.document_kind,
            "document_number": self.document_number,
            "stage": self.stage,
            "events": [
                {
                    "state": e.state.value,
                    "at": e.at,
                    "by": e.by,
                    "what": e.what,
                    "seq": e.seq,
                    "reference": e.reference,
                }
                for e in self.events
            ],
        }


# Events about one letter (by reference); the others are about the run or a volume.
_LETTER_EVENTS = frozenset({LogEvent.CANCELLED, LogEvent.REPRINTED, LogEvent.RETURNED})


def _name(path: object) -> str:
    return str(path or "").rsplit("/", 1)[-1]


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def letter_life(reference: str, entries: Sequence[LogEntry]) -> LetterLife | None:
    """The states of the letter ``reference`` from its log entries (`letter_history`), in
    log order; None when the log has no such letter."""
    letter = next(
        (e for e in entries if e.event == LogEvent.LETTER and e.reference == reference), None
    )
    if letter is None:
        return None
    details = entry_details(letter)
    events: list[LifeEvent] = []

    def add(
        state: LetterState,
        entry: LogEntry,
        by: str | None,
        what: str,
        code: str,
        **values: str | int,
    ) -> None:
        events.append(LifeEvent(state, entry.recorded_at, by, what, entry.seq,
                                entry.reference or reference, code,
                                tuple(sorted(values.items()))))  # fmt: skip

    volumes = {_name(details.get("volume"))}  # where the letter is: its volume, its re-cuts
    held = any(
        e.event == LogEvent.VOLUME
        and _name(entry_details(e).get("path")) in volumes
        and entry_details(e).get("release") == "approval"
        for e in entries
    )
    reprints: set[str] = set()  # the reprints' volumes

    def is_ours(entry: LogEntry) -> bool:
        """An entry about this letter or one of its reprints (``REF-R1``, ...)."""
        return entry.reference == reference or (entry.reference or "").startswith(f"{reference}-R")

    for entry in entries:
        facts = entry_details(entry)
        if entry.event in _LETTER_EVENTS and not is_ours(entry):
            continue
        if entry.event == LogEvent.RUN:
            add(LetterState.DECIDED, entry, facts.get("started_by"),
                f"run {entry.run_id}, night of {facts.get('as_of')}", "run",
                run=entry.run_id or 0, night=str(facts.get("as_of") or ""))  # fmt: skip
        elif entry is letter:
            pages = facts.get("pages")
            add(LetterState.PRINTED, entry, None,
                f"{_name(facts.get('volume'))}, page {facts.get('page')} "
                f"({pages} page{'' if pages == 1 else 's'})", "printed",
                volume=_name(facts.get("volume")), page=_number(facts.get("page")),
                pages=_number(pages))  # fmt: skip
            if held:  # its volume's entry (just before its letters) says it waits
                add(LetterState.HELD, entry, None,
                    f"{_name(facts.get('volume'))} waits for an approver", "held",
                    volume=_name(facts.get("volume")))  # fmt: skip
        elif entry.event == LogEvent.SEALED and letter.run_id == entry.run_id:
            if not held:
                add(
                    LetterState.RELEASED,
                    entry,
                    None,
                    "with its run (release = auto)",
                    "released_with_run",
                )
        elif entry.event == LogEvent.RECUT:
            replaces = _name((facts.get("replaces") or {}).get("volume"))
            cancelled = any(e.state is LetterState.CANCELLED for e in events)
            if replaces in volumes and not cancelled:  # a cancelled letter was left out
                volumes.add(_name(facts.get("volume")))
                add(LetterState.RECUT, entry, facts.get("by"),
                    f"now in {_name(facts.get('volume'))}, re-cut without "
                    f"{facts.get('left_out')} cancelled letters", "recut",
                    volume=_name(facts.get("volume")),
                    left_out=_number(facts.get("left_out")))  # fmt: skip
        elif entry.event == LogEvent.RELEASED:
            name = _name(facts.get("volume"))
            if name in volumes or name in reprints:
                add(
                    LetterState.RELEASED,
                    entry,
                    facts.get("by"),
                    f"{name} to the print shop",
                    "released",
                    volume=name,
                )
        elif entry.event == LogEvent.CANCELLED:
            again = " (its stage is decided again)" if facts.get("decide_again") else ""
            add(LetterState.CANCELLED, entry, facts.get("by"),
                f"{facts.get('note', '')}{again}",
                "cancelled_decide_again" if again else "cancelled",
                note=str(facts.get("note", "")))  # fmt: skip
        elif entry.event == LogEvent.REPRINTED:
            reprints.add(_name(facts.get("volume")))
            waits = " (held for an approver)" if facts.get("release") == "approval" else ""
            add(LetterState.REPRINTED, entry, facts.get("by"),
                f"as {entry.reference} in {_name(facts.get('volume'))}{waits}: "
                f"{facts.get('note', '')}", "reprinted_held" if waits else "reprinted",
                reprint=entry.reference or "", volume=_name(facts.get("volume")),
                note=str(facts.get("note", "")))  # fmt: skip
        elif entry.event == LogEvent.RETURNED:
            add(LetterState.RETURNED, entry, facts.get("by"),
                f"{entry.reference} came back on {facts.get('returned_on')} "
                f"({facts.get('return_reason')})", "returned",
                reference=entry.reference or "", returned_on=str(facts.get("returned_on") or ""),
                reason=str(facts.get("return_reason") or ""))  # fmt: skip
    return LetterLife(
        reference, letter.municipality_nis, letter.document_kind, letter.document_number,
        letter.stage, tuple(events),
    )  # fmt: skip
