"""The nightly run (interfaces.md §3, §4): for a date, every (document, stage) that gets a
letter or a skip, recorded so that nothing is ever decided twice, then the letters printed,
sealed into the dispatch log and published (services/complete_run.py).

A run is a series of steps, each committed on its own (decide, print, seal, publish), not one
long transaction. The decide step commits every decision of the night at once, so a run
stopped before it kept nothing and the next run simply decides again; a run stopped after it
is resumed, under its own id and date, before anything new is decided for its municipalities.
`run_night` does that under a lock per municipality: one run at a time, whichever machine
or scheduler starts it. A dry run goes the same way and writes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal, Protocol

from reminders.domain.campaign import Campaign
from reminders.domain.due import (
    Decision,
    DocumentFacts,
    LetterJurisdiction,
    StagesOn,
    decide_on,
    stages_on,
)
from reminders.domain.letter_language import language_label
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.domain.scan_window import ScanWatermark, expiry_windows
from reminders.errors import MunicipalityBusyError as MunicipalityBusyError  # raised by locks
from reminders.errors import Reason, ReasonCode, RemindersError
from reminders.services.campaign_wave import campaign_waves
from reminders.services.complete_run import Printing, complete_run
from reminders.services.ports import StoredRun, UnitOfWork
from reminders.services.publish_log import refuse_if_behind
from reminders.services.run_control import RunControl, StopRequestedError
from reminders.services.run_summary import MunicipalityOutcome, RunSummary

log = logging.getLogger(__name__)


class RunFailedError(RemindersError):
    """The run started but could not finish; it is recorded as failed (exit 1)."""

    def __init__(self, run_id: int | None, failure: str, *, resumable: bool = False) -> None:
        run = f"run {run_id}" if run_id is not None else "the dry run"
        if run_id is None:
            what_now = ""
        elif resumable:
            what_now = (
                " and is recorded as failed; its decisions are kept and the next run or "
                "scheduler start resumes it from where it stopped"
            )
        else:
            what_now = (
                " and is recorded as failed; none of its decisions was kept, so it can "
                "simply be run again"
            )
        super().__init__(f"{run} failed ({failure[:200]}){what_now}")
        self.run_id, self.failure, self.resumable = run_id, failure, resumable


class RunInterruptedError(RunFailedError):
    """The run was asked to stop (SIGTERM, SIGINT) and stopped at a safe point."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to decide: for which date and municipalities, under which policies."""

    as_of: date
    municipalities: Sequence[LetterJurisdiction]
    policies: Mapping[DocumentKind, ReminderPolicy]
    dry_run: bool = False
    campaigns: Sequence[Campaign] = ()  # decided after the reminders, in this order
    started_by: str = "cli"
    worker: str = ""  # host:pid of the process running it
    config_sha256: str = ""
    code_version: str = ""


@dataclass(frozen=True, slots=True)
class NightOutcome:
    """What `run_night` did: ran (or completed) the night, or found it already done."""

    status: Literal["ran", "already_done"]
    summary: RunSummary | None  # the night's run; None when already done
    resumed: tuple[int, ...] = ()  # unfinished runs completed first


# Shown each night's decisions as they are made (municipality, kind, decisions): how the
# console lists a dry run's letters and skips without a second copy of the rule.
DecisionListing = Callable[[str, DocumentKind, Sequence[Decision]], None]


class MunicipalityLocks(Protocol):
    """Holds the run lock of each municipality named, for the duration of the block; raises
    MunicipalityBusyError when one stays held by another run (adapters/db/run_lock.py)."""

    def __call__(self, nis_codes: Collection[str]) -> AbstractContextManager[None]: ...


