"""A run's letters, printed: each letter decision checked again, written by its templates,
laid out and placed in print volumes in mail-sorting order, and recorded as printed.

The printing step of a run, after its decisions were committed. Each volume is committed on
its own, with the letters in it and the letters the re-check stopped since the last one: a run
stopped half-way keeps the volumes it recorded and is resumed with the letters that have none.
The re-check (interfaces.md §3, domain.md §8.2 and §8.4) turns a letter into a skip when the
holder died, left, or lost their address since the decision was taken: a letter to a dead
person, or to the old address of someone the new municipality is now competent for, is never
printed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from reminders.domain.campaign import Campaign
from reminders.domain.due import SkipReason, skip_reason
from reminders.domain.letters import LetterFacts, LetterMunicipality, WrittenVolume, letter_spec
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.errors import UsageError
from reminders.services.ports import LetterTexts, LetterTransaction, PrintShop, VolumeSeries
from reminders.services.run_control import RunControl

CHUNK = 500  # letters whose facts are read at a time


@dataclass(frozen=True, slots=True)
class PrintRequest:
    run_id: int
    as_of: date  # also the date printed on the letters
    municipalities: Sequence[LetterMunicipality]
    policies: Mapping[DocumentKind, ReminderPolicy]
    split_by_language: bool = False
    campaigns: Sequence[Campaign] = ()

    def rule_for(self, facts: LetterFacts) -> ReminderPolicy | Campaign:
        """What a letter was decided under: the campaign whose id is its stage (campaign ids
        have a hyphen, stage names never do), or its kind's reminder policy."""
        if "-" not in facts.stage:
            return self.policies[facts.document.kind]
        for campaign in self.campaigns:
            if campaign.id == facts.stage:
                return campaign
        raise UsageError(
            f"run {self.run_id} has letters of campaign {facts.stage}, which config.toml no "
            "longer configures: add it back to finish the run's letters"
        )


def print_letters(
    request: PrintRequest,
    transaction: LetterTransaction,
    texts: LetterTexts,
    shop: PrintShop,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> int:
    """Print every letter of the run not printed yet, municipality by municipality; returns
    how many were printed (by this attempt)."""
    templates = _Templates(texts)
    printed = 0
    for municipality in request.municipalities:
        nis = municipality.nis_code
        with transaction() as letters:
            recorded = letters.volume_paths(request.run_id, nis)
            references = letters.printed_count(request.run_id, nis)
            series_keys: Sequence[str | None] = (
                letters.letter_languages(request.run_id, nis)
                if request.split_by_language
                else [None]
            )
        shop.forget_unrecorded(nis, request.run_id, request.as_of, recorded)
        for language in series_keys:
            series = _Series(
                request, municipality, language, transaction, shop, templates, now, control
            )
            for chunk in series.letter_chunks():
                for facts in chunk:
                    reason = skip_reason(facts.document, municipality)
                    if reason is not None or facts.address is None:
                        series.stopped(facts.decision_id, reason or SkipReason.NO_ADDRESS)
                        continue
                    references += 1
                    series.add(facts, f"{nis}-{request.run_id:06d}-{references:06d}")
            printed += series.close()
    return printed


class _Templates:
    """The templates' names and one hash over their sources, per kind, stage and languages."""

    def __init__(self, texts: LetterTexts) -> None:
        self.texts = texts
        self.sources: dict[tuple[DocumentKind, str, tuple[Language, ...]], tuple[str, str]] = {}

    def of(self, facts: LetterFacts) -> tuple[str, str]:
        key = (facts.document.kind, facts.stage, facts.languages)
        if key not in self.sources:
            names = [self.texts.name(key[0], key[1], language) for language in key[2]]
            digests = [self.texts.source_sha256(key[0], key[1], language) for language in key[2]]
            combined = digests[0] if len(digests) == 1 else _combined(digests)
            self.sources[key] = ("+".join(names), combined)
        return self.sources[key]


class _Series:
    """One series of volumes (a municipality, or one of its languages) being printed: each
    completed volume is committed with the letters stopped since the previous one."""

    def __init__(
        self,
        request: PrintRequest,
        municipality: LetterMunicipality,
        language: str | None,
        transaction: LetterTransaction,
        shop: PrintShop,
        templates: _Templates,
        now: Callable[[], datetime],
        control: RunControl,
    ) -> None:
        self.request, self.municipality, self.templates = request, municipality, templates
        self.transaction, self.now, self.control = transaction, now, control
        with transaction() as letters:
            self.order = letters.letter_order(
                request.run_id, municipality.nis_code, language=language
            )
            before = letters.volume_count(request.run_id, municipality.nis_code, language)
        self.volumes: VolumeSeries = shop.series(
            municipality, request.run_id, request.as_of, language, volumes_before=before
        )
        self.stops: list[tuple[int, SkipReason]] = []
        self.printed = 0

    def letter_chunks(self) -> Iterator[list[LetterFacts]]:
        """The letters to print, with the registry's facts as they are now, chunk by chunk
        (each read in a short transaction of its own)."""
        for start in range(0, len(self.order), CHUNK):
            with self.transaction() as letters:
                yield letters.letter_facts(self.order[start : start + CHUNK])

    def stopped(self, decision_id: int, reason: SkipReason) -> None:
        self.stops.append((decision_id, reason))

    def add(self, facts: LetterFacts, reference: str) -> None:
        assert facts.address is not None  # noqa: S101 - the re-check stopped those without
        texts, municipality = self.templates.texts, self.municipality
        spec = letter_spec(
            facts,
            self.request.rule_for(facts),
            reference=reference,
            municipality_nis=municipality.nis_code,
            letter_date=self.request.as_of,
            country_name=(
                texts.country_name(facts.address.country, facts.languages[0])
                if facts.address.is_foreign
                else None
            ),
        )
        names, digest = self.templates.of(facts)
        self._keep(
            self.volumes.add(
                spec,
                [texts.text(spec, language, municipality) for language in spec.languages],
                decision_id=facts.decision_id,
                document_number=facts.document_number,
                postal_code=facts.address.postal_code or "",
                templates=names,
                template_sha256=digest,
            )
        )

    def close(self) -> int:
        """Write the last volume; returns the letters this series printed."""
        self._keep(self.volumes.close())
        if self.stops:  # stopped letters after the last volume
            self._keep(None)
        return self.printed

    def _keep(self, volume: WrittenVolume | None) -> None:
        """Record a completed volume (its files are staged) with the letters stopped since
        the previous one, in one transaction of its own."""
        if volume is None and not self.stops:
            return
        if volume is not None:
            self.control.reached("print:volume-staged")
        with self.transaction() as letters:
            for decision_id, reason in self.stops:
                letters.replace_with_skip(decision_id, reason)
            if volume is not None:
                volume_id = letters.record_volume(
                    run_id=self.request.run_id,
                    municipality_nis=volume.municipality_nis,
                    language=volume.language,
                    sequence=volume.sequence,
                    path=str(volume.path),
                    sha256=volume.sha256,
                    letters=len(volume.letters),
                    pages=volume.pages,
                    written_at=self.now(),
                )
                letters.record_letters(volume_id, volume.letters)
        self.stops = []
        if volume is not None:
            self.printed += len(volume.letters)
            self.control.reached("print:volume-recorded")


def _combined(digests: Sequence[str]) -> str:
    """One hash for a bilingual letter's two templates, in the letter's language order."""
    return hashlib.sha256("+".join(digests).encode()).hexdigest()
