"""Benchmark: rendering reminder letters into print volumes, against WeasyPrint.

Run: .venv/bin/python bench/render.py [--letters 20000] [--peer-letters 300]
     [--memory-letters 50000] [--profile]

A synthetic night's letters (the municipalities, kinds and stages of config.toml; Dutch, French,
German and bilingual French + Dutch letters; minors written to their parents; accented names;
boxes) go through exactly what a run does after the database: the letter templates
(`LetterTemplates.text`), the layout (`LetterLayout`) and the print volumes with their cover
sheets, manifests, checksums, fsyncs and the final renames (`VolumeFolder`), in mail-sorting
order per municipality. The letters are made in chunks of 1,000 between timed stretches, as the
store hands them over; making them is not timed. Each measurement runs in a fresh process
(spawn), so its peak RSS is its own: once with one process, once with two processes each
rendering half of every municipality's letters into its own directory, and once more with
--memory-letters to show that memory does not grow with the run.

The peer, timed in the same run, is WeasyPrint rendering an HTML/CSS version of the same letter
(A4, the address at the window's position, letterhead, date and reference, subject, paragraphs,
bullets, sign-off, footer) filled from the very LetterText objects the engine's templates wrote,
so the peer pays only for its own HTML and layout, not for the texts. Its letters are
--peer-letters letters spread evenly over the run (the first ones would all be Gent's), in its
two modes: one PDF per letter, and one document of all of them, each letter from a new page.
Figures are printed, not asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.metadata
import io
import multiprocessing
import os
import platform
import pstats
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice, pairwise
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from reminders.adapters.printing.pdf import LABELS, LetterLayout, PreparedLetter  # noqa: E402
from reminders.adapters.printing.print_volume import VolumeFolder  # noqa: E402
from reminders.adapters.printing.reportlab_fastpath import (  # noqa: E402
    FAST_ROUTE,
    accelerator_active,
)
from reminders.adapters.printing.text import LetterTemplates, long_date  # noqa: E402
from reminders.adapters.printing.volume_render import VolumeRenderer, print_options_key  # noqa: E402
from reminders.bootstrap import checked_templates  # noqa: E402
from reminders.config import Municipality, Settings, load_settings  # noqa: E402
from reminders.config.letters import TemplateFolders  # noqa: E402
from reminders.domain.letter_language import letter_languages  # noqa: E402
from reminders.domain.letters import (  # noqa: E402
    LetterMunicipality,
    LetterSpec,
    LetterText,
    PostalAddress,
    address_block,
    recipient_lines,
    writes_to_parents,
)
from reminders.domain.model import DocumentKind, Language  # noqa: E402
from reminders.domain.policy import Offset  # noqa: E402
from reminders.domain.volume_job import LetterToPrint, VolumeJob, combined_sha256  # noqa: E402
from reminders.synthetic import KNOWN_POSTAL_AREAS  # noqa: E402
from reminders.synthetic.names import (  # noqa: E402
    DUTCH_LOCALITY_NAMES,
    DUTCH_STREETS,
    FLEMISH,
    FRENCH,
    FRENCH_STREETS,
    GERMAN,
    GERMAN_STREETS,
    OTHER_ORIGINS,
    NamePool,
)

OUT = REPO / "bench" / "out"
FONTS = REPO / "reminders" / "fonts"
AS_OF = date(2026, 11, 24)  # the run's date, printed on the letters
RUN_ID = 1
SEED = 20261124
CHUNK = 1000  # letters made (untimed) before they are rendered (timed), as the store's chunks
MB = 1_000_000
# Share of the letters per municipality (NIS code); others configured get an equal share.
MUNICIPALITY_WEIGHTS = {"44021": 0.5, "21004": 0.4, "63023": 0.1}
KIND_WEIGHTS = {
    DocumentKind.EID: 42,
    DocumentKind.DRIVING_LICENCE: 33,
    DocumentKind.KIDS_ID: 8,
    DocumentKind.PASSPORT: 9,
    DocumentKind.RESIDENCE_CARD: 8,
}
# (youngest, oldest) age of a holder per kind; kids-IDs always go to the parents.
AGES = {
    DocumentKind.EID: (12, 90),
    DocumentKind.DRIVING_LICENCE: (18, 85),
    DocumentKind.KIDS_ID: (0, 11),
    DocumentKind.PASSPORT: (0, 80),
    DocumentKind.RESIDENCE_CARD: (12, 80),
}
POOLS = {Language.NL: FLEMISH, Language.FR: FRENCH, Language.DE: GERMAN}
STREETS = {Language.NL: DUTCH_STREETS, Language.FR: FRENCH_STREETS, Language.DE: GERMAN_STREETS}
BOX_LETTERS = "ABCD"


# -- the letters ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """Consecutive letters of one municipality and postal area, in the run's sorting order."""

    start: int  # index of the first letter in the whole run
    count: int
    municipality: Municipality
    first_number: int  # the municipality's letter number of the segment's first letter
    postal_code: str
    locality: str

    @property
    def stop(self) -> int:
        return self.start + self.count


