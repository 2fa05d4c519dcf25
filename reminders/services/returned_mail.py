"""Returned mail (issue 21): the references scanned from envelopes bpost brought back, with
the day and bpost's reason, read into the dispatch log and the database.

Each accepted line is a `returned` entry (who read the list, when, the reference, the day
and the reason) and a returned letter the console lists for an address check. While the
registry still holds the address the letter came back from, the holder gets no further
letter there: the nightly decision skips them with `returned_mail` until an import changes
the address. A line that cannot be taken (not a reference, a bad date or reason, a letter
nobody printed, one already returned, one of another municipality) is reported with its
line number and kept with why: nothing is lost. The whole list is one uow, sealed
with one checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reminders.domain.dispatch_log import LogEvent, NewEntry, log_timestamp
from reminders.domain.letter_reference import parsed_reference
from reminders.domain.letters import (
    LetterFacts,
    address_block,
    address_sha256,
    recipient_lines,
    writes_to_parents,
)
from reminders.domain.print_records import StoredLetter
from reminders.domain.registry_rows import parse_registry_date
from reminders.domain.returned_mail import address_key, parsed_return_reason, return_reasons
from reminders.services.after_print import AfterPrint, published, sealed
from reminders.services.ports import RawRegistryRow, UnitOfWork
from reminders.services.run_control import RunControl

log = logging.getLogger(__name__)
RETURNS_COLUMNS = ("reference", "returned_on", "reason")


@dataclass(frozen=True, slots=True)
class ReturnProblem:
    """A line of the list that was not taken, and why."""

    line: int
    reference: str
    problem: str


@dataclass(slots=True)
class ReturnsReport:
    """What reading a list of returns did."""

    file_name: str
    municipality_nis: str
    lines_read: int = 0
    accepted: list[str] = field(default_factory=list)  # references, in the file's order
    still_at_address: int = 0  # holders the registry still has at the returned address
    problems: list[ReturnProblem] = field(default_factory=list)


def import_returns(
    rows: Iterable[RawRegistryRow],
    *,
    file_name: str,
    file_sha256: Callable[[], str],
    municipality_nis: str,
    by: str,
    after: AfterPrint,
    uow: UnitOfWork,
    now: Callable[[], datetime],
) -> ReturnsReport:
    """Read a list of returned references for one municipality (see the module's doc)."""
    report = ReturnsReport(file_name, municipality_nis)
    after.municipality(municipality_nis)  # configured, or a clear error
    with uow:
        volumes = uow.after_print
        import_id = volumes.start_returns_import(municipality_nis, file_name, "", by, now())
        seen: dict[str, int] = {}
        entries: list[NewEntry] = []
        stamp = log_timestamp(now())
        for row in rows:
            report.lines_read += 1
            reference_text = row.fields[0].strip() if row.fields else ""
            problem = row.problem or _taken(
                uow, after, row, report, seen, entries, import_id, by, stamp, now
            )
            if problem is not None:
                report.problems.append(ReturnProblem(row.line, reference_text, problem))
                volumes.reject_return(import_id, row.line, reference_text, problem, row.text)
        volumes.finish_returns_import(
            import_id,
            lines_read=report.lines_read,
            accepted=len(report.accepted),
            rejected=len(report.problems),
            file_sha256=file_sha256(),  # known once the list was read to the end
        )
        if entries:
            sealed(uow, after.printing, municipality_nis, entries, now=now)
    if entries:  # the log outside the database holds them too (issue 20)
        published(after, uow, municipality_nis, control=RunControl())
    log.info(
        "returns of %s: %d lines, %d accepted, %d not taken",
        municipality_nis, report.lines_read, len(report.accepted), len(report.problems),
    )  # fmt: skip
    return report


def _taken(
    uow: UnitOfWork,
    after: AfterPrint,
    row: RawRegistryRow,
    report: ReturnsReport,
    seen: dict[str, int],
    entries: list[NewEntry],
    import_id: int,
    by: str,
    stamp: str,
    now: Callable[[], datetime],
) -> str | None:
    """Take one line; returns why it cannot be taken, or None."""
    reference_text, day_text, reason_text = (value.strip() for value in row.fields)
    parsed = parsed_reference(reference_text)
    if parsed is None:
        return (
            f"reference: {reference_text!r} is not a letter's reference (like 44021-000012-000003)"
        )
    returned_on = parse_registry_date(day_text)
    if returned_on is None:
        return f"returned_on: expected a date like 2026-12-01 or 01/12/2026, got {day_text!r}"
    reason = parsed_return_reason(reason_text)
    if reason is None:
        return f"reason: expected one of {return_reasons()}, got {reason_text!r}"
    volumes = uow.after_print
    letter = volumes.letter(parsed.original)
    printed_address = letter.letter.address_sha256 if letter else None
    if letter is not None and parsed.reprint:
        reprint = volumes.reprint(parsed.text)
        printed_address = reprint.address_sha256 if reprint else None
        if reprint is None:
            letter = None
    if letter is None or printed_address is None:
        return f"reference {parsed.text}: no letter with this reference was printed (unknown)"
    if letter.municipality_nis != report.municipality_nis:
        return (
            f"reference {parsed.text}: a letter of municipality {letter.municipality_nis}, "
            f"not of {report.municipality_nis}"
        )
    if parsed.text in seen:
        return f"reference {parsed.text}: already returned (line {seen[parsed.text]} above)"
    earlier = volumes.returned_on(parsed.text)
    if earlier is not None:
        return f"reference {parsed.text}: already returned (on {earlier})"
    if letter.letter.cancelled and not parsed.reprint:
        return f"reference {parsed.text}: the letter was cancelled before it went out"
    if returned_on < letter.volume.run_as_of:
        return (
            f"returned_on: {returned_on} is before the letter was printed (night of "
            f"{letter.volume.run_as_of})"
        )
    (facts,) = uow.letters.letter_facts([letter.letter.decision_id])
    key = _returned_address(facts, letter, printed_address, after)
    seen[parsed.text] = row.line
    volumes.record_returned(
        reference=parsed.text,
        original=parsed.original,
        municipality_nis=letter.municipality_nis,
        decision_id=letter.letter.decision_id,
        person_id=letter.person_id,
        returned_on=returned_on,
        reason=reason.value,
        address_key=key,
        import_id=import_id,
        at=now(),
    )
    entries.append(
        NewEntry(
            letter.volume.run_id,
            LogEvent.RETURNED,
            stamp,
            {
                "original": parsed.original,
                "returned_on": returned_on.isoformat(),
                "return_reason": reason.value,
                # whether the registry still held the address it came back from: then no
                # further letter goes there until an import changes it (`returned_mail`)
                "still_at_address": key is not None,
                "by": by,
                "import_id": import_id,
            },
            document_kind=letter.letter.document_kind,
            document_number=letter.letter.document_number,
            stage=letter.letter.stage,
            reference=parsed.text,
            holder=letter.national_number,
        )
    )
    report.accepted.append(parsed.text)
    report.still_at_address += key is not None
    return None


def _returned_address(
    facts: LetterFacts, letter: StoredLetter, printed_address: str, after: AfterPrint
) -> str | None:
    """The key of the registry address the letter came back from, when the registry still
    holds it (the address block it would print today is the one printed); None when the
    registry already has another address, or none."""
    address = facts.address
    if address is None:
        return None
    # A cancelled decision keeps no language (only a reprint of it can come back): then the
    # municipality's first.
    language = (
        facts.languages[0]
        if facts.languages
        else after.municipality(letter.municipality_nis).languages[0]
    )
    to_parents = writes_to_parents(facts.document.kind, facts.born_on, letter.volume.run_as_of)
    names = recipient_lines(facts.given_names, facts.family_name, language, to_parents=to_parents)
    country = (
        after.printing.texts.country_name(address.country, language) if address.is_foreign else None
    )
    block = address_block(names, address, language, country_name=country)
    if address_sha256(block) != printed_address:
        return None
    return address_key(
        address.street, address.house_number, address.box, address.postal_code,
        address.locality, address.country,
    )  # fmt: skip
