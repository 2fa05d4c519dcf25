"""The release gate (issue 21): held print volumes released to the print shop by an approver
who did not start their run, or letters in them cancelled.

Releasing a held volume, step by step, each step committed (or written) on its own:

    held ──(cancelled letters?) re-cut──▶ re-cut held ──release──▶ released ──deliver──▶ delivered

- re-cut: the volume is rendered again without its cancelled letters (the others exactly as
  printed: same registry facts, templates, address blocks and date, or the release stops and
  says which letters to cancel); its files are staged, then recorded with a `recut` entry in
  the log (original and re-cut, with their SHA-256), then renamed;
- release: recorded with a `released` entry (who, when, which volume and SHA-256);
- deliver: the volume's files are copied to the print shop's pick-up folder, then recorded.
Stopped anywhere, `release` again finishes it: a re-cut staged but not recorded is rendered
again, a released volume not yet delivered is delivered first. No volume reaches the pick-up
folder before its release is in the signed log.

Before a held volume is released its letters are checked against the registry again, as
printing checks them: a holder who died, moved, lost the address or renewed since, or a
template that changed, stops the release until someone cancels those letters.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from reminders.domain.dispatch_log import LogEvent, NewEntry, log_timestamp
from reminders.domain.letter_reference import parsed_reference
from reminders.domain.print_records import StoredLetter, StoredVolume
from reminders.domain.release import VolumeState, checked_note, four_eyes_refusal
from reminders.domain.volume_job import VolumeJob
from reminders.errors import Reason, ReasonCode
from reminders.services.after_print import (
    Actor,
    AfterPrint,
    AfterPrintRefusedError,
    LetterAgain,
    LettersNeedDecisionError,
    letters_again,
    published,
    sealed,
)
from reminders.services.ports import UnitOfWork
from reminders.services.run_control import RunControl

log = logging.getLogger(__name__)
_RECUT = re.compile(r"^(?P<stem>.+?)(?:-recut(?P<n>\d+))?$")


@dataclass(frozen=True, slots=True)
class Released:
    """A volume released (now, or before: ``already``), and where the print shop finds it."""

    volume: StoredVolume
    recut_from: StoredVolume | None  # the held volume it replaced, when re-cut without
    already: bool = False


def _starter(volume: StoredVolume) -> str | None:
    """Who a volume's release must not be approved by: who asked for a reprint, or who
    started the run."""
    return volume.requested_by if volume.kind == "reprint" else volume.run_started_by


def _refuse_own(volume: StoredVolume, actor: Actor, what: str) -> None:
    refusal = four_eyes_refusal(_starter(volume), actor.name)
    if refusal is not None:
        reprint = volume.kind == "reprint"
        started = "asked for this reprint" if reprint else "started its run"
        code = ReasonCode.FOUR_EYES_REPRINT if reprint else ReasonCode.FOUR_EYES_RUN
        raise AfterPrintRefusedError(
            f"{actor.name} {started} (run {volume.run_id}, {volume.file_name}): another "
            f"approver must {what} it (four eyes)",
            reason=Reason(
                code, {"user": actor.name, "file": volume.file_name, "run": volume.run_id}
            ),
        )


def deliver_pending(
    after: AfterPrint,
    uow: UnitOfWork,
    *,
    municipality_nis: str | None,
    now: Callable[[], datetime],
    control: RunControl,
) -> list[StoredVolume]:
    """Copy released volumes that have not reached the pick-up folder yet (a release or run
    stopped after its release was recorded) there now; returns them."""
    with uow:
        pending = uow.after_print.undelivered(municipality_nis)
    for volume in pending:
        _deliver(after, uow, volume, now=now, control=control)
    return pending


def _deliver(
    after: AfterPrint,
    uow: UnitOfWork,
    volume: StoredVolume,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> None:
    shop = after.printing.shop
    # The log first (issue 20): what reaches the print shop is in the published log.
    published(after, uow, volume.municipality_nis, control=control)
    shop.publish_volume(volume.path)  # a re-cut or reprint stopped before its rename
    shop.deliver(volume.path)
    control.reached("release:delivered")
    with uow:
        uow.after_print.mark_delivered(volume.volume_id, now())
    log.info("volume %s of run %s delivered to the print shop", volume.volume_id, volume.run_id)


def release_volume(
    volume_id: int,
    actor: Actor,
    after: AfterPrint,
    uow: UnitOfWork,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> Released:
    """Release a held volume (re-cut first when letters in it were cancelled) and deliver it
    to the print shop; a volume released before is delivered if it was not yet."""
    with uow:
        volume, replaced = _current(uow, volume_id)
    deliver_pending(after, uow, municipality_nis=volume.municipality_nis, now=now, control=control)
    if volume.state in (VolumeState.RELEASED, VolumeState.AUTO):
        return Released(volume, replaced, already=True)
    if volume.state is VolumeState.CANCELLED:
        raise AfterPrintRefusedError(
            f"volume {volume.volume_id} ({volume.file_name}) was cancelled: nothing to release",
            reason=Reason(ReasonCode.VOLUME_CANCELLED, {"file": volume.file_name}),
        )
    _refuse_own(volume, actor, "release")
    municipality = after.municipality(volume.municipality_nis)
    with uow:
        printed = uow.after_print.volume_letters(volume.volume_id)
        kept = [letter for letter in printed if not letter.cancelled]
        again = letters_again(
            uow, after, municipality, kept, run_id=volume.run_id, letter_date=volume.run_as_of
        )
    problems = [letter.problem for letter in again if letter.problem]
    problems += [
        f"{letter.printed.reference}: the holder's address changed since it was printed"
        for letter in again
        if letter.problem is None and letter.address_changed
    ]
    if problems:
        listed = "\n  ".join(problems)
        raise LettersNeedDecisionError(
            f"volume {volume.volume_id} ({volume.file_name}) cannot go out as printed:\n  "
            f"{listed}\nCancel these letters (reminders cancel --letter REFERENCE --reason ...; "
            "--decide-again to decide their stage anew) and release it again",
            reason=Reason(
                ReasonCode.LETTERS_NEED_DECISION,
                {
                    "file": volume.file_name,
                    "letters": ", ".join(
                        letter.printed.reference
                        for letter in again
                        if letter.problem or letter.address_changed
                    ),
                },
            ),
        )
    if len(kept) < len(printed):
        replaced = volume
        volume = _recut(volume, again, printed_count=len(printed), actor=actor, after=after,
                        uow=uow, now=now, control=control)  # fmt: skip
    with uow:
        uow.after_print.set_state(
            volume.volume_id, VolumeState.RELEASED, released_by=actor.label, released_at=now()
        )
        entry = NewEntry(
            volume.run_id,
            LogEvent.RELEASED,
            log_timestamp(now()),
            {
                "volume": volume.path,
                "sha256": volume.sha256,
                "letters": volume.letters,
                "pages": volume.pages,
                "kind": volume.kind,
                "by": actor.label,
                "started_by": _starter(volume),
            },
        )
        sealed(uow, after.printing, volume.municipality_nis, [entry], now=now)
        control.reached("release:appended")
        released = uow.after_print.volume(volume.volume_id)
    control.reached("release:committed")
    assert released is not None  # noqa: S101 - just updated
    log.info("volume %s of run %s released", volume.volume_id, volume.run_id)
    _deliver(after, uow, released, now=now, control=control)
    return Released(released, replaced)


def _current(uow: UnitOfWork, volume_id: int) -> tuple[StoredVolume, StoredVolume | None]:
    """The volume, or the re-cut that replaced it (and the one it replaced)."""
    volumes = uow.after_print
    volume = volumes.volume(volume_id)
    if volume is None:
        raise AfterPrintRefusedError(
            f"there is no print volume {volume_id}",
            reason=Reason(ReasonCode.NO_SUCH_VOLUME, {"volume": volume_id}),
        )
    if volume.run_outcome != "succeeded":
        raise AfterPrintRefusedError(
            f"volume {volume_id} belongs to run {volume.run_id}, which has not finished: "
            "its volumes are released once it is sealed",
            reason=Reason(
                ReasonCode.VOLUME_NOT_FINISHED, {"volume": volume_id, "run": volume.run_id}
            ),
        )
    replaced = None
    while volume.state is VolumeState.REPLACED:
        successor = volumes.successor(volume.volume_id)
        if successor is None:
            break
        replaced, volume = volume, successor
    return volume, replaced


def _recut(
    volume: StoredVolume,
    again: Sequence[LetterAgain],  # the letters kept, in page order
    *,
    printed_count: int,
    actor: Actor,
    after: AfterPrint,
    uow: UnitOfWork,
    now: Callable[[], datetime],
    control: RunControl,
) -> StoredVolume:
    """The volume rendered again without its cancelled letters, staged, recorded and logged
    with the volume it replaces, then renamed into place (still held)."""
    match = _RECUT.match(volume.file_name.removesuffix(".pdf"))
    assert match is not None  # noqa: S101 - the pattern matches any name
    number = int(match["n"] or 0) + 1
    municipality = after.municipality(volume.municipality_nis)
    job = VolumeJob(
        run_id=volume.run_id,
        as_of=volume.run_as_of,
        municipality=municipality,
        language=volume.language,
        sequence=volume.sequence,
        print_options=after.printing.print_options,
        letters=tuple(letter.to_print for letter in again if letter.to_print is not None),
        file_stem=f"{match['stem']}-recut{number}",
    )
    rendered = after.render(job)
    written = after.printing.shop.stage(job, rendered)
    control.reached("release:recut-staged")
    with uow:
        volumes = uow.after_print
        printed = volumes.volume_letters(volume.volume_id)
        recut_id = volumes.record_volume(
            run_id=volume.run_id,
            municipality_nis=volume.municipality_nis,
            language=volume.language,
            sequence=volume.sequence,
            path=str(written.path),
            sha256=written.sha256,
            letters=len(written.letters),
            pages=written.pages,
            written_at=now(),
            state=VolumeState.HELD,
            kind="recut",
            replaces_id=volume.volume_id,
        )
        volumes.move_letters(
            recut_id, [(x.decision_id, x.first_page, x.page_count) for x in written.letters]
        )
        volumes.set_state(volume.volume_id, VolumeState.REPLACED)
        left_out = sum(letter.cancelled for letter in printed)
        entry = NewEntry(
            volume.run_id,
            LogEvent.RECUT,
            log_timestamp(now()),
            {
                "volume": str(written.path),
                "sha256": written.sha256,
                "letters": len(written.letters),
                "pages": written.pages,
                "sequence": volume.sequence,
                "language": volume.language,
                "replaces": {
                    "volume": volume.path,
                    "sha256": volume.sha256,
                    "letters": printed_count,
                },
                # The letters left out are those whose `cancelled` entries name the replaced
                # volume (no list here: an entry stays small however large the volume). Where
                # each letter is now follows from the letters' logged page counts, in the
                # volume's order: after the cover sheet, and with a blank back after an odd
                # count when duplex.
                "left_out": left_out,
                "cover_pages": written.letters[0].first_page - 1,
                "duplex": after.printing.duplex,
                "by": actor.label,
            },
        )
        sealed(uow, after.printing, volume.municipality_nis, [entry], now=now)
        control.reached("release:recut-appended")
        recut = volumes.volume(recut_id)
    control.reached("release:recut-committed")
    after.printing.shop.publish_volume(str(written.path))
    assert recut is not None  # noqa: S101 - just recorded
    log.info("volume %s re-cut as %s without %d letters", volume.volume_id, recut_id, left_out)
    return recut


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Letters cancelled: their references, and the volume they were in."""

    references: tuple[str, ...]
    volume: StoredVolume
    volume_cancelled: bool  # no letter of the volume is left to print


