"""A run after its decisions: printed, sealed into the dispatch log, published. Each step
commits on its own and records that it is done, so a run stopped at any moment (a kill, a
power cut, a full disk, SIGTERM) is completed from the step it reached by the next start,
under the same run id (services/nightly_run.py resumes it).

    decided ──print──▶ printed ──seal──▶ sealed ──publish──▶ published (succeeded)

- print: one transaction per volume; staged files of a volume never recorded are deleted
  when printing resumes, and letters already in a recorded volume are not printed again;
- seal: one transaction for the whole log of every municipality of the run;
- publish: each municipality's log is published in the output folder first (tiles, then its
  checkpoint: services/publish_log.py); then renaming the staged files is idempotent; the
  checkpoint files are written from the database; the volumes released with their run
  (`release = "auto"`) are copied to the print shop's pick-up folder, when it has one of its
  own (again idempotent); only then is the run recorded as succeeded. Volumes held for
  approval stay in the output folder.
So every letter ends up in exactly one recorded volume, logged once, and no volume reaches
its final name, nor the print shop, before its letters are in the signed log, published
outside the database.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from reminders.domain.campaign import Campaign
from reminders.domain.checkpoint import KeyRing, parsed_checkpoint
from reminders.domain.letters import LetterMunicipality
from reminders.domain.model import DocumentKind
from reminders.domain.policy import ReminderPolicy
from reminders.domain.release import VolumeState
from reminders.errors import UsageError
from reminders.services.email_letters import Emailing, send_emails, with_emails
from reminders.services.ports import (
    CheckpointSigner,
    LetterTexts,
    PrintShop,
    PublishedLogs,
    Rendering,
    StoredRun,
    UnitOfWork,
)
from reminders.services.print_letters import PrintRequest, print_letters
from reminders.services.publish_log import publish_logs
from reminders.services.run_control import RunControl
from reminders.services.run_summary import MunicipalityOutcome, RunSummary
from reminders.services.seal_log import SealedLog, seal_run

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Printing:
    """How a run prints its letters; a run without it (tests, benchmarks) only decides."""

    municipalities: Sequence[LetterMunicipality]  # every municipality the run may cover
    texts: LetterTexts
    shop: PrintShop
    rendering: Rendering  # where volumes render: this process, worker processes, a queue
    signer: CheckpointSigner  # seals the run into the dispatch log
    logs: PublishedLogs  # where the logs are published (the output folder)
    keys: KeyRing  # checks the published checkpoints (every key that signs them)
    split_by_language: bool = False
    volume_max_letters: int = 1000
    print_options: str = ""  # what every renderer must print with (VolumeJob.print_options)
    duplex: bool = False  # every letter starts on a recto (a re-cut's log entry says so)
    # Issue 25: how letters go by e-mail where a municipality offers it; None: all on paper
    emailing: Emailing | None = None


def complete_run(
    run: StoredRun,
    policies: Mapping[DocumentKind, ReminderPolicy],
    uow: UnitOfWork,
    printing: Printing,
    *,
    now: Callable[[], datetime],
    control: RunControl,
    campaigns: Sequence[Campaign] = (),
) -> RunSummary:
    """Take a run whose decisions are committed through its remaining steps."""
    step = run.step
    configured = {m.nis_code for m in printing.municipalities}
    if missing := sorted(set(run.municipalities) - configured):
        raise UsageError(
            f"run {run.run_id} covers {', '.join(missing)}, which config.toml no longer "
            "configures: add it back to finish the run's letters"
        )
    if step == "decided":
        covered = set(run.municipalities)
        if printing.emailing is not None:  # before the paper: what is e-mailed is not printed
            send_emails(
                run.run_id,
                run.as_of,
                [m for m in printing.municipalities if m.nis_code in covered],
                policies,
                campaigns,
                printing.emailing,
                uow,
                printing.texts,
                now=now,
                control=control,
            )
        printed = print_letters(
            PrintRequest(
                run_id=run.run_id,
                as_of=run.as_of,
                municipalities=[m for m in printing.municipalities if m.nis_code in covered],
                policies=policies,
                split_by_language=printing.split_by_language,
                volume_max_letters=printing.volume_max_letters,
                print_options=printing.print_options,
                campaigns=campaigns,
            ),
            uow,
            printing.texts,
            printing.shop,
            printing.rendering,
            now=now,
            control=control,
        )
        with uow:
            uow.runs.set_step(run.run_id, "printed")
        log.info("run %s: %d letters printed", run.run_id, printed)
        step = "printed"
    if step == "printed":
        with uow:
            sealed = seal_run(
                run.run_id, run.municipalities, uow.dispatch_log, printing.signer, now=now,
                published=(printing.logs, printing.keys),
            )  # fmt: skip
            control.reached("seal:appended")
            uow.runs.set_step(run.run_id, "sealed")
        control.reached("seal:committed")
        log.info("run %s: sealed into %d logs", run.run_id, len(sealed))
    return published_run(
        run, uow, printing.shop, printing.logs, printing.keys,
        now=now, control=control, emailing=printing.emailing,
    )  # fmt: skip


def published_run(
    run: StoredRun,
    uow: UnitOfWork,
    shop: PrintShop,
    logs: PublishedLogs,
    keys: KeyRing,
    *,
    now: Callable[[], datetime],
    control: RunControl,
    emailing: Emailing | None = None,
) -> RunSummary:
    """The publish step of a sealed run, and its success recorded (also how `reminders
    recover` finishes the runs it restored)."""
    files = _published(run, uow, shop, logs, keys, control, now)
    control.reached("publish:done")
    summary = stored_summary(run, uow, files)
    if emailing is not None:
        summary = with_emails(summary, emailing)
    with uow:
        uow.runs.set_step(run.run_id, "published")
        uow.runs.finish(
            run.run_id,
            outcome="succeeded",
            finished_at=now(),
            letters=summary.letters,
            skips=sum(summary.skipped.values()),
        )
    return summary


def _published(
    run: StoredRun,
    uow: UnitOfWork,
    shop: PrintShop,
    logs: PublishedLogs,
    keys: KeyRing,
    control: RunControl,
    now: Callable[[], datetime],
) -> dict[str, Path]:
    """Publish the run's logs, then give its volumes their final names and write its
    checkpoints beside them; returns each checkpoint file per municipality. The logs go
    first: a volume the print room can see is always in a log published outside the
    database, so a restored database can always learn of it (`reminders recover`)."""
    with uow:
        volumes = uow.runs.volume_paths(run.run_id)
        checkpoints = uow.runs.checkpoints(run.run_id)
        publish_logs(run.municipalities, uow.dispatch_log, logs, keys, control)
    for path in volumes:
        shop.publish_volume(path)
        control.reached("publish:renamed")
    files = {}
    for checkpoint in checkpoints:
        size = parsed_checkpoint(checkpoint.note).checkpoint.tree_size
        files[checkpoint.municipality_nis] = shop.write_checkpoint(
            checkpoint.municipality_nis, run.run_id, run.as_of, size, checkpoint.note
        )
    delivered = 0
    for path in volumes:
        with uow:
            volume = uow.after_print.volume_at(path)
        if volume is None or volume.state is not VolumeState.AUTO or volume.delivered_at:
            continue  # held for approval, or delivered by an earlier attempt
        shop.deliver(path)
        with uow:
            uow.after_print.mark_delivered(volume.volume_id, now())
        delivered += 1
        control.reached("publish:delivered")
    log.info("run %s: %d volumes published, %d delivered", run.run_id, len(volumes), delivered)
    return files


def stored_summary(
    run: StoredRun, uow: UnitOfWork, files: Mapping[str, Path] | None = None
) -> RunSummary:
    """A recorded run's summary, from what the database holds: the same whether the run went
    through in one attempt or was resumed."""
    with uow:
        counts = uow.runs.counts(run.run_id)
        volumes = tuple(Path(path) for path in uow.runs.volume_paths(run.run_id))
        checkpoints = uow.runs.checkpoints(run.run_id)
        attempts = uow.runs.attempt_count(run.run_id)
    outcomes = {}
    for nis in run.municipalities:
        tally = counts.tally.get("municipalities", {}).get(nis, {})
        outcomes[nis] = MunicipalityOutcome(
            nis,
            decided_since={
                DocumentKind(kind): date.fromisoformat(day) if day else None
                for kind, day in tally.get("decided_since", {}).items()
            },
            letters=counts.letters.get(nis, Counter()),
            skipped=counts.skipped.get(nis, Counter()),
            looked_at=int(tally.get("looked_at", 0)),
        )
    sealed = tuple(
        SealedLog(
            checkpoint.municipality_nis,
            checkpoint.first_seq,
            parsed_checkpoint(checkpoint.note),
            (files or {}).get(checkpoint.municipality_nis),
        )
        for checkpoint in checkpoints
    )
    return RunSummary(run.run_id, run.as_of, False, outcomes, volumes, sealed, attempts)
