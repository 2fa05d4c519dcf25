"""A letter printed again (issue 21): lost in the post, or damaged. The same letter, with the
same texts and its original date, into a reprint volume of its own; its reference gets a
visible suffix (``-R1``, ``-R2``, ...), and the log gets a `reprinted` entry pointing to the
original.

Made from the registry as it is now, like a letter at print time: a holder who died or left
since gets no reprint, and an address that changed is the new one (the entry says so). The
templates must still be those the letter was printed with, or it would not be the same letter.
With `release = "approval"` the reprint volume is held, and released by an approver other
than who asked for it (four eyes); otherwise it goes to the print shop at once.

Steps, as for a release: the volume is rendered and staged, then recorded and logged in one
uow, then renamed and delivered. Stopped in between, nothing of it was kept (staged
files are rendered again by the next reprint) or it is delivered by the next `release`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reminders.domain.dispatch_log import LogEvent, NewEntry, log_timestamp
from reminders.domain.letter_language import language_label
from reminders.domain.letter_reference import parsed_reference, reprint_reference
from reminders.domain.letters import address_sha256
from reminders.domain.print_records import StoredVolume
from reminders.domain.release import ReleaseMode, VolumeState, checked_note
from reminders.domain.volume_job import VolumeJob
from reminders.errors import Reason, ReasonCode
from reminders.services.after_print import (
    Actor,
    AfterPrint,
    AfterPrintRefusedError,
    letters_again,
    published,
    sealed,
)
from reminders.services.ports import UnitOfWork
from reminders.services.run_control import RunControl

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reprinted:
    reference: str  # the reprint's, with its suffix
    original: str
    volume: StoredVolume
    address_changed: bool  # printed to the registry's new address


def reprint_letter(
    reference: str,
    actor: Actor,
    note: str,
    after: AfterPrint,
    uow: UnitOfWork,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> Reprinted:
    """Print the letter with ``reference`` again into a reprint volume of its own."""
    note = checked_note(note)
    parsed = parsed_reference(reference)
    if parsed is None:
        raise AfterPrintRefusedError(
            f"--letter: {reference!r} is not a letter's reference",
            reason=Reason(ReasonCode.NOT_A_REFERENCE, {"reference": reference}),
        )
    original = parsed.original
    with uow:
        volumes = uow.after_print
        letter = volumes.letter(original)
        if letter is None:
            raise AfterPrintRefusedError(
                f"no printed letter has reference {original}",
                reason=Reason(ReasonCode.NO_SUCH_LETTER, {"reference": original}),
            )
        if letter.letter.cancelled:
            raise AfterPrintRefusedError(
                f"letter {original} was cancelled: it never went out",
                reason=Reason(ReasonCode.LETTER_CANCELLED_NOT_SENT, {"reference": original}),
            )
        if letter.volume.state not in (VolumeState.AUTO, VolumeState.RELEASED):
            raise AfterPrintRefusedError(
                f"letter {original} is in {letter.volume.file_name}, which has not gone to the "
                "print shop yet: release it (or cancel the letter) instead",
                reason=Reason(
                    ReasonCode.LETTER_NOT_RELEASED,
                    {"reference": original, "file": letter.volume.file_name},
                ),
            )
        municipality = after.municipality(letter.municipality_nis)
        number = volumes.next_reprint_number(original)
        new_reference = reprint_reference(original, number)
        (again,) = letters_again(
            uow, after, municipality, [letter.letter], run_id=letter.volume.run_id,
            letter_date=letter.volume.run_as_of, references={original: new_reference},
        )  # fmt: skip
    if again.problem is not None or again.to_print is None:
        raise AfterPrintRefusedError(
            f"no reprint: {again.problem}",
            reason=Reason(ReasonCode.NO_REPRINT_NOW, {"reference": original}),
        )
    volume = letter.volume
    job = VolumeJob(
        run_id=volume.run_id,
        as_of=volume.run_as_of,
        municipality=municipality,
        language=None,
        sequence=number,
        print_options=after.printing.print_options,
        letters=(again.to_print,),
        file_stem=f"reprint-{new_reference}",
    )
    rendered = after.render(job)
    written = after.printing.shop.stage(job, rendered)
    control.reached("reprint:staged")
    held = municipality.release is ReleaseMode.APPROVAL
    (placed,) = written.letters
    with uow:
        volumes = uow.after_print
        volume_id = volumes.record_volume(
            run_id=volume.run_id,
            municipality_nis=volume.municipality_nis,
            language=None,
            sequence=number,
            path=str(written.path),
            sha256=written.sha256,
            letters=1,
            pages=written.pages,
            written_at=now(),
            state=VolumeState.HELD if held else VolumeState.AUTO,
            kind="reprint",
            requested_by=actor.label,
        )
        address = address_sha256(again.to_print.spec.address_lines)
        volumes.record_reprint(
            reference=new_reference,
            original=original,
            number=number,
            decision_id=letter.letter.decision_id,
            volume_id=volume_id,
            first_page=placed.first_page,
            page_count=placed.page_count,
            template_sha256=placed.template_sha256,
            address_sha256=address,
            requested_by=actor.label,
            note=note,
            at=now(),
        )
        entry = NewEntry(
            volume.run_id,
            LogEvent.REPRINTED,
            log_timestamp(now()),
            {
                "original": original,
                "volume": str(written.path),
                "sha256": written.sha256,
                "page": placed.first_page,
                "pages": placed.page_count,
                "templates": placed.templates,
                "template_sha256": placed.template_sha256,
                "address_sha256": address,
                "address_changed": again.address_changed,
                "release": (ReleaseMode.APPROVAL if held else ReleaseMode.AUTO).value,
                "by": actor.label,
                "note": note,
            },
            document_kind=letter.letter.document_kind,
            document_number=letter.letter.document_number,
            stage=letter.letter.stage,
            language=language_label(again.to_print.spec.languages),
            reference=new_reference,
            holder=letter.national_number,
        )
        sealed(uow, after.printing, volume.municipality_nis, [entry], now=now)
        control.reached("reprint:appended")
        recorded = volumes.volume(volume_id)
    control.reached("reprint:committed")
    assert recorded is not None  # noqa: S101 - just recorded
    # The log first (issue 20): the reprint's reference is in the published log before the
    # reprint can reach the print shop.
    published(after, uow, volume.municipality_nis, control=control)
    after.printing.shop.publish_volume(recorded.path)
    if not held:
        after.printing.shop.deliver(recorded.path)
        with uow:
            uow.after_print.mark_delivered(volume_id, now())
    log.info("letter %s reprinted as %s", original, new_reference)
    return Reprinted(new_reference, original, recorded, again.address_changed)
