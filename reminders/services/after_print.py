"""What the use cases after the print share (issue 21): who acts, what they work with, how a
printed letter is made again from the registry and checked against what was logged, and how
each change is sealed into the dispatch log together with the change itself.

Every change after the print (a re-cut, a release, a cancellation, a reprint, a returned
letter) is one transaction: the database's change and its log entries with a signed
checkpoint. A process stopped in the middle kept all of it or none; files are written before
(staged, hidden) and published after, so running the same command again finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from reminders.domain.campaign import Campaign
from reminders.domain.dispatch_log import NewEntry
from reminders.domain.due import SkipReason, skip_reason
from reminders.domain.letters import LetterFacts, LetterMunicipality, address_sha256
from reminders.domain.model import DocumentKind
from reminders.domain.policy import ReminderPolicy
from reminders.domain.print_records import VolumeLetter
from reminders.domain.volume_job import LetterToPrint, RenderedVolume, VolumeJob
from reminders.errors import Reason, ReasonCode, RemindersError, UsageError
from reminders.services.complete_run import Printing
from reminders.services.ports import UnitOfWork
from reminders.services.print_letters import TemplateSources, letter_rule, letter_to_print
from reminders.services.publish_log import publish_log, refuse_if_behind
from reminders.services.run_control import RunControl
from reminders.services.seal_log import SealedLog, append_and_seal


class AfterPrintRefusedError(UsageError):
    """Not this letter or volume, not now, or not by this person (exit 2)."""


class LettersNeedDecisionError(RemindersError):
    """Letters of a held volume are no longer what was printed (a death, a move, a renewal,
    changed templates): a person must cancel them first (exit 1)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A console user acting after the print, in the console or on the command line."""

    name: str
    channel: str = "console"  # "console", or "cli" (`--by NAME`, with the user's password)

    @property
    def label(self) -> str:
        """How the log and the database name them: ``console:an``, ``cli:an``."""
        return f"{self.channel}:{self.name}"


@dataclass(frozen=True, slots=True)
class AfterPrint:
    """What the use cases after the print work with: how the installation prints (templates,
    renderers, output and pick-up folders, the log's key) and what letters were decided
    under."""

    printing: Printing
    policies: Mapping[DocumentKind, ReminderPolicy]
    campaigns: Sequence[Campaign] = ()

    def municipality(self, nis: str) -> LetterMunicipality:
        for municipality in self.printing.municipalities:
            if municipality.nis_code == nis:
                return municipality
        raise AfterPrintRefusedError(
            f"municipality {nis} is not configured in config.toml: add it back first",
            reason=Reason(ReasonCode.MUNICIPALITY_NOT_CONFIGURED, {"municipality": nis}),
        )

    def render(self, job: VolumeJob) -> RenderedVolume:
        """One volume made after its run, rendered as the run renders (same renderers)."""
        with self.printing.rendering.open(1, len(job.letters)) as pool:
            return pool.submit(job).result()


def sealed(
    uow: UnitOfWork,
    printing: Printing,
    municipality_nis: str,
    entries: Sequence[NewEntry],
    *,
    now: Callable[[], datetime],
) -> SealedLog:
    """Append ``entries`` to the municipality's log and sign a checkpoint, in the caller's
    transaction (with the change they record). Refused (exit 1, the transaction rolls back)
    when the database's log is behind its published log: a database restored from a backup
    would hand out reprint references, and make changes, that the published log already
    knows otherwise (`reminders recover` first)."""
    refuse_if_behind([municipality_nis], uow.dispatch_log, printing.logs, printing.keys)
    return append_and_seal(
        municipality_nis, [list(entries)], uow.dispatch_log, printing.signer, now=now
    )


def published(
    after: AfterPrint,
    uow: UnitOfWork,
    municipality_nis: str,
    *,
    control: RunControl,
) -> None:
    """The municipality's log published in the output folder with what was just sealed
    (issue 20): before a volume goes to the print shop, as a run does, so that whatever the
    print shop can have is in a log kept outside the database."""
    with uow:
        publish_log(
            municipality_nis,
            uow.dispatch_log,
            after.printing.logs.log(municipality_nis),
            after.printing.keys,
            control,
        )


@dataclass(frozen=True, slots=True)
class LetterAgain:
    """A printed letter made again from today's registry: what would be printed now, and
    what (if anything) differs from what was printed and logged."""

    printed: VolumeLetter
    to_print: LetterToPrint | None
    problem: str | None  # why it cannot be printed as it was; None: it can
    facts: LetterFacts | None = None

    @property
    def address_changed(self) -> bool:
        return self.to_print is not None and (
            address_sha256(self.to_print.spec.address_lines) != self.printed.address_sha256
        )


def letters_again(
    uow: UnitOfWork,
    after: AfterPrint,
    municipality: LetterMunicipality,
    printed: Sequence[VolumeLetter],
    *,
    run_id: int,
    letter_date: date,
    references: Mapping[str, str] | None = None,
) -> list[LetterAgain]:
    """Each printed letter rebuilt from the registry as it is now, with the original's date
    and reference (or the one ``references`` maps it to), and checked: the holder may still
    get it (the re-check of printing: a death, a move, a renewal since), its address block
    and its templates are those the log holds."""
    if not printed:
        return []
    letters = uow.letters
    facts = letters.letter_facts([letter.decision_id for letter in printed])
    templates = TemplateSources(after.printing.texts)
    again = []
    for letter, fact in zip(printed, facts, strict=True):
        reason: SkipReason | None = skip_reason(fact.document, municipality)
        if reason is None and fact.address is None:
            reason = SkipReason.NO_ADDRESS
        if reason is not None:
            stopped = f"{letter.reference}: {reason} since it was printed"
            again.append(LetterAgain(letter, None, stopped, fact))
            continue
        rule = letter_rule(fact, after.policies, after.campaigns, run_id=run_id)
        reference = (references or {}).get(letter.reference, letter.reference)
        to_print = letter_to_print(
            fact,
            rule,
            reference=reference,
            municipality=municipality,
            letter_date=letter_date,
            templates=templates,
        )
        problem: str | None = None
        if to_print.template_sha256 != letter.template_sha256:
            problem = (
                f"{letter.reference}: its templates ({to_print.templates}) are not the ones "
                "it was printed with"
            )
        again.append(LetterAgain(letter, to_print, problem, fact))
    return again