def run_night(
    request: RunRequest,
    uow: UnitOfWork,
    *,
    now: Callable[[], datetime],
    locks: MunicipalityLocks | None = None,
    printing: Printing | None = None,
    control: RunControl | None = None,
    listing: DecisionListing | None = None,
    skip_if_done: bool = False,
) -> NightOutcome:
    """The night of ``request.as_of``: `reminders run`, its dry run, the scheduler's job, the
    console's run and preview all come here.

    A dry run (``request.dry_run``) only decides: it writes nothing, takes no lock, resumes
    nothing, and hands each decision to ``listing`` when given. A run holds the run lock of
    its municipalities (``locks``; None only where nothing else can run on the database: the
    demo's own, a test's), completes every unfinished run of them first (or closes it, if it
    kept nothing), then, unless ``skip_if_done`` finds the night already run (a second
    scheduler, a repeated hour), decides and records the night and, when ``printing`` says
    how, prints, seals and publishes its letters. Without ``printing`` (tests, benchmarks) it
    only decides, and resumes nothing. A municipality whose database log is behind its
    published log stops it all first (BehindPublishedLogError, exit 1): `reminders recover`
    must run."""
    control = control or RunControl()
    if request.dry_run:
        with uow:
            summary = _decided(request, uow, None, now, uow.decisions.latest_import_id(), listing)
        return NightOutcome("ran", summary)
    nis_codes = [m.nis_code for m in request.municipalities]
    with _held(locks, nis_codes):
        ids: tuple[int, ...] = ()
        if printing is not None:
            resumed = _completed_unfinished(request, uow, locks, printing, now, control)
            ids = tuple(summary.run_id for summary in resumed if summary.run_id is not None)
            for summary in resumed:  # the night's own run, stopped earlier and now completed
                if summary.as_of == request.as_of and set(nis_codes) <= set(summary.municipalities):
                    return NightOutcome("ran", summary, ids)
        if skip_if_done:
            with uow:
                done = uow.runs.succeeded_for(request.as_of, nis_codes)
            if done is not None:
                log.info("night %s already run by run %s", request.as_of, done)
                return NightOutcome("already_done", None, ids)
        summary = _new_run(request, uow, now=now, printing=printing, control=control)
        return NightOutcome("ran", summary, ids)


def _held(
    locks: MunicipalityLocks | None, nis_codes: Collection[str]
) -> AbstractContextManager[None]:
    return locks(nis_codes) if locks is not None and nis_codes else nullcontext()


def _completed_unfinished(
    request: RunRequest,
    uow: UnitOfWork,
    locks: MunicipalityLocks | None,
    printing: Printing,
    now: Callable[[], datetime],
    control: RunControl,
) -> list[RunSummary]:
    """Every unfinished run of the request's municipalities completed from the step it
    reached (those that kept nothing closed), holding the locks of the other municipalities
    they cover too; the summaries of those completed."""
    nis_codes = [m.nis_code for m in request.municipalities]
    with uow:
        # Before anything else, resuming included: a database restored from a backup
        # would hand out again what its published log already holds.
        refuse_if_behind(nis_codes, uow.dispatch_log, printing.logs, printing.keys)
        unfinished = uow.runs.unfinished(nis_codes)
    others = {nis for run in unfinished for nis in run.municipalities} - set(nis_codes)
    with _held(locks, others):
        if others:
            with uow:
                refuse_if_behind(others, uow.dispatch_log, printing.logs, printing.keys)
        return [
            summary
            for run in unfinished
            if (summary := _resumed(run, request, uow, printing, now, control))
        ]


def _resumed(
    run: StoredRun,
    request: RunRequest,
    uow: UnitOfWork,
    printing: Printing,
    now: Callable[[], datetime],
    control: RunControl,
) -> RunSummary | None:
    """Complete an unfinished run from the step it reached; None if it kept nothing."""
    with uow:
        uow.runs.close_abandoned(run.run_id, at=now())
        if run.step == "started":
            return None
        attempt = uow.runs.start_attempt(
            run.run_id, started_by=request.started_by, worker=request.worker, at=now()
        )
    log.info("run %s: resuming at step %s (attempt %d)", run.run_id, run.step, attempt)
    return _guarded(
        run.run_id,
        uow,
        now,
        lambda: complete_run(
            run,
            request.policies,
            uow,
            printing,
            now=now,
            control=control,
            campaigns=request.campaigns,
        ),
        decided=lambda: True,
    )


