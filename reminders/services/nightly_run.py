"""The nightly run (interfaces.md §3, §4): for a date, every (document, stage) that gets a
letter or a skip, recorded so that nothing is ever decided twice, the letters printed, and
all of it sealed into the dispatch log.

The run is recorded as running in a transaction of its own, then all its decisions, its
printed letters and volumes, its log entries and checkpoints and its success are committed
together: a failed run leaves no
decisions behind, only its record with the reason, and can simply be run again. Volumes are
written under staged names and published only once that transaction is committed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from reminders.domain.due import Decision, LetterJurisdiction, decide
from reminders.domain.letter_language import language_label
from reminders.domain.letters import LetterMunicipality
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.domain.scan_window import ScanWatermark, expiry_windows
from reminders.errors import RemindersError
from reminders.services.ports import (
    CheckpointSigner,
    DecisionStore,
    DecisionTransaction,
    LetterTexts,
    PrintShop,
)
from reminders.services.print_letters import PrintOutcome, PrintRequest, print_letters
from reminders.services.seal_log import SealedLog, seal_run

log = logging.getLogger(__name__)


class RunFailedError(RemindersError):
    """The run started but could not finish; none of its decisions was kept (exit 1)."""

    def __init__(self, run_id: int | None, failure: str) -> None:
        run = f"run {run_id}" if run_id is not None else "the dry run"
        kept = " and is recorded as failed" if run_id is not None else ""
        super().__init__(
            f"{run} failed ({failure[:200]}){kept}; none of its decisions was kept, "
            "so it can simply be run again"
        )
        self.run_id, self.failure = run_id, failure


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to decide: for which date and municipalities, under which policies."""

    as_of: date
    municipalities: Sequence[LetterJurisdiction]
    policies: Mapping[DocumentKind, ReminderPolicy]
    dry_run: bool = False
    started_by: str = "cli"
    config_sha256: str = ""
    code_version: str = ""


@dataclass(frozen=True, slots=True)
class Printing:
    """How a run prints its letters; a run without it (tests, benchmarks) only decides."""

    municipalities: Sequence[LetterMunicipality]  # every municipality the run may cover
    texts: LetterTexts
    shop: PrintShop
    signer: CheckpointSigner  # seals the run into the dispatch log
    split_by_language: bool = False