@dataclass(frozen=True, slots=True)
class Letter:
    """One letter to print, as the store would hand it over with its decision."""

    municipality: Municipality
    spec: LetterSpec
    decision_id: int
    document_number: str
    postal_code: str


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, summing exactly to ``total``."""
    bounds, running, whole = [0], 0.0, sum(weights)
    for weight in weights:
        running += weight
        bounds.append(round(total * running / whole))
    return [b - a for a, b in pairwise(bounds)]


def plan(settings: Settings, total: int) -> list[Segment]:
    """The run's letters as segments: municipality by municipality, postal code by postal
    code (the main postal area twice as likely as each other one)."""
    municipalities = settings.municipalities
    default = 1 / len(municipalities)
    counts = _split(total, [MUNICIPALITY_WEIGHTS.get(m.nis_code, default) for m in municipalities])
    segments: list[Segment] = []
    start = 0
    for municipality, count in zip(municipalities, counts, strict=True):
        areas = KNOWN_POSTAL_AREAS.get(municipality.nis_code)
        if areas is None:
            raise SystemExit(f"no synthetic postal areas for NIS code {municipality.nis_code}")
        weights = [2.0 if index == 0 else 1.0 for index in range(len(areas))]
        number = 1
        for (postal_code, locality), area_count in sorted(
            zip(areas, _split(count, weights), strict=True)
        ):
            segments.append(Segment(start, area_count, municipality, number, postal_code, locality))
            start += area_count
            number += area_count
    return segments


def parts(segments: Sequence[Segment], total: int, count: int) -> list[list[tuple[int, int]]]:
    """``count`` shares of the letters, each with the same share of every municipality (so the
    processes get the same mix), as ranges of letter indexes."""
    by_municipality: dict[str, list[int]] = defaultdict(lambda: [total, 0])
    for segment in segments:
        bounds = by_municipality[segment.municipality.nis_code]
        bounds[0], bounds[1] = min(bounds[0], segment.start), max(bounds[1], segment.stop)
    shares: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for first, stop in by_municipality.values():
        size = stop - first
        for part in range(count):
            shares[part].append((first + size * part // count, first + size * (part + 1) // count))
    return shares


def letters(
    settings: Settings, segments: Sequence[Segment], indexes: Iterator[int]
) -> Iterator[Letter]:
    """The letters with the given (increasing) indexes; each is drawn from its own seed, so any
    share of the run is the same letters whichever process makes it."""
    position = 0
    for index in indexes:
        while segments[position].stop <= index:
            position += 1
        yield _letter(settings, segments[position], index)


def _letter(settings: Settings, segment: Segment, index: int) -> Letter:
    r = random.Random(SEED * 1_000_003 + index)
    municipality = segment.municipality
    official = municipality.languages
    citizen: Language | None
    if len(official) > 1:  # Brussels: 45 % French, 25 % Dutch, 30 % unknown (bilingual letter)
        draw = r.random()
        citizen = official[0] if draw < 0.45 else official[1] if draw < 0.70 else None
    else:
        citizen = official[0]
    languages = letter_languages(municipality.letter_language, official, citizen)
    address_language = languages[0] if len(official) > 1 else official[0]
    other = r.random() < (0.30 if len(official) > 1 else 0.08)
    pool: NamePool = r.choice(OTHER_ORIGINS) if other else POOLS[address_language]
    kind = r.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    if other and r.random() < 0.5:
        kind = DocumentKind.RESIDENCE_CARD
    policy = settings.policies[kind]
    stage_index = r.randrange(len(policy.stages))
    stage = policy.stages[stage_index]
    due = AS_OF - timedelta(days=r.randrange(7))  # the stage fell due in the last week
    expires_on = Offset(-stage.offset.amount, stage.offset.unit).applied_to(due)
    youngest, oldest = AGES[kind]
    if kind is not DocumentKind.KIDS_ID and r.random() < 0.08:
        oldest = max(youngest, 17)  # a minor: the letter goes to the parents
    born_on = AS_OF - timedelta(days=r.randrange(youngest * 365 + 1, oldest * 365 + 364))
    to_parents = writes_to_parents(kind, born_on, AS_OF)
    male = r.random() < 0.5
    given_pool = pool.male_given_names if male else pool.female_given_names
    given = r.choice(given_pool)
    if r.random() < 0.3:
        second = r.choice(given_pool)
        given = given if second == given else f"{given} {second}"
    family = r.choice(pool.family_names)
    house_number = str(1 + int(r.random() * r.random() * 200))
    if r.random() < 0.08:
        house_number += r.choice(BOX_LETTERS)
    box = None
    if r.random() < 0.15:
        box = r.choice(
            (
                str(r.randint(1, 12)),
                f"{r.randrange(5)}.{r.randint(1, 4)}",
                f"{r.randint(1, 30):03d}",
                f"{r.choice('AB')}{r.randint(1, 9)}",
            )
        )
    locality = segment.locality
    if address_language is Language.NL:
        locality = DUTCH_LOCALITY_NAMES.get(locality, locality)
    address = PostalAddress(r.choice(STREETS[address_language]), house_number, box,
                            segment.postal_code, locality, "BE")  # fmt: skip
    names = recipient_lines(given, family, languages[0], to_parents=to_parents)
    number = segment.first_number + index - segment.start
    spec = LetterSpec(
        reference=f"{municipality.nis_code}-{RUN_ID:06d}-{number:06d}",
        municipality_nis=municipality.nis_code,
        document_kind=kind,
        stage=stage.name,
        stage_due_on=policy.due_dates(expires_on)[stage_index],
        is_final_stage=stage_index == len(policy.stages) - 1,
        expires_on=expires_on,
        letter_date=AS_OF,
        languages=languages,
        given_names=given,
        family_name=family,
        to_parents=to_parents,
        address_lines=address_block(names, address, languages[0], country_name=None),
    )
    return Letter(municipality, spec, index + 1, f"{r.randrange(10**11):011d}", segment.postal_code)


def _templates_of(
    templates: LetterTemplates, spec: LetterSpec, cache: dict[tuple[Any, ...], tuple[str, str]]
) -> tuple[str, str]:
    """The templates' names and hash, once per kind, stage and languages (as print_letters)."""
    key = (spec.municipality_nis, spec.document_kind, spec.stage, spec.languages)
    found = cache.get(key)
    if found is None:
        nis, kind, stage, languages = key
        names = [templates.name(kind, stage, language) for language in languages]
        digests = [templates.source_sha256(kind, stage, lang, nis) for lang in languages]
        found = cache[key] = ("+".join(names), combined_sha256(digests))
    return found