def _new_run(
    request: RunRequest,
    uow: UnitOfWork,
    *,
    now: Callable[[], datetime],
    printing: Printing | None,
    control: RunControl,
) -> RunSummary:
    """A new run of the night: every (document, stage) decided and recorded in one
    transaction, then printed, sealed and published (when ``printing`` says how)."""
    nis_codes = [m.nis_code for m in request.municipalities]
    with uow:
        run_id = uow.runs.start_run(
            as_of=request.as_of,
            municipalities=nis_codes,
            started_by=request.started_by,
            worker=request.worker,
            config_sha256=request.config_sha256,
            code_version=request.code_version,
            started_at=now(),
        )
    log.info("run %s: deciding %s for %s", run_id, request.as_of, ",".join(nis_codes))

    committed = False

    def steps() -> RunSummary:
        nonlocal committed
        with uow:
            newest_import = uow.decisions.latest_import_id()
            summary = _decided(request, uow, run_id, now, newest_import)
            control.reached("decide:recorded")
            tally = {nis: outcome.tally() for nis, outcome in summary.municipalities.items()}
            uow.runs.mark_decided(
                run_id,
                tally={"newest_import": newest_import, "municipalities": tally},
                missed_nights=json.dumps(_missed(summary), sort_keys=True),
            )
            if printing is None:  # deciding only: nothing further to resume
                uow.runs.finish(
                    run_id,
                    outcome="succeeded",
                    finished_at=now(),
                    letters=summary.letters,
                    skips=sum(summary.skipped.values()),
                )
        committed = True
        control.reached("decide:committed")
        if printing is None:
            return summary
        with uow:
            run = uow.runs.run(run_id)
        return complete_run(
            run,
            request.policies,
            uow,
            printing,
            now=now,
            control=control,
            campaigns=request.campaigns,
        )

    summary = _guarded(run_id, uow, now, steps, decided=lambda: committed)
    log.info(
        "run %s: %d letters, %d skips, %d volumes",
        run_id,
        summary.letters,
        sum(summary.skipped.values()),
        len(summary.volumes),
    )
    return summary


def _guarded(
    run_id: int,
    uow: UnitOfWork,
    now: Callable[[], datetime],
    steps: Callable[[], RunSummary],
    *,
    decided: Callable[[], bool],
) -> RunSummary:
    """Run a run's steps; a failure is recorded with its reason, and the run is resumed
    next time if its decisions were committed."""
    try:
        return steps()
    except Exception as err:
        reason: Reason | None
        if isinstance(err, StopRequestedError):
            failure = f"stopped on request at {err.point}"
            reason = Reason(ReasonCode.RUN_STOPPED, {"point": err.point})
        else:
            failure = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            # Our own errors say what went wrong (in English when they have no reason); any
            # other is a fault whose details are in the server's log.
            reason = (
                err.reason
                if isinstance(err, RemindersError)
                else Reason(ReasonCode.RUN_FAILED, {"error": type(err).__name__})
            )
        with uow:
            uow.runs.finish(
                run_id, outcome="failed", finished_at=now(), failure=failure, failure_reason=reason
            )
        log.error("run %s failed: %s", run_id, failure if decided() else type(err).__name__)
        error = RunInterruptedError if isinstance(err, StopRequestedError) else RunFailedError
        raise error(run_id, failure, resumable=decided()) from err


def _missed(summary: RunSummary) -> dict[str, list[str]]:
    """Per municipality, the nights before this one no run decided: [first, last]."""
    missed = {}
    for nis, outcome in summary.municipalities.items():
        nights = outcome.missed_nights(summary.as_of)
        if nights is not None:
            missed[nis] = [day.isoformat() for day in nights]
    return missed