def cancel_letter(
    reference: str,
    actor: Actor,
    note: str,
    after: AfterPrint,
    uow: UnitOfWork,
    *,
    decide_again: bool,
    now: Callable[[], datetime],
    control: RunControl,
) -> Cancelled:
    """Stop one letter of a held volume: its stage is recorded as skipped `cancelled` (final
    unless ``decide_again``), logged with who, when and why. The volume is re-cut without it
    when it is released."""
    note = checked_note(note)
    parsed = parsed_reference(reference)
    if parsed is None:
        raise AfterPrintRefusedError(
            f"--letter: {reference!r} is not a letter's reference",
            reason=Reason(ReasonCode.NOT_A_REFERENCE, {"reference": reference}),
        )
    if parsed.reprint:
        return _cancel_reprint(parsed.text, actor, note, after, uow, now=now,
                               control=control)  # fmt: skip
    with uow:
        letter = uow.after_print.letter(parsed.original)
        if letter is None:
            raise AfterPrintRefusedError(
                f"no printed letter has reference {parsed.original}",
                reason=Reason(ReasonCode.NO_SUCH_LETTER, {"reference": parsed.original}),
            )
        _check_cancellable(letter.volume, actor)
        if letter.letter.cancelled:
            raise AfterPrintRefusedError(
                f"letter {parsed.original} was cancelled already",
                reason=Reason(ReasonCode.LETTER_ALREADY_CANCELLED, {"reference": parsed.original}),
            )
        done = _cancelled(uow, after, [letter], letter.volume, actor, note, decide_again,
                          now=now, control=control)  # fmt: skip
    published(after, uow, letter.volume.municipality_nis, control=control)
    return done