# -- the engine ----------------------------------------------------------------------------------


class TimedLayout(LetterLayout):
    """The engine's layout, with the time spent laying letters out (lines and pages) summed;
    with ``phases``, also the CPU time of drawing letters and of ``canvas.save``."""

    def __init__(self, *args: Any, phases: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seconds = self.draw_cpu = self.save_cpu = 0.0
        self.phases = phases

    def prepared(self, texts: Sequence[LetterText], *, contacts: bool = False) -> PreparedLetter:
        started = time.process_time()  # CPU: others' processes do not count
        letter = super().prepared(texts, contacts=contacts)
        self.seconds += time.process_time() - started
        return letter

    def draw_letter(self, *args: Any, **kwargs: Any) -> None:
        if not self.phases:
            return super().draw_letter(*args, **kwargs)
        started = time.process_time()
        super().draw_letter(*args, **kwargs)
        self.draw_cpu += time.process_time() - started
        return None

    def canvas(self, *args: Any, **kwargs: Any) -> Canvas:
        canvas = super().canvas(*args, **kwargs)
        if self.phases:
            save = canvas.save

            def timed_save() -> None:
                started = time.process_time()
                save()
                self.save_cpu += time.process_time() - started

            canvas.save = timed_save  # type: ignore[method-assign]
        return canvas


class TimedTemplates(LetterTemplates):
    """The engine's templates, with the time spent writing letter texts summed."""

    def __init__(self, folders: TemplateFolders) -> None:
        super().__init__(folders)
        self.seconds = 0.0

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText:
        started = time.process_time()  # CPU: others' processes do not count
        text = super().text(spec, language, municipality)
        self.seconds += time.process_time() - started
        return text


@dataclass(frozen=True, slots=True)
class RenderJob:
    total: int  # letters in the whole run (the plan), of which this job renders ``ranges``
    ranges: list[tuple[int, int]]
    output_dir: Path
    profile: bool = False
    phases: bool = False  # CPU time of drawing and canvas.save too (--only-ours)


@dataclass(frozen=True, slots=True)
class RenderResult:
    letters: int
    started: float  # perf_counter after the barrier: the same clock in every process
    finished: float
    made_seconds: float  # making the synthetic letters (not counted)
    made_cpu: float
    cpu_seconds: float
    texts_seconds: float  # CPU
    layout_seconds: float  # CPU
    volumes: int
    pages: int  # the letters' pages, without cover sheets
    pdf_bytes: int
    other_bytes: int  # manifests and checksums
    peak_rss: int  # bytes
    profile: str = ""
    draw_cpu: float = 0.0  # with phases only
    save_cpu: float = 0.0


def render_job(job: RenderJob, barrier: Barrier, results: Queue[RenderResult]) -> None:
    """One process's share: set up as a run does (templates checked first), then render."""
    settings = load_settings(REPO / "config.toml", environ={})
    checked_templates(settings)  # as a run does before it renders
    templates = TimedTemplates(settings.template_folders)
    options = settings.print_options
    renderer = VolumeRenderer(templates, options)
    layout = renderer.layout = TimedLayout(options.window, phases=job.phases)
    folder = VolumeFolder(job.output_dir)
    segments = plan(settings, job.total)
    stream = letters(
        settings, segments, (i for first, stop in job.ranges for i in range(first, stop))
    )
    sources: dict[tuple[Any, ...], tuple[str, str]] = {}
    written: list[Path] = []  # as a run records a volume and lets it go: memory stays flat
    pages = 0
    pending: list[LetterToPrint] = []
    sequence = 0

    def cut(municipality: Municipality) -> None:
        """Render, stage and let go of the pending letters as one volume (as a run does)."""
        nonlocal pages, sequence, pending
        if not pending:
            return
        sequence += 1
        volume_job = VolumeJob(
            RUN_ID, AS_OF, municipality, None, sequence, print_options_key(options), tuple(pending)
        )
        volume = folder.stage(volume_job, renderer.render(volume_job))
        written.append(volume.path)
        pages += sum(letter.page_count for letter in volume.letters)
        pending = []

    made = made_cpu = 0.0
    count = 0
    profiler = cProfile.Profile() if job.profile else None
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    current: Municipality | None = None
    while True:
        making, making_cpu = time.perf_counter(), time.process_time()
        chunk = list(islice(stream, CHUNK))
        made += time.perf_counter() - making
        made_cpu += time.process_time() - making_cpu
        if not chunk:
            break
        for letter in chunk:
            if letter.municipality is not current:
                if current is not None:
                    cut(current)
                current, sequence = letter.municipality, 0
            spec = letter.spec
            names, digest = _templates_of(templates, spec, sources)
            pending.append(
                LetterToPrint(
                    spec,
                    decision_id=letter.decision_id,
                    document_number=letter.document_number,
                    postal_code=letter.postal_code,
                    templates=names,
                    template_sha256=digest,
                )
            )
            if len(pending) >= options.volume_max_letters:
                cut(current)
            count += 1
    if current is not None:
        cut(current)
    for path in written:
        folder.publish_volume(str(path))
    finished, cpu = time.perf_counter(), time.process_time() - cpu
    profile = ""
    if profiler:
        profiler.disable()
        profile = _profile_text(profiler)
    pdf_bytes = sum(path.stat().st_size for path in written)
    other_bytes = sum(
        path.stat().st_size
        for volume in written
        for path in (
            volume.with_suffix(".csv"),
            volume.with_suffix(".json"),
            volume.with_name(f"{volume.name}.sha256"),
        )
    )
    results.put(
        RenderResult(
            letters=count,
            started=started,
            finished=finished,
            made_seconds=made,
            made_cpu=made_cpu,
            cpu_seconds=cpu,
            texts_seconds=templates.seconds,
            layout_seconds=layout.seconds,
            volumes=len(written),
            pages=pages,
            pdf_bytes=pdf_bytes,
            other_bytes=other_bytes,
            peak_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            profile=profile,
            draw_cpu=layout.draw_cpu,
            save_cpu=layout.save_cpu,
        )
    )


_CATEGORIES = (
    ("letter templates (jinja2, babel, adapters/printing/text.py)",
     ("/jinja2/", "/babel/", "letters/templates", "adapters/printing/text.py",
       "domain/letters.py")),
    ("layout (adapters/printing/pdf.py)", ("adapters/printing/pdf.py",)),
    ("reportlab", ("/reportlab/",)),
    ("volumes (adapters/printing/print_volume.py)", ("adapters/printing/print_volume.py",)),
    ("dataclasses.asdict, copy (the volumes' JSON manifests)", ("/dataclasses.py", "/copy.py")),
    ("making the synthetic letters (bench)", ("bench/render.py", "/random.py", "synthetic")),
)  # fmt: skip


def _profile_text(profiler: cProfile.Profile) -> str:
    stats = pstats.Stats(profiler)
    own: dict[str, float] = defaultdict(float)
    entries = cast(dict[tuple[str, int, str], tuple[Any, ...]], stats.stats)  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, tottime, *_) in entries.items():
        where = f"{filename}:{function}"
        category = next(
            (name for name, marks in _CATEGORIES if any(mark in where for mark in marks)),
            "built-ins and other Python (zlib, hashlib, os.fsync, ...)",
        )
        own[category] += tottime
    total = sum(own.values())
    lines = [f"cProfile (inflates Python calls): {total:.1f} s of own time by package:"]
    lines += [f"  {seconds:6.2f} s  {seconds / total:4.0%}  {name}"
              for name, seconds in sorted(own.items(), key=lambda item: -item[1])]  # fmt: skip
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    lines += ["  " + line for line in out.getvalue().splitlines()[6:] if line.strip()]
    return "\n".join(lines)


