"""What a run decided and did, as `run` prints it and `run --json` gives it (interfaces.md §4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from reminders.domain.model import DocumentKind
from reminders.services.seal_log import SealedLog


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
    # Issue 25: letters the relay accepted by e-mail in this run, and what their postage would
    # have cost (when the municipality's email table gives postage_eur)
    emailed: int = 0
    postage_saved_eur: float | None = None

    def missed_nights(self, as_of: date) -> tuple[date, date] | None:
        """The nights before ``as_of`` that no run decided (downtime), caught up by this one:
        (first, last), or None when the previous night was decided (or there was none)."""
        since = [day for day in self.decided_since.values() if day is not None]
        first = min(since, default=None)
        if first is None or first >= as_of:
            return None
        return first, as_of - timedelta(days=1)

    def tally(self) -> dict[str, Any]:
        """What deciding looked at, kept with the run so a resumed run can report it."""
        return {
            "looked_at": self.looked_at,
            "decided_since": {
                kind.value: since.isoformat() if since else None
                for kind, since in self.decided_since.items()
            },
        }

    def as_json(self, as_of: date) -> dict[str, Any]:
        missed = self.missed_nights(as_of)
        channels: dict[str, Any] = {}
        if self.emailed:  # only then: a run on paper alone reports what it did before
            channels["emailed"] = self.emailed
            if self.postage_saved_eur is not None:
                channels["postage_saved_eur"] = round(self.postage_saved_eur, 2)
        return {
            **channels,
            "letters": sum(self.letters.values()),
            "skipped": dict(sorted(self.skipped.items())),
            "letters_by_stage": _grouped(self.letters, lambda key: f"{key[0]}/{key[1]}"),
            "letters_by_language": _grouped(self.letters, lambda key: key[2]),
            "decided_since": self.tally()["decided_since"],
            "missed_nights": [day.isoformat() for day in missed] if missed else None,
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
    attempts: int = 1  # 2 or more: the run was resumed after a failure or a kill

    @property
    def letters(self) -> int:
        return sum(sum(m.letters.values()) for m in self.municipalities.values())

    @property
    def skipped(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for outcome in self.municipalities.values():
            total.update(outcome.skipped)
        return total

    @property
    def emailed(self) -> int:
        return sum(m.emailed for m in self.municipalities.values())

    def as_json(self) -> dict[str, Any]:
        channels = {"emailed": self.emailed} if self.emailed else {}
        return {
            **channels,
            "run_id": self.run_id,
            "date": self.as_of.isoformat(),
            "letters": self.letters,
            "skipped": dict(sorted(self.skipped.items())),
            "volumes": [str(path) for path in self.volumes],
            "dry_run": self.dry_run,
            "attempts": self.attempts,
            "checkpoints": {
                sealed.municipality_nis: {
                    "tree_size": sealed.checkpoint.checkpoint.tree_size,
                    "root_hash": sealed.checkpoint.checkpoint.root_hash.hex(),
                    "file": str(sealed.file) if sealed.file else None,
                }
                for sealed in self.sealed
            },
            "municipalities": {
                nis: outcome.as_json(self.as_of)
                for nis, outcome in sorted(self.municipalities.items())
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