def cancel_volume(
    volume_id: int,
    actor: Actor,
    note: str,
    after: AfterPrint,
    uow: UnitOfWork,
    *,
    decide_again: bool,
    now: Callable[[], datetime],
    control: RunControl,
) -> Cancelled:
    """Stop every letter of a held volume (each logged as cancelled); the volume never goes
    to the print shop."""
    note = checked_note(note)
    with uow:
        volume, _ = _current(uow, volume_id)
        _check_cancellable(volume, actor)
        volumes = uow.after_print
        letters = [
            found
            for printed in volumes.volume_letters(volume.volume_id)
            if not printed.cancelled and (found := volumes.letter(printed.reference))
        ]
        done = _cancelled(uow, after, letters, volume, actor, note, decide_again, now=now,
                          control=control)  # fmt: skip
    published(after, uow, volume.municipality_nis, control=control)
    return done


def _check_cancellable(volume: StoredVolume, actor: Actor) -> None:
    if volume.state in (VolumeState.RELEASED, VolumeState.AUTO):
        when = "with its run" if volume.state is VolumeState.AUTO else "by an approver"
        raise AfterPrintRefusedError(
            f"{volume.file_name} of run {volume.run_id} went to the print shop {when}: its "
            "letters can no longer be stopped here (ask the print shop)",
            reason=Reason(
                ReasonCode.VOLUME_GONE_TO_PRINT, {"file": volume.file_name, "run": volume.run_id}
            ),
        )
    if volume.state is VolumeState.CANCELLED:
        raise AfterPrintRefusedError(
            f"{volume.file_name} of run {volume.run_id} was cancelled",
            reason=Reason(ReasonCode.VOLUME_CANCELLED, {"file": volume.file_name}),
        )
    if volume.run_outcome != "succeeded":
        raise AfterPrintRefusedError(
            f"run {volume.run_id} has not finished yet",
            reason=Reason(ReasonCode.RUN_NOT_FINISHED, {"run": volume.run_id}),
        )
    _refuse_own(volume, actor, "cancel letters in")