def run_engine(
    total: int, processes: int, *, profile: bool = False, phases: bool = False
) -> list[RenderResult]:
    """``total`` letters rendered by ``processes`` fresh processes, each into its own folder."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="render-", dir=OUT) as folder:
        settings = load_settings(REPO / "config.toml", environ={})
        shares = parts(plan(settings, total), total, processes)
        barrier = context.Barrier(processes)
        results: Queue[RenderResult] = context.Queue()
        workers: list[BaseProcess] = [
            context.Process(
                target=render_job,
                args=(
                    RenderJob(total, share, Path(folder) / f"p{n}", profile, phases),
                    barrier,
                    results,
                ),
            )
            for n, share in enumerate(shares)
        ]
        for worker in workers:
            worker.start()
        collected = [results.get() for _ in workers]
        for worker in workers:
            worker.join()
            if worker.exitcode:
                raise SystemExit(f"a rendering process failed (exit code {worker.exitcode})")
    return collected


@dataclass(slots=True)
class EngineFigures:
    label: str
    processes: int
    letters: int
    seconds: float  # wall, making the letters left out
    made_seconds: float
    cpu_seconds: float
    texts_seconds: float
    layout_seconds: float
    volumes: int
    pages: int
    pdf_bytes: int
    other_bytes: int
    peak_rss: int  # the largest of the processes
    spread: float  # how far apart the processes finished (wall s)

    @property
    def rate(self) -> float:
        return self.letters / self.seconds

    @property
    def per_core(self) -> float:
        return self.rate / self.processes

    @classmethod
    def of(cls, label: str, results: Sequence[RenderResult]) -> EngineFigures:
        started = min(r.started for r in results)
        ends = [r.finished - r.made_seconds for r in results]
        ended = max(ends)
        return cls(
            label=label,
            processes=len(results),
            letters=sum(r.letters for r in results),
            seconds=ended - started,
            made_seconds=max(r.made_seconds for r in results),
            cpu_seconds=sum(r.cpu_seconds - r.made_cpu for r in results),
            texts_seconds=sum(r.texts_seconds for r in results),
            layout_seconds=sum(r.layout_seconds for r in results),
            volumes=sum(r.volumes for r in results),
            pages=sum(r.pages for r in results),
            pdf_bytes=sum(r.pdf_bytes for r in results),
            other_bytes=sum(r.other_bytes for r in results),
            peak_rss=max(r.peak_rss for r in results),
            spread=ended - min(ends),
        )


# -- the peer: WeasyPrint --------------------------------------------------------------------------

PEER_CSS = """
@font-face { font-family: LetterSans; src: url("REGULAR"); }
@font-face { font-family: LetterSans; font-weight: bold; src: url("BOLD"); }
@page {
  size: A4;
  margin: 27mm 20mm 25mm 25mm;
  @bottom-left { content: string(reference); font: 7.5pt LetterSans;
                 vertical-align: bottom; padding-bottom: 10mm; }
  @bottom-right { content: string(page-label) " " counter(page) "/" counter(pages);
                  font: 7.5pt LetterSans; vertical-align: bottom; padding-bottom: 10mm; }
}
html { font-family: LetterSans; font-size: 10pt; line-height: 14pt; }
body { margin: 0; }
.letter { position: relative; break-before: page; padding-top: 70mm;
          string-set: reference attr(data-reference), page-label attr(data-page); }
