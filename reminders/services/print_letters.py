"""A run's letters, printed: each letter decision checked again, cut into print volumes in
mail-sorting order, rendered (by its templates, laid out, drawn) and recorded as printed.

The printing step of a run, after its decisions were committed. Rendering fans out over a
render pool (worker processes, or machines); everything else stays in this one process and in
order: reading, the re-check, references, volume numbers, recording. Each volume is committed on
its own, with the letters in it and the letters the re-check stopped since the last one: a run
stopped half-way keeps the volumes it recorded and is resumed with the letters that have none.
The re-check (interfaces.md §3, domain.md §8.2 and §8.4) turns a letter into a skip when the
holder died, left, or lost their address since the decision was taken: a letter to a dead
person, or to the old address of someone the new municipality is now competent for, is never
printed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from reminders.domain.campaign import Campaign
from reminders.domain.due import SkipReason, skip_reason
from reminders.domain.letters import LetterFacts, LetterMunicipality, letter_spec
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.domain.release import ReleaseMode, VolumeState
from reminders.domain.volume_job import LetterToPrint, VolumeJob, combined_sha256
from reminders.errors import UsageError
from reminders.services.ports import (
    LetterTexts,
    PendingVolume,
    PrintShop,
    Rendering,
    RenderPool,
    UnitOfWork,
)
from reminders.services.run_control import RunControl

CHUNK = 500  # letters whose facts are read at a time


@dataclass(frozen=True, slots=True)
class PrintRequest:
    run_id: int
    as_of: date  # also the date printed on the letters
    municipalities: Sequence[LetterMunicipality]
    policies: Mapping[DocumentKind, ReminderPolicy]
    split_by_language: bool = False
    volume_max_letters: int = 1000
    print_options: str = ""  # the [print] options every renderer must have (VolumeJob)
    campaigns: Sequence[Campaign] = ()

    def rule_for(self, facts: LetterFacts) -> ReminderPolicy | Campaign:
        """What a letter was decided under (`letter_rule`)."""
        return letter_rule(facts, self.policies, self.campaigns, run_id=self.run_id)


def letter_rule(
    facts: LetterFacts,
    policies: Mapping[DocumentKind, ReminderPolicy],
    campaigns: Sequence[Campaign],
    *,
    run_id: int,
) -> ReminderPolicy | Campaign:
    """What a letter was decided under: the campaign whose id is its stage (campaign ids have
    a hyphen, stage names never do), or its kind's reminder policy."""
    if "-" not in facts.stage:
        policy = policies.get(facts.document.kind)
        if policy is None:
            raise UsageError(
                f"run {run_id} has {facts.document.kind} letters, for which config.toml no "
                "longer has a policy: add it back to print them"
            )
        return policy
    for campaign in campaigns:
        if campaign.id == facts.stage:
            return campaign
    raise UsageError(
        f"run {run_id} has letters of campaign {facts.stage}, which config.toml no "
        "longer configures: add it back to finish the run's letters"
    )