def _decided(
    request: RunRequest,
    uow: UnitOfWork,
    run_id: int | None,
    now: Callable[[], datetime],
    newest_import: int,
    listing: DecisionListing | None = None,
) -> RunSummary:
    store = uow.decisions
    jurisdictions = {m.nis_code: m for m in request.municipalities}
    outcomes = {nis: MunicipalityOutcome(nis) for nis in jurisdictions}
    for kind, policy in request.policies.items():
        digest = policy.digest  # a SHA-256 of the stages: once per policy and run
        stages = _StagesByExpiry(policy, request.as_of)
        for (through, import_id), group in _by_watermark(
            store.watermarks(kind, jurisdictions), digest, jurisdictions
        ).items():
            for nis in group:
                outcomes[nis].decided_since[kind] = through + timedelta(days=1) if through else None
            windows = expiry_windows(policy, decided_through=through, as_of=request.as_of)
            for chunk in store.candidates(kind, group, windows, changed_after_import=import_id):
                decided: dict[str, list[Decision]] = {}
                for facts, history in chunk:
                    nis = facts.holder.municipality_nis
                    decisions = decide_on(facts, stages.of(facts), jurisdictions[nis], history)
                    _tally(outcomes[nis], kind, decisions)
                    decided.setdefault(nis, []).extend(decisions)
                if run_id is not None:
                    recorded_at = now()
                    for nis, decisions in decided.items():
                        store.record(run_id, nis, kind, decisions, recorded_at)
                elif listing is not None:
                    for nis, decisions in decided.items():
                        listing(nis, kind, decisions)
            if run_id is not None:
                if through is not None and import_id is not None and request.as_of < through:
                    # A replay of an earlier night: the later night stays the watermark, and
                    # so does its import, or documents imported since would fall between.
                    mark = ScanWatermark(digest, through, import_id)
                else:
                    mark = ScanWatermark(digest, request.as_of, newest_import)
                for nis in group:
                    store.save_watermark(nis, kind, mark, run_id)
    for campaign in request.campaigns:  # after the reminders: a wave is the night's extra
        waves = campaign_waves(campaign, jurisdictions, uow.campaigns, as_of=request.as_of)
        for nis, decisions in waves:
            for decision in decisions:
                _tally(outcomes[nis], campaign.kind, (decision,))
            if run_id is not None:
                store.record(run_id, nis, campaign.kind, decisions, now())
            elif listing is not None:
                listing(nis, campaign.kind, decisions)
    return RunSummary(run_id, request.as_of, request.dry_run, outcomes)


class _StagesByExpiry:
    """Where the documents of one policy stand tonight, worked out once per expiry date: a
    night's documents share a few dozen (domain/due.py's `stages_on` is pure and does it anew
    on every call)."""

    def __init__(self, policy: ReminderPolicy, as_of: date) -> None:
        self.policy, self.as_of = policy, as_of
        self._known: dict[date, StagesOn | None] = {}

    def of(self, document: DocumentFacts) -> StagesOn | None:
        """The document's stages tonight; None when none is due (or it has no expiry date,
        or is of another kind)."""
        expires_on = document.expires_on
        if expires_on is None or document.kind is not self.policy.kind:
            return None
        try:
            return self._known[expires_on]
        except KeyError:
            found = self._known[expires_on] = stages_on(self.policy, expires_on, as_of=self.as_of)
            return found


def _by_watermark(
    marks: Mapping[str, ScanWatermark],
    policy_digest: str,
    jurisdictions: Mapping[str, LetterJurisdiction],
) -> dict[tuple[date | None, int | None], list[str]]:
    """Municipalities grouped by how far they were decided, so each group is scanned once
    (usually all of them: they run together every night). A watermark made under another
    policy does not count: the new stages must be looked at from scratch."""
    groups: dict[tuple[date | None, int | None], list[str]] = {}
    for nis in jurisdictions:
        mark = marks.get(nis)
        if mark is not None and mark.policy_digest == policy_digest:
            key: tuple[date | None, int | None] = (mark.decided_through, mark.import_id)
        else:
            key = (None, None)
        groups.setdefault(key, []).append(nis)
    return groups


def _tally(outcome: MunicipalityOutcome, kind: DocumentKind, decisions: Sequence[Decision]) -> None:
    outcome.looked_at += 1
    for decision in decisions:
        if decision.reason is None:
            outcome.letters[(kind, decision.stage, _label(decision.languages))] += 1
        else:
            outcome.skipped[decision.reason.value] += 1


@lru_cache(maxsize=16)
def _label(languages: tuple[Language, ...]) -> str:
    return language_label(languages)  # called per letter: a handful of distinct values