.letter:first-child { break-before: auto; }
.letterhead { position: absolute; top: -13mm; left: 0; font-size: 8.5pt; line-height: 10.5pt; }
.letterhead b { display: block; font-size: 13pt; line-height: 17pt; }
.window { position: absolute; top: 18mm; left: 5mm; width: 75mm; height: 42mm; }
.window .sender { font-size: 7pt; line-height: 9pt; margin-top: 2.5mm; }
.window .address { position: absolute; top: 16mm; font-size: 11pt; line-height: 13.2pt; }
.info { position: absolute; top: 24mm; left: 100mm; margin: 0; }
.info dt { font-size: 7.5pt; line-height: 10pt; }
.info dd { font-size: 9pt; line-height: 14pt; margin: 0; }
.fold { position: absolute; left: -21mm; width: 5mm; border-top: 0.3pt solid black; }
h1 { font-size: 11pt; line-height: 14pt; margin: 0; break-after: avoid; }
.salutation { margin-top: 14pt; break-after: avoid; }
p { margin: 7pt 0 0; orphans: 2; widows: 2; }
ul { margin: 3pt 0 0; padding-left: 5mm; }
li { margin-top: 3pt; }
.closing { margin-top: 14pt; break-inside: avoid; }
.language + .language { break-inside: avoid; }
hr { border: 0; border-top: 0.4pt solid black; margin: 10pt 0; }
"""

PEER_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
{% for l in letters %}
<section class="letter" data-reference="{{ l.reference }}" data-page="{{ l.page_label }}">
<div class="letterhead"><b>{{ l.name }}</b>{{ l.sender.department }}<br>
{{ l.sender.street }} {{ l.sender.house_number }}<br>{{ l.sender.postal_code }} {{ l.sender.locality }}</div>
<div class="window"><div class="sender">{{ l.name }} · {{ l.sender.department }}</div>
<div class="address">{% for line in l.address %}{{ line }}<br>{% endfor %}</div></div>
<dl class="info">{% for label, value in l.info %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}</dl>
<div class="fold" style="top: 78mm"></div><div class="fold" style="top: 121.5mm; width: 7mm">
</div><div class="fold" style="top: 183mm"></div>
{% for text in l.texts %}
<div class="language">{% if not loop.first %}<hr>{% endif %}
<h1>{{ text.subject }}</h1>
<p class="salutation">{{ text.salutation }}</p>
{% for p in text.body %}
{% if p.bullet %}{% if loop.first or not loop.previtem.bullet %}<ul>{% endif %}<li>{{ p.text }}</li>
{% if loop.last or not loop.nextitem.bullet %}</ul>{% endif %}
{% else %}<p>{{ p.text }}</p>{% endif %}
{% endfor %}
<p class="closing">{% for line in text.closing %}{{ line }}{% if not loop.last %}<br>{% endif %}{% endfor %}</p>
</div>
{% endfor %}
</section>
{% endfor %}
</body></html>
"""  # noqa: E501 - HTML