def _cancelled(
    uow: UnitOfWork,
    after: AfterPrint,
    letters: list[StoredLetter],
    volume: StoredVolume,
    actor: Actor,
    note: str,
    decide_again: bool,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> Cancelled:
    volumes = uow.after_print
    stamp = log_timestamp(now())
    entries = []
    for letter in letters:
        volumes.cancel(letter, redecide=decide_again, by=actor.label, note=note, at=now())
        printed = letter.letter
        entries.append(
            NewEntry(
                volume.run_id,
                LogEvent.CANCELLED,
                stamp,
                {
                    "volume": volume.path,
                    "by": actor.label,
                    "note": note,
                    "decide_again": decide_again,  # the stage is decided anew by the next run
                    "final": not decide_again,
                },
                document_kind=printed.document_kind,
                document_number=printed.document_number,
                stage=printed.stage,
                reason="cancelled",
                reference=printed.reference,
                holder=letter.national_number,
            )
        )
    left = [
        printed for printed in volumes.volume_letters(volume.volume_id) if not printed.cancelled
    ]
    if not left:
        volumes.set_state(volume.volume_id, VolumeState.CANCELLED)
    sealed(uow, after.printing, volume.municipality_nis, entries, now=now)
    control.reached("cancel:appended")
    log.info("%d letters of volume %s cancelled", len(letters), volume.volume_id)
    return Cancelled(tuple(letter.letter.reference for letter in letters), volume, not left)


def _cancel_reprint(
    reference: str,
    actor: Actor,
    note: str,
    after: AfterPrint,
    uow: UnitOfWork,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> Cancelled:
    """A held reprint stopped: its volume is cancelled (the letter itself stays as it was)."""
    with uow:
        volumes = uow.after_print
        reprint = volumes.reprint(reference)
        if reprint is None:
            raise AfterPrintRefusedError(
                f"no reprint has reference {reference}",
                reason=Reason(ReasonCode.NO_SUCH_REPRINT, {"reference": reference}),
            )
        _check_cancellable(reprint.volume, actor)
        volumes.set_state(reprint.volume.volume_id, VolumeState.CANCELLED)
        entry = NewEntry(
            reprint.volume.run_id,
            LogEvent.CANCELLED,
            log_timestamp(now()),
            {
                "volume": reprint.volume.path,
                "by": actor.label,
                "note": note,
                "original": reprint.original,
                "reprint": True,
            },
            reference=reference,
        )
        sealed(uow, after.printing, reprint.volume.municipality_nis, [entry], now=now)
        control.reached("cancel:appended")
        return Cancelled((reference,), reprint.volume, True)