@dataclass(slots=True)
class MunicipalityOutcome:
    """What a run decided for one municipality."""

    nis_code: str
    # The first night this run caught up on, per kind; None: never decided before, so every
    # document whose stages are under way was looked at.
    decided_since: dict[DocumentKind, date | None] = field(default_factory=dict)
    letters: Counter[tuple[DocumentKind, str, str]] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    looked_at: int = 0  # documents the rule was applied to

    def as_json(self) -> dict[str, Any]:
        return {
            "letters": sum(self.letters.values()),
            "skipped": dict(sorted(self.skipped.items())),
            "letters_by_stage": _grouped(self.letters, lambda key: f"{key[0]}/{key[1]}"),
            "letters_by_language": _grouped(self.letters, lambda key: key[2]),
            "decided_since": {
                kind.value: since.isoformat() if since else None
                for kind, since in self.decided_since.items()
            },
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The outcome of a run, as `run --json` prints it (interfaces.md §4)."""

    run_id: int | None  # None for a dry run: nothing was recorded
    as_of: date
    dry_run: bool
    municipalities: dict[str, MunicipalityOutcome]
    volumes: tuple[Path, ...] = ()  # absolute paths of the print-ready PDFs
    sealed: tuple[SealedLog, ...] = ()  # each municipality's log, checkpointed after the run

    @property
    def letters(self) -> int:
        return sum(sum(m.letters.values()) for m in self.municipalities.values())

    @property
    def skipped(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for outcome in self.municipalities.values():
            total.update(outcome.skipped)
        return total

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "date": self.as_of.isoformat(),
            "letters": self.letters,
            "skipped": dict(sorted(self.skipped.items())),
            "volumes": [str(path) for path in self.volumes],
            "dry_run": self.dry_run,
            "checkpoints": {
                sealed.municipality_nis: {
                    "tree_size": sealed.checkpoint.checkpoint.tree_size,
                    "root_hash": sealed.checkpoint.checkpoint.root_hash.hex(),
                    "file": str(sealed.file) if sealed.file else None,
                }
                for sealed in self.sealed
            },
            "municipalities": {
                nis: outcome.as_json() for nis, outcome in sorted(self.municipalities.items())
            },
        }


def _grouped(
    letters: Counter[tuple[DocumentKind, str, str]],
    key: Callable[[tuple[DocumentKind, str, str]], str],
) -> dict[str, int]:
    grouped: Counter[str] = Counter()
    for letter, count in letters.items():
        grouped[key(letter)] += count
    return dict(sorted(grouped.items()))


def run_night(
    request: RunRequest,
    transaction: DecisionTransaction,
    *,
    now: Callable[[], datetime],
    printing: Printing | None = None,
) -> RunSummary:
    """Decide every (document, stage) for ``request.as_of`` and, unless a dry run, record it
    and print the letters (when ``printing`` says how)."""
    nis_codes = [m.nis_code for m in request.municipalities]
    run_id: int | None = None
    if not request.dry_run:
        with transaction() as store:
            run_id = store.start_run(
                as_of=request.as_of,
                municipalities=nis_codes,
                started_by=request.started_by,
                config_sha256=request.config_sha256,
                code_version=request.code_version,
                started_at=now(),
            )
    log.info("run %s: deciding %s for %s", run_id, request.as_of, ",".join(nis_codes))
    try:
        with transaction() as store:
            summary = _decided(request, store, run_id, now)
            if run_id is not None and printing is not None:
                summary = _printed(request, summary, store, run_id, printing, now)
            if run_id is not None:
                store.finish_run(
                    run_id,
                    outcome="succeeded",
                    finished_at=now(),
                    letters=summary.letters,
                    skips=sum(summary.skipped.values()),
                )
    except Exception as err:
        if printing is not None:
            printing.shop.discard()  # nothing of a failed run may reach the print room
        failure = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        if run_id is not None:
            with transaction() as store:
                store.finish_run(run_id, outcome="failed", finished_at=now(), failure=failure)
        log.error("run %s failed: %s; none of its decisions was kept", run_id, type(err).__name__)
        raise RunFailedError(run_id, failure) from err
    if printing is not None:
        printing.shop.publish()  # committed: the volumes take their final names
    log.info(
        "run %s: %d letters, %d skips, %d volumes",
        run_id,
        summary.letters,
        sum(summary.skipped.values()),
        len(summary.volumes),
    )
    return summary


def _printed(
    request: RunRequest,
    summary: RunSummary,
    store: DecisionStore,
    run_id: int,
    printing: Printing,
    now: Callable[[], datetime],
) -> RunSummary:
    """Print the run's letters (letters the re-check stopped count as skips instead), then
    seal the run into each municipality's dispatch log."""
    covered = {m.nis_code for m in request.municipalities}
    outcome: PrintOutcome = print_letters(
        PrintRequest(
            run_id=run_id,
            as_of=request.as_of,
            municipalities=[m for m in printing.municipalities if m.nis_code in covered],
            policies=request.policies,
            split_by_language=printing.split_by_language,
        ),
        store.letter_store(),
        printing.texts,
        printing.shop,
        now=now,
    )
    for (nis, kind, stage, label, reason), count in outcome.stopped.items():
        municipality = summary.municipalities[nis]
        municipality.letters[(kind, stage, label)] -= count
        municipality.letters += Counter()  # drops counts that fell to zero
        municipality.skipped[reason.value] += count
    sealed = seal_run(
        run_id,
        request.as_of,
        [m.nis_code for m in request.municipalities],
        store.dispatch_log(),
        printing.signer,
        printing.shop,
        now=now,
    )
    return RunSummary(
        summary.run_id, summary.as_of, summary.dry_run, summary.municipalities,
        tuple(outcome.volumes), tuple(sealed),
    )  # fmt: skip


def _decided(
    request: RunRequest,
    store: DecisionStore,
    run_id: int | None,
    now: Callable[[], datetime],
) -> RunSummary:
    jurisdictions = {m.nis_code: m for m in request.municipalities}
    outcomes = {nis: MunicipalityOutcome(nis) for nis in jurisdictions}
    newest_import = store.latest_import_id()
    for kind, policy in request.policies.items():
        digest = policy.digest  # a SHA-256 of the stages: once per policy and run
        for (through, import_id), group in _by_watermark(
            store.watermarks(kind, jurisdictions), digest, jurisdictions
        ).items():
            for nis in group:
                outcomes[nis].decided_since[kind] = through + timedelta(days=1) if through else None
            windows = expiry_windows(policy, decided_through=through, as_of=request.as_of)
            for chunk in store.candidates(kind, group, windows, changed_after_import=import_id):
                decided: dict[str, list[Decision]] = {}
                for facts, recorded in chunk:
                    nis = facts.holder.municipality_nis
                    decisions = decide(
                        facts, policy, jurisdictions[nis], recorded, as_of=request.as_of
                    )
                    _tally(outcomes[nis], kind, decisions)
                    decided.setdefault(nis, []).extend(decisions)
                if run_id is not None:
                    recorded_at = now()
                    for nis, decisions in decided.items():
                        store.record(run_id, nis, kind, decisions, recorded_at)
            if run_id is not None:
                if through is not None and import_id is not None and request.as_of < through:
                    # A replay of an earlier night: the later night stays the watermark, and
                    # so does its import, or documents imported since would fall between.
                    mark = ScanWatermark(digest, through, import_id)
                else:
                    mark = ScanWatermark(digest, request.as_of, newest_import)
                for nis in group:
                    store.save_watermark(nis, kind, mark, run_id)
    return RunSummary(run_id, request.as_of, request.dry_run, outcomes)


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