def _label(languages: Sequence[Language], key: str) -> str:
    return " / ".join(dict.fromkeys(LABELS[language][key] for language in languages))


def _peer_values(letter: Letter, texts: Sequence[LetterText]) -> dict[str, Any]:
    """What the HTML template needs: the engine's texts and the letter's fixed parts."""
    spec, sender = letter.spec, letter.municipality.sender
    languages = spec.languages
    info = [(_label(languages, "date"), long_date(spec.letter_date, languages[0])),
            (_label(languages, "reference"), spec.reference)]  # fmt: skip
    if sender.phone:
        info.append((_label(languages, "phone"), sender.phone))
    if sender.email:
        info.append((_label(languages, "email"), sender.email))
    return {
        "name": letter.municipality.name,
        "sender": sender,
        "address": spec.address_lines,
        "info": info,
        "reference": f"{_label(languages, 'reference')} {spec.reference}",
        "page_label": _label(languages, "page"),
        "texts": texts,
    }


@dataclass(frozen=True, slots=True)
class PeerJob:
    mode: str  # "per letter" or "one document"
    letters: tuple[Letter, ...]  # the letters the peer renders, a sample of the engine's
    output_dir: Path


@dataclass(frozen=True, slots=True)
class PeerResult:
    mode: str
    letters: int
    seconds: float
    pages: int
    engine_pages: int  # the same letters' pages as the engine lays them out
    pdf_bytes: int
    peak_rss: int


