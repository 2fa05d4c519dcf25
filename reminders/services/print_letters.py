"""A run's letters, printed: each letter decision checked again, written by its templates,
laid out and placed in print volumes in mail-sorting order, and recorded as printed.

Runs inside the run's transaction, after the decisions. The re-check (interfaces.md §3,
domain.md §8.2 and §8.4) turns a letter into a skip when the holder died, left, or lost their
address since the decision was taken: a letter to a dead person, or to the old address of
someone the new municipality is now competent for, is never printed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from reminders.domain.due import SkipReason, skip_reason
from reminders.domain.letter_language import language_label
from reminders.domain.letters import LetterFacts, LetterMunicipality, WrittenVolume, letter_spec
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.services.ports import LetterStore, LetterTexts, PrintShop


@dataclass(frozen=True, slots=True)
class PrintRequest:
    run_id: int
    as_of: date  # also the date printed on the letters
    municipalities: Sequence[LetterMunicipality]
    policies: Mapping[DocumentKind, ReminderPolicy]
    split_by_language: bool = False


@dataclass(slots=True)
class PrintOutcome:
    """What printing did: the volumes, and the letters the re-check turned into skips."""

    volumes: list[Path] = field(default_factory=list)  # in the order they were written
    letters: Counter[str] = field(default_factory=Counter)  # per NIS code
    # (NIS code, document kind, stage, language label, reason) of each letter stopped
    stopped: Counter[tuple[str, DocumentKind, str, str, SkipReason]] = field(
        default_factory=Counter
    )


def print_letters(
    request: PrintRequest,
    store: LetterStore,
    texts: LetterTexts,
    shop: PrintShop,
    *,
    now: Callable[[], datetime],
) -> PrintOutcome:
    """Print every letter the run decided, municipality by municipality."""
    outcome = PrintOutcome()
    sources: dict[tuple[DocumentKind, str, tuple[Language, ...]], tuple[str, str]] = {}

    def template_of(facts: LetterFacts) -> tuple[str, str]:
        """The templates' names and one hash over their sources, per kind, stage, languages."""
        key = (facts.document.kind, facts.stage, facts.languages)
        if key not in sources:
            names = [texts.name(key[0], key[1], language) for language in key[2]]
            digests = [texts.source_sha256(key[0], key[1], language) for language in key[2]]
            combined = digests[0] if len(digests) == 1 else _combined(digests)
            sources[key] = ("+".join(names), combined)
        return sources[key]

    for municipality in request.municipalities:
        nis = municipality.nis_code
        printed = 0
        series_keys: Sequence[str | None] = (
            store.letter_languages(request.run_id, nis) if request.split_by_language else [None]
        )
        for language in series_keys:
            series = shop.series(municipality, request.run_id, request.as_of, language)
            for chunk in store.letters(request.run_id, nis, language=language):
                for facts in chunk:
                    reason = skip_reason(facts.document, municipality)
                    if reason is not None or facts.address is None:
                        reason = reason or SkipReason.NO_ADDRESS
                        store.replace_with_skip(facts.decision_id, reason)
                        label = language_label(facts.languages)
                        outcome.stopped[(nis, facts.document.kind, facts.stage, label, reason)] += 1
                        continue
                    printed += 1
                    policy = request.policies[facts.document.kind]
                    spec = letter_spec(
                        facts,
                        policy,
                        reference=f"{nis}-{request.run_id:06d}-{printed:06d}",
                        municipality_nis=nis,
                        letter_date=request.as_of,
                        country_name=(
                            texts.country_name(facts.address.country, facts.languages[0])
                            if facts.address.is_foreign
                            else None
                        ),
                    )
                    names, digest = template_of(facts)
                    _keep(
                        store,
                        outcome,
                        request.run_id,
                        now(),
                        series.add(
                            spec,
                            [texts.text(spec, lang, municipality) for lang in spec.languages],
                            decision_id=facts.decision_id,
                            document_number=facts.document_number,
                            postal_code=facts.address.postal_code or "",
                            templates=names,
                            template_sha256=digest,
                        ),
                    )
            _keep(store, outcome, request.run_id, now(), series.close())
        outcome.letters[nis] = printed
    return outcome


def _keep(
    store: LetterStore,
    outcome: PrintOutcome,
    run_id: int,
    written_at: datetime,
    volume: WrittenVolume | None,
) -> None:
    """Records a completed volume at once, so a run's memory stays flat."""
    if volume is None:
        return
    outcome.volumes.append(volume.path)
    volume_id = store.record_volume(
        run_id=run_id,
        municipality_nis=volume.municipality_nis,
        language=volume.language,
        sequence=volume.sequence,
        path=str(volume.path),
        sha256=volume.sha256,
        letters=len(volume.letters),
        pages=volume.pages,
        written_at=written_at,
    )
    store.record_letters(volume_id, volume.letters)


def _combined(digests: Sequence[str]) -> str:
    """One hash for a bilingual letter's two templates, in the letter's language order."""
    return hashlib.sha256("+".join(digests).encode()).hexdigest()