def print_letters(
    request: PrintRequest,
    uow: UnitOfWork,
    texts: LetterTexts,
    shop: PrintShop,
    rendering: Rendering,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> int:
    """Print every letter of the run not printed yet, municipality by municipality; returns
    how many were printed (by this attempt).

    This process reads the letters in sorting order, re-checks them, numbers them and cuts
    them into volumes; the volumes render in the pool, several at once, and come back to be
    staged and recorded here, one transaction each, in the order they were cut."""
    templates = TemplateSources(texts)
    with uow:  # its own transaction: ANALYZE's lock ends with it
        uow.letters.refresh_statistics()
    plans = _planned_series(request, uow, shop)
    volumes = sum(-(-len(plan.order) // request.volume_max_letters) for plan in plans)
    letters = sum(len(plan.order) for plan in plans)
    with uow:
        uow.letters.plan_volumes(request.run_id, planned_volumes(plans, request.volume_max_letters))
    with rendering.open(volumes, letters) as pool:
        pipeline = _Pipeline(request, uow, shop, pool, now, control)
        references: dict[str, int] = {}
        for plan in plans:
            nis = plan.municipality.nis_code
            references.setdefault(nis, plan.printed_before)
            volume = _VolumeCutter(request, plan, templates)
            for start in range(0, len(plan.order), CHUNK):
                with uow:
                    chunk = uow.letters.letter_facts(plan.order[start : start + CHUNK])
                for facts in chunk:
                    reason = skip_reason(facts.document, plan.municipality)
                    if reason is not None or facts.address is None:
                        pipeline.stopped(facts.decision_id, reason or SkipReason.NO_ADDRESS)
                        continue
                    references[nis] += 1
                    reference = f"{nis}-{request.run_id:06d}-{references[nis]:06d}"
                    job = volume.add(facts, reference)
                    if job is not None:
                        pipeline.submit(job)
            last = volume.cut()
            if last is not None:
                pipeline.submit(last)
            pipeline.end_of_series()
        pipeline.drain()
    return pipeline.printed


@dataclass(frozen=True, slots=True)
class _SeriesPlan:
    """One series of volumes to print: a municipality's, or one of its languages'."""

    municipality: LetterMunicipality
    language: str | None
    order: Sequence[int]  # the letter decisions not printed yet, in sorting order
    volumes_before: int  # recorded by an earlier attempt: the series continues after them
    printed_before: int  # letters of the municipality printed: the references continue


def planned_volumes(plans: Sequence[_SeriesPlan], volume_max_letters: int) -> dict[str, int]:
    """Per municipality, the volumes its series will have: those an earlier attempt recorded
    and those its letters left fill. An upper bound: the re-check may stop letters."""
    planned: dict[str, int] = {}
    for plan in plans:
        nis = plan.municipality.nis_code
        left = -(-len(plan.order) // volume_max_letters)
        planned[nis] = planned.get(nis, 0) + plan.volumes_before + left
    return planned


def _planned_series(request: PrintRequest, uow: UnitOfWork, shop: PrintShop) -> list[_SeriesPlan]:
    """What is left to print, series by series, and the staged files of volumes an earlier
    attempt wrote but never recorded deleted (they are rendered again)."""
    plans: list[_SeriesPlan] = []
    for municipality in request.municipalities:
        nis = municipality.nis_code
        with uow:
            letters = uow.letters
            recorded = letters.volume_paths(request.run_id, nis)
            printed = letters.printed_count(request.run_id, nis)
            series_keys: Sequence[str | None] = (
                letters.letter_languages(request.run_id, nis)
                if request.split_by_language
                else [None]
            )
            for language in series_keys:
                plans.append(
                    _SeriesPlan(
                        municipality,
                        language,
                        letters.letter_order(request.run_id, nis, language=language),
                        letters.volume_count(request.run_id, nis, language),
                        printed,
                    )
                )
        shop.forget_unrecorded(nis, request.run_id, request.as_of, recorded)
    return plans


class TemplateSources:
    """The templates' names and one hash over their sources, per municipality (which may
    have templates of its own), kind, stage and languages."""

    def __init__(self, texts: LetterTexts) -> None:
        self.texts = texts
        self.sources: dict[
            tuple[str, DocumentKind, str, tuple[Language, ...]], tuple[str, str]
        ] = {}

    def of(self, facts: LetterFacts, nis_code: str) -> tuple[str, str]:
        key = (nis_code, facts.document.kind, facts.stage, facts.languages)
        if key not in self.sources:
            kind, stage, languages = key[1:]
            names = [self.texts.name(kind, stage, language) for language in languages]
            digests = [
                self.texts.source_sha256(kind, stage, language, nis_code) for language in languages
            ]
            self.sources[key] = ("+".join(names), combined_sha256(digests))
        return self.sources[key]


class _VolumeCutter:
    """Cuts a series' letters into volume jobs of at most ``volume_max_letters``."""

    def __init__(
        self, request: PrintRequest, plan: _SeriesPlan, templates: TemplateSources
    ) -> None:
        self.request, self.plan, self.templates = request, plan, templates
        self.sequence = plan.volumes_before
        self.letters: list[LetterToPrint] = []

    def add(self, facts: LetterFacts, reference: str) -> VolumeJob | None:
        """Adds a letter; returns the volume it completed, if it was the last that fits."""
        self.letters.append(
            letter_to_print(
                facts,
                self.request.rule_for(facts),
                reference=reference,
                municipality=self.plan.municipality,
                letter_date=self.request.as_of,
                templates=self.templates,
            )
        )
        return self.cut() if len(self.letters) >= self.request.volume_max_letters else None

    def cut(self) -> VolumeJob | None:
        """The letters added since the last volume as the next volume, if any."""
        if not self.letters:
            return None
        self.sequence += 1
        letters, self.letters = tuple(self.letters), []
        return VolumeJob(
            run_id=self.request.run_id,
            as_of=self.request.as_of,
            municipality=self.plan.municipality,
            language=self.plan.language,
            sequence=self.sequence,
            print_options=self.request.print_options,
            letters=letters,
        )


def letter_to_print(
    facts: LetterFacts,
    rule: ReminderPolicy | Campaign,
    *,
    reference: str,
    municipality: LetterMunicipality,
    letter_date: date,
    templates: TemplateSources,
) -> LetterToPrint:
    """A letter decision that passed the re-check, as a volume prints it: its spec (texts'
    values, address block) and what the manifest and the log say of it. Also how a letter is
    made again after its run (re-cut, reprint), from the same facts and date."""
    assert facts.address is not None  # noqa: S101 - the re-check stopped those without
    spec = letter_spec(
        facts,
        rule,
        reference=reference,
        municipality_nis=municipality.nis_code,
        letter_date=letter_date,
        country_name=(
            templates.texts.country_name(facts.address.country, facts.languages[0])
            if facts.address.is_foreign
            else None
        ),
    )
    names, digest = templates.of(facts, municipality.nis_code)
    return LetterToPrint(
        spec,
        decision_id=facts.decision_id,
        document_number=facts.document_number,
        postal_code=facts.address.postal_code or "",
        templates=names,
        template_sha256=digest,
    )


class _Pipeline:
    """Volumes in the pool, recorded in the order they were cut: each completed volume is
    staged and committed with the letters the re-check stopped before it. A few volumes are
    kept ahead so that the workers never wait for this process."""

    def __init__(
        self,
        request: PrintRequest,
        uow: UnitOfWork,
        shop: PrintShop,
        pool: RenderPool,
        now: Callable[[], datetime],
        control: RunControl,
    ) -> None:
        self.request, self.uow, self.shop, self.pool = request, uow, shop, pool
        self.now, self.control = now, control
        self.ahead = pool.volumes_ahead
        self.queue: deque[tuple[VolumeJob | None, list[_Stop], PendingVolume | None]] = deque()
        self.stops: list[_Stop] = []
        self.printed = 0

    def stopped(self, decision_id: int, reason: SkipReason) -> None:
        self.stops.append((decision_id, reason))

    def submit(self, job: VolumeJob) -> None:
        self.queue.append((job, self.stops, self.pool.submit(job)))
        self.stops = []
        while len(self.queue) > self.ahead:
            self._record_oldest()

    def end_of_series(self) -> None:
        """Letters stopped after a series' last volume are recorded on their own."""
        if self.stops:
            self.queue.append((None, self.stops, None))
            self.stops = []

    def drain(self) -> None:
        while self.queue:
            self._record_oldest()

    def _record_oldest(self) -> None:
        job, stops, pending = self.queue.popleft()
        volume = None
        if job is not None and pending is not None:
            volume = self.shop.stage(job, pending.result())
            self.control.reached("print:volume-staged")
        with self.uow:
            letters = self.uow.letters
            for decision_id, reason in stops:
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
                    state=(
                        VolumeState.HELD
                        if job is not None and job.municipality.release is ReleaseMode.APPROVAL
                        else VolumeState.AUTO
                    ),
                )
                letters.record_letters(volume_id, volume.letters)
        if volume is not None:
            self.printed += len(volume.letters)
            self.control.reached("print:volume-recorded")


_Stop = tuple[int, SkipReason]  # a letter decision the re-check stopped, and why