def peer_job(job: PeerJob, results: Queue[PeerResult]) -> None:
    from weasyprint import CSS, HTML  # the peer only (untyped: see the mypy overrides)
    from weasyprint.text.fonts import FontConfiguration

    settings = load_settings(REPO / "config.toml", environ={})
    templates = checked_templates(settings)
    chosen = job.letters
    texts = [
        [
            templates.text(letter.spec, language, letter.municipality)
            for language in letter.spec.languages
        ]
        for letter in chosen
    ]
    layout = LetterLayout(settings.print_options.window)
    engine_pages = sum(layout.prepared(letter_texts).page_count for letter_texts in texts)
    font_config = FontConfiguration()
    css = CSS(
        string=PEER_CSS.replace("REGULAR", (FONTS / "DejaVuSans.ttf").as_uri()).replace(
            "BOLD", (FONTS / "DejaVuSans-Bold.ttf").as_uri()
        ),
        font_config=font_config,
    )
    html = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(PEER_HTML)
    job.output_dir.mkdir(parents=True, exist_ok=True)

    def render(batch: Sequence[int], target: Path) -> int:
        values = [_peer_values(chosen[i], texts[i]) for i in batch]
        markup = html.render(title=target.stem, letters=values)
        document = HTML(string=markup).render(stylesheets=[css], font_config=font_config)
        document.write_pdf(target)
        return len(document.pages)

    render([0], job.output_dir / "warm-up.pdf")  # fonts and style sheets loaded, as warm as ours
    (job.output_dir / "warm-up.pdf").unlink()
    started = time.perf_counter()
    if job.mode == "per letter":
        pages = sum(render([i], job.output_dir / f"letter-{i:06d}.pdf") for i in range(len(chosen)))
    else:
        pages = render(range(len(chosen)), job.output_dir / "letters.pdf")
    seconds = time.perf_counter() - started
    results.put(
        PeerResult(
            mode=job.mode,
            letters=len(chosen),
            seconds=seconds,
            pages=pages,
            engine_pages=engine_pages,
            pdf_bytes=sum(path.stat().st_size for path in job.output_dir.glob("*.pdf")),
            peak_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        )
    )


def sample(total: int, count: int) -> tuple[Letter, ...]:
    """``count`` of the run's ``total`` letters, spread evenly (the first would all be Gent's)."""
    settings = load_settings(REPO / "config.toml", environ={})
    indexes = sorted({k * total // count for k in range(count)})
    return tuple(letters(settings, plan(settings, total), iter(indexes)))


def run_peer(mode: str, chosen: Sequence[Letter]) -> PeerResult:
    """WeasyPrint rendering ``chosen`` in ``mode``, in a fresh process (its own peak RSS)."""
    OUT.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="render-peer-", dir=OUT) as folder:
        results: Queue[PeerResult] = context.Queue()
        worker = context.Process(
            target=peer_job, args=(PeerJob(mode, tuple(chosen), Path(folder)), results)
        )
        worker.start()
        result = results.get()
        worker.join()
    return result


# -- the report -----------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import reportlab

    accelerated = "active" if accelerator_active() else "NOT active"
    route = "fast" if LetterLayout().route == FAST_ROUTE else "public API only: an untested release"
    return (
        f"{model}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}; "
        f"reportlab {reportlab.Version} (rl_accel C extension {accelerated}; {route} route); "
        f"WeasyPrint {importlib.metadata.version('weasyprint')}, "
        f"pydyf {importlib.metadata.version('pydyf')}"
    )


def _mb(value: int) -> str:
    return f"{value / MB:,.0f}"


def print_engine(rows: Sequence[EngineFigures]) -> None:
    print()
    print(
        "| run | processes | letters | wall s | letters/s | per core | CPU use | texts s "
        "| layout s | draw + files s | volumes | pages | PDF bytes/letter | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in rows:
        drawn = f.cpu_seconds - f.texts_seconds - f.layout_seconds  # CPU: wall would count I/O
        print(
            f"| {f.label} | {f.processes} | {f.letters:,} | {f.seconds:.1f} | {f.rate:,.0f} | "
            f"{f.per_core:,.0f} | {f.cpu_seconds / f.seconds / f.processes:.0%} | "
            f"{f.texts_seconds:.1f} | {f.layout_seconds:.1f} | {drawn:.1f} | {f.volumes} | "
            f"{f.pages:,} | {f.pdf_bytes / f.letters:,.0f} | {_mb(f.peak_rss)} |"
        )


def print_peer(rows: Sequence[PeerResult]) -> None:
    print()
    print("| peer mode | letters | s | letters/s | pages (ours for the same letters) "
          "| PDF bytes/letter | peak RSS MB |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for p in rows:
        print(f"| WeasyPrint, {p.mode} | {p.letters:,} | {p.seconds:.1f} | "
              f"{p.letters / p.seconds:,.1f} | {p.pages:,} ({p.engine_pages:,}) | "
              f"{p.pdf_bytes / p.letters:,.0f} | {_mb(p.peak_rss)} |")  # fmt: skip


def print_phases(r: RenderResult) -> None:
    """CPU time per letter by phase (process_time), making the letters left out."""
    cpu = r.cpu_seconds - r.made_cpu
    other = cpu - r.texts_seconds - r.layout_seconds - r.draw_cpu - r.save_cpu
    per = 1e6 / r.letters
    print(
        f"{r.letters:,} letters, {r.pages:,} pages, {r.pdf_bytes / r.letters:,.0f} PDF "
        f"bytes/letter; CPU {cpu:.2f} s = {cpu * per:,.0f} us/letter ({r.letters / cpu:,.0f} "
        f"letters/s): texts {r.texts_seconds * per:,.0f}, layout {r.layout_seconds * per:,.0f}, "
        f"draw {r.draw_cpu * per:,.0f}, save {r.save_cpu * per:,.0f}, other (cover, manifests, "
        f"files) {other * per:,.0f} us; peak RSS {_mb(r.peak_rss)} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--letters", type=int, default=20_000, help="letters in the timed runs")
    parser.add_argument(
        "--peer-letters", type=int, default=300, help="letters WeasyPrint renders in each mode"
    )
    parser.add_argument(
        "--memory-letters",
        type=int,
        default=50_000,
        help="letters in the extra run that shows memory stays flat (0: none)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile a run of --profile-letters"
    )
    parser.add_argument("--profile-letters", type=int, default=5_000)
    parser.add_argument(
        "--only-ours",
        action="store_true",
        help="one process of --letters only (no peer, no 2 processes): CPU per letter by phase",
    )
    args = parser.parse_args()
    if args.letters < 2 or args.peer_letters < 1:
        parser.error("--letters must be at least 2 and --peer-letters at least 1")
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    print(machine())
    print(
        f"letters of {AS_OF}, seed {SEED}; volumes of at most 1,000 letters, fsynced and "
        "renamed into place as a run does; making the letters is not timed",
        flush=True,
    )

    if args.only_ours:
        print_phases(run_engine(args.letters, 1, phases=True)[0])
        return
    rows: list[EngineFigures] = []
    print(f"reminders, 1 process, {args.letters:,} letters ...", flush=True)
    rows.append(EngineFigures.of("reminders", run_engine(args.letters, 1)))
    print(f"reminders, 2 processes, {args.letters:,} letters ...", flush=True)
    rows.append(EngineFigures.of("reminders", run_engine(args.letters, 2)))
    if args.memory_letters:
        print(f"reminders, 1 process, {args.memory_letters:,} letters (memory) ...", flush=True)
        rows.append(EngineFigures.of("reminders", run_engine(args.memory_letters, 1)))
    peers: list[PeerResult] = []
    for mode in ("per letter", "one document"):
        print(f"WeasyPrint, {mode}, {args.peer_letters:,} letters ...", flush=True)
        peers.append(run_peer(mode, sample(args.letters, args.peer_letters)))

    print_engine(rows)
    print_peer(peers)
    one, two = rows[0], rows[1]
    print(f"\nmaking the synthetic letters, not counted above: {one.made_seconds:.1f} s "
          f"for {one.letters:,}; manifests and checksums {one.other_bytes / one.letters:,.0f} "
          f"bytes/letter; {one.pages / one.letters:.2f} pages/letter; with 2 processes, the "
          f"second finished {two.spread:.2f} s after the first")  # fmt: skip
    fastest = max(peers, key=lambda p: p.letters / p.seconds)
    peer_rate = fastest.letters / fastest.seconds
    ratio = one.per_core / peer_rate
    speed_up = two.rate / one.rate
    peak = max(row.peak_rss for row in rows)
    largest = max(rows, key=lambda row: row.letters)

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(
        f"\nreminders/peer per core: {ratio:,.0f}x (ours {one.per_core:,.0f} letters/s, "
        f"WeasyPrint {peer_rate:,.1f} letters/s {fastest.mode}); 2 processes: {speed_up:.2f}x "
        f"one process; peak RSS {_mb(one.peak_rss)} MB for {one.letters:,} letters, "
        f"{_mb(largest.peak_rss)} MB for {largest.letters:,}"
    )
    print(
        f"goals: >= 1,000 letters/s per core: {one.per_core:,.0f} "
        f"({verdict(one.per_core >= 1000)}; "
        f"{two.per_core:,.0f} per core with 2 processes); >= 60x the peer: {ratio:,.0f}x "
        f"({verdict(ratio >= 60)}); >= 1.9x with two processes: {speed_up:.2f}x "
        f"({verdict(speed_up >= 1.9)}); peak < 150 MB: {_mb(peak)} MB ({verdict(peak < 150 * MB)})"
    )
    if args.profile:
        print(f"\nprofile of one process, {args.profile_letters:,} letters:", flush=True)
        result = run_engine(args.profile_letters, 1, profile=True)[0]
        print(result.profile)
    print(f"\nwhole bench: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
