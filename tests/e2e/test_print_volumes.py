"""`reminders run` prints, end to end on SQLite and PostgreSQL: every letter of a run in exactly
one print volume, in mail-sorting order, each volume with a cover sheet, manifests that match
the PDF and a SHA-256; the [print] options; dry runs, previews and failed runs that leave
nothing; `reminders check`; and the re-check that stops a letter to someone who died or moved
since the decision. Synthetic registry only."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.letter_store import LetterStore as SqlLetterStore
from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    LetterRow,
    NightlyRunRow,
    PrintVolumeRow,
)
from reminders.adapters.printing.print_volume import VolumeFolder
from reminders.adapters.printing.render_pool import LocalRendering
from reminders.adapters.printing.template_copy import copy_shipped_templates
from reminders.adapters.printing.text import SHIPPED_TEMPLATES, LetterTemplates
from reminders.adapters.printing.volume_render import (
    MANIFEST_COLUMNS,
    VolumeRenderer,
    print_options_key,
)
from reminders.config import PrintOptions, load_settings
from reminders.domain.due import SkipReason
from reminders.domain.model import DocumentKind, Language, PersonStatus
from reminders.domain.registry_rows import PERSON_COLUMNS
from reminders.domain.volume_job import RenderedVolume, VolumeJob
from reminders.entrypoints.cli import main
from reminders.services.ports import LetterStore, PendingVolume
from reminders.services.print_letters import PrintRequest, print_letters
from reminders.services.run_control import RunControl
from reminders.synthetic import synthetic_national_number
from tests.conftest import REPO
from tests.console_support import add_users, cheap_passwords
from tests.e2e.installed import install
from tests.e2e.test_cli import NATIONAL_NUMBER, invoke
from tests.e2e.test_run import run
from tests.fakes import FakeLetterStore, FakeUnitOfWork, letter_decision, unit_of_work
from tests.pdf_reading import flat, page_count, page_texts

RUN_DATE = "2027-03-01"


@dataclass(frozen=True, slots=True)
class Holding:
    """A synthetic person with one document: a row of each registry extract."""

    key: str
    family_name: str
    given_names: str
    language: str
    street: str
    house_number: str
    box: str
    postal_code: str
    locality: str
    nis: str
    number: str  # the document's number
    kind: str = "eid"
    country: str = "BE"
    status: str = ""
    born: date = date(1980, 1, 1)
    guardian: str = ""  # the key of a parent

    @property
    def expires_on(self) -> str:
        # Each kind's first stage is due before RUN_DATE, its next stage after it.
        return {"eid": "2027-04-15", "kids_id": "2027-04-15", "driving_licence": "2027-05-20"}[
            self.kind
        ]


# Gent's letters exercise the sort: house numbers 2 < 12 < 12A < 100, boxes 1 < 2 < 10, a
# street starting with É (after Z by code point), three postal codes, an address abroad last.
HOLDINGS = (
    Holding("G01", "Peeters", "Jan", "nl", "Kerkstraat", "12", "", "9000", "Gent", "44021", "E01"),
    Holding("G02", "Claes", "An", "nl", "Kerkstraat", "12", "2", "9000", "Gent", "44021", "E02"),
    Holding("G03", "Maes", "Els", "nl", "Kerkstraat", "12", "10", "9000", "Gent", "44021", "E03"),
    Holding("G04", "Wouters", "Tom", "nl", "Kerkstraat", "2", "", "9000", "Gent", "44021", "E04"),
    Holding("G05", "Jacobs", "Lien", "nl", "Kerkstraat", "12A", "", "9000", "Gent", "44021",
            "E05"),
    Holding("G06", "Mertens", "Bart", "nl", "Kerkstraat", "100", "", "9000", "Gent", "44021",
            "L06", kind="driving_licence"),
    Holding("G07", "Willems", "Sara", "nl", "Ajuinlei", "5", "", "9000", "Gent", "44021", "E07"),
    Holding("G08", "Goossens", "Pieter", "nl", "Veldstraat", "1", "", "9000", "Gent", "44021",
            "E08"),
    Holding("G09", "De Smet", "Ann", "nl", "Brugsesteenweg", "30", "", "9030", "Mariakerke",
            "44021", "E09"),
    Holding("G10", "Dubois", "Marc", "nl", "Zwijnaardsesteenweg", "7", "", "9052", "Zwijnaarde",
            "44021", "E10"),
    Holding("G11", "Lambert", "Ine", "nl", "Abdijlaan", "3", "", "9050", "Gentbrugge", "44021",
            "E11"),
    Holding("G12", "Hermans", "Koen", "nl", "Kerkstraat", "12", "1", "9000", "Gent", "44021",
            "E12"),
    Holding("G13", "Peeters", "Lotte", "nl", "Kerkstraat", "12", "", "9000", "Gent", "44021",
            "K13", kind="kids_id", born=date(2019, 8, 2), guardian="G01"),
    Holding("G14", "Van Ørsted", "Zoë", "nl", "Rue de Rivoli", "10", "", "75001", "Paris",
            "44021", "E14", country="FR"),
    Holding("G15", "Maes", "Aline", "nl", "Veldstraat", "9", "", "9000", "Gent", "44021", "E15",
            status="deceased"),
    Holding("G16", "Wouters", "Noor", "nl", "", "", "", "", "", "44021", "E16"),
    Holding("G17", "Verhaeghe", "Renée", "nl", "Étienne Sabbelaan", "4", "", "9000", "Gent",
            "44021", "E17"),
    Holding("B01", "Dubois", "Claire", "fr", "Rue Haute", "3", "2", "1000", "Bruxelles", "21004",
            "E21"),
    Holding("B02", "Claes", "Piet", "nl", "Hoogstraat", "4", "", "1000", "Brussel", "21004",
            "E22"),
    Holding("B03", "Łukasiewicz", "François", "", "Rue Haute", "3", "1", "1000", "Bruxelles",
            "21004", "E23"),
    Holding("B04", "Çelik", "Noëlle", "", "Boulevard Anspach", "20", "", "1000", "Bruxelles",
            "21004", "L24", kind="driving_licence"),
    Holding("U01", "Weiß", "Jürgen", "de", "Hauptstraße", "5", "", "4700", "Eupen", "63023",
            "E31"),
    Holding("U02", "Groß", "Anna", "de", "Bergstraße", "2", "", "4701", "Kettenis", "63023",
            "L32", kind="driving_licence"),
)  # fmt: skip
BY_NUMBER = {holding.number: holding for holding in HOLDINGS}
SKIPPED = {"E15": "deceased", "E16": "no_address"}
LETTERS = {nis: [h.number for h in HOLDINGS if h.nis == nis and h.number not in SKIPPED]
           for nis in ("44021", "21004", "63023")}  # fmt: skip
# The documented order of Gent's Kerkstraat in 9000: numbers numerically, then as text, boxes
# likewise; an address without a box before the boxes of its building.
KERKSTRAAT = ["E04", "E01|K13", "E01|K13", "E12", "E02", "E03", "E05", "L06"]


def _national_numbers() -> dict[str, str]:
    rng = random.Random(2027)
    return {
        h.key: synthetic_national_number(rng, h.born, male=index % 2 == 0)
        for index, h in enumerate(HOLDINGS)
    }


NUMBERS = _national_numbers()


def registry_files() -> tuple[str, str]:
    """persons.csv and documents.csv, rows shuffled so that file order is not mail order."""
    holdings = list(HOLDINGS)
    random.Random(5).shuffle(holdings)
    holdings.sort(key=lambda h: bool(h.guardian))  # parents before their children
    persons = [";".join(PERSON_COLUMNS[:-2])]
    documents = ["national_number;kind;number;issued_on;expires_on;status"]
    for h in holdings:
        guardian = NUMBERS[h.guardian] if h.guardian else ""
        since = "2027-01-10" if h.status else ""
        persons.append(
            f"{NUMBERS[h.key]};{h.family_name};{h.given_names};{h.language};{h.street};"
            f"{h.house_number};{h.box};{h.postal_code};{h.locality};{h.country};{h.nis};"
            f"{h.status};{since};{guardian}"
        )
        documents.append(f"{NUMBERS[h.key]};{h.kind};{h.number};2017-01-01;{h.expires_on};")
    return "\n".join(persons) + "\n", "\n".join(documents) + "\n"


def import_registry(config_file: Path, database_url: str) -> None:
    """`reminders init` and the import of the registry above, in config.toml's folder."""
    folder = config_file.parent
    persons, documents = registry_files()
    (folder / "persons.csv").write_text(persons, encoding="utf-8")
    (folder / "documents.csv").write_text(documents, encoding="utf-8")
    assert invoke(config_file, database_url, "init").exit_code == 0
    for kind in ("persons", "documents"):
        result = invoke(config_file, database_url, "import", kind, str(folder / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert "0 rejected" in result.output, result.output


@dataclass(frozen=True, slots=True)
class Start:
    """What a test's installation holds when `registry` hands it over: the registry imported
    under the example config, and then perhaps the console's users added (console_support),
    then perhaps one run of RUN_DATE."""

    users: bool
    ran: bool

    def build(self, config_file: Path, database_url: str) -> dict[str, Any] | None:
        """Make this start from scratch; returns the run's summary (None: no run)."""
        import_registry(config_file, database_url)
        if self.users:
            add_users(database_url, cheap_passwords())
        return run(config_file, database_url, "--date", RUN_DATE) if self.ran else None


IMPORTED = Start(users=False, ran=False)
# The starts that fixtures layered over `registry` reach, by the fixture: `sealed`
# (test_dispatch_log.py) runs; `console` (test_console.py) adds the users, `logged` runs after.
# A test asking for one gets it from `registry` at once, copied (tests/e2e/installed.py); the
# fixture then finds its work done (`installed`). So no fixture may stand between `registry`
# and them that changes the installation: it would come after the users or the run.
STARTS = {"logged": Start(users=True, ran=True), "sealed": Start(users=False, ran=True),
          "console": Start(users=True, ran=False)}  # fmt: skip
INSTALLED = pytest.StashKey[tuple[Start, dict[str, Any] | None]]()


def installed(request: pytest.FixtureRequest) -> tuple[Start, dict[str, Any] | None]:
    """The start the test's `registry` copied, and its run's summary (a copy of its own)."""
    stash: pytest.Stash = request.node.stash
    return stash.get(INSTALLED, (IMPORTED, None))


@pytest.fixture
def registry(config_file: Path, database_url: str, request: pytest.FixtureRequest) -> Path:
    """An initialised database holding the registry above, under the example config; for a
    test that asks for a fixture of STARTS, the start of that fixture (the deepest asked).

    Copied from this session's installation of that start (tests/e2e/installed.py) when the
    test's folder holds the example config.toml and nothing else; made here otherwise (a test
    that changed its config first)."""
    folder = config_file.parent
    example = (REPO / "config.toml").read_text(encoding="utf-8")
    pristine = [path.name for path in folder.iterdir()] == ["config.toml"]
    if not pristine or config_file.read_text(encoding="utf-8") != example:
        import_registry(config_file, database_url)
        return config_file
    name = next((fixture for fixture in STARTS if fixture in request.fixturenames), "registry")
    start = STARTS.get(name, IMPORTED)
    summary = install(request, name, start.build, config_file, database_url, runs=start.ran)
    request.node.stash[INSTALLED] = (start, summary)
    return config_file


def with_print(config_file: Path, *lines: str) -> None:
    """The config's [print] table with ``lines`` added (each a ``key = value``)."""
    text = config_file.read_text(encoding="utf-8")
    assert text.count("[print]\n") == 1
    for line in lines:
        key = line.split("=")[0].strip()
        text = re.sub(rf"(?m)^{key} = .*$", "", text)
    text = text.replace("[print]\n", "[print]\n" + "\n".join(lines) + "\n")
    config_file.write_text(text, encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Volume:
    """A volume as the print room finds it: the PDF and its manifests."""

    pdf: Path
    manifest: dict[str, Any]
    rows: list[dict[str, str]]

    @property
    def entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.manifest["entries"]
        return entries


def volumes(summary: dict[str, Any]) -> list[Volume]:
    found = []
    for name in summary["volumes"]:
        pdf = Path(name)
        manifest = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        with pdf.with_suffix(".csv").open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
        found.append(Volume(pdf, manifest, rows))
    return found


def output_files(config_file: Path) -> list[Path]:
    out = config_file.parent / "var" / "out"
    return sorted(path for path in out.rglob("*") if path.is_file()) if out.exists() else []


def table_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                row.__tablename__: connection.scalar(select(func.count()).select_from(row)) or 0
                for row in (DecisionRow, LetterRow, PrintVolumeRow, NightlyRunRow)
            }
    finally:
        engine.dispose()


def mail_order(number: str) -> tuple[Any, ...]:
    """The documented sorting key (letter_store.py): Belgian addresses first, by postal code,
    street, house number (numerically, then as text) and box (likewise; none first)."""
    h = BY_NUMBER[number]

    def leading(text: str) -> int:
        digits = re.match(r"\d*", text)
        return int(digits[0]) if digits and digits[0] else 0

    return (h.country != "BE", h.postal_code, h.street, leading(h.house_number),
            h.house_number, leading(h.box), h.box)  # fmt: skip


# -- every letter once, under its final name ---------------------------------------------------


def test_every_letter_is_in_exactly_one_volume_under_its_final_name(
    registry: Path, database_url: str
) -> None:
    """One volume per municipality under output_dir/<NIS>/<date>-run-<id>/, each with its
    manifests and SHA-256 and nothing staged left over; each letter decision is in exactly
    one volume, as the summary and the database count them."""
    summary = run(registry, database_url, "--date", RUN_DATE)
    assert summary["letters"] == sum(len(numbers) for numbers in LETTERS.values()) == 21
    assert summary["skipped"] == {"deceased": 1, "no_address": 1}
    out = (registry.parent / "var" / "out").resolve()
    run_folder = f"{RUN_DATE}-run-{summary['run_id']:06d}"
    assert summary["volumes"] == [
        str(out / nis / run_folder / "volume-001.pdf") for nis in ("44021", "21004", "63023")
    ]
    assert all(Path(path).is_absolute() for path in summary["volumes"])
    sizes = {nis: sealed["tree_size"] for nis, sealed in summary["checkpoints"].items()}
    assert [path.relative_to(out).as_posix() for path in output_files(registry)] == sorted(
        [
            f"{nis}/{run_folder}/volume-001{suffix}"
            for nis in ("44021", "21004", "63023")
            for suffix in (".csv", ".json", ".pdf", ".pdf.sha256")
        ]
        + [f"{nis}/{run_folder}/checkpoint-{size}.txt" for nis, size in sizes.items()]
        + [  # each log published beside its volumes (tlog-tiles: a partial tile and bundle)
            f"{nis}/log/{name}"
            for nis, size in sizes.items()
            for name in ("checkpoint", f"tile/0/000.p/{size}", f"tile/entries/000.p/{size}")
        ]
    )  # no .part file, nothing hidden; the signed checkpoint beside the volumes

    found = volumes(summary)
    references = [entry["reference"] for volume in found for entry in volume.entries]
    assert len(references) == len(set(references)) == summary["letters"]
    for volume in found:
        nis = volume.manifest["municipality_nis"]
        assert volume.pdf.parts[-3] == nis
        numbers = [entry["document_number"] for entry in volume.entries]
        assert sorted(numbers) == sorted(LETTERS[nis])
        assert len(numbers) == summary["municipalities"][nis]["letters"]
        assert volume.manifest["letters"] == len(volume.entries)
        assert volume.manifest["run_id"] == summary["run_id"]
        assert volume.rows == [
            {column: str(entry[column]) for column in MANIFEST_COLUMNS} for entry in volume.entries
        ]
        reference = re.compile(rf"{nis}-{summary['run_id']:06d}-\d{{6}}")
        assert all(reference.fullmatch(entry["reference"]) for entry in volume.entries)
        content = volume.pdf.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        assert volume.manifest["sha256"] == digest
        sha_file = volume.pdf.with_name(volume.pdf.name + ".sha256")
        assert sha_file.read_text(encoding="utf-8") == f"{digest}  {volume.pdf.name}\n"

    counts = table_counts(database_url)
    assert (counts["letter"], counts["print_volume"]) == (21, 3)
    assert counts["decision"] == 23


def test_manifests_are_in_mail_sorting_order_and_match_the_pdf(
    registry: Path, database_url: str
) -> None:
    """The manifest lists the letters in mail-sorting order, the same on both engines; its
    pages are the PDF's: a cover sheet, then each letter from its first_page, showing its
    reference, its recipient and "1/N" .. "N/N" in its footer."""
    summary = run(registry, database_url, "--date", RUN_DATE)
    for volume in volumes(summary):
        numbers = [entry["document_number"] for entry in volume.entries]
        keys = [mail_order(number) for number in numbers]
        assert keys == sorted(keys), numbers
        codes = [entry["postal_code"] for entry in volume.entries]
        belgian = [c for c, n in zip(codes, numbers, strict=True) if BY_NUMBER[n].country == "BE"]
        assert belgian == sorted(belgian)
        assert volume.manifest["letters_per_postal_code"] == {
            code: codes.count(code) for code in sorted(set(codes))
        }

        texts = page_texts(volume.pdf)
        counts = [entry["page_count"] for entry in volume.entries]
        assert len(texts) == 1 + sum(counts) == volume.manifest["pages"]
        firsts = [entry["first_page"] for entry in volume.entries]
        assert firsts == [2 + sum(counts[:index]) for index in range(len(counts))]
        assert volume.entries[0]["reference"] not in texts[0]  # the cover is no letter
        for entry in volume.entries:
            holding = BY_NUMBER[entry["document_number"]]
            first = texts[entry["first_page"] - 1]
            assert entry["reference"] in first
            assert holding.family_name in first
            assert f" 1/{entry['page_count']}" in first
            last = texts[entry["first_page"] + entry["page_count"] - 2]
            assert entry["reference"] in last
            assert f" {entry['page_count']}/{entry['page_count']}" in last

    gent = volumes(summary)[0]
    assert gent.manifest["municipality_nis"] == "44021"
    numbers = [entry["document_number"] for entry in gent.entries]
    kerkstraat = [n for n in numbers if BY_NUMBER[n].street == "Kerkstraat"]
    assert [n if n not in ("E01", "K13") else "E01|K13" for n in kerkstraat] == KERKSTRAAT
    assert numbers[-1] == "E14"  # Paris, after every Belgian address
    assert numbers.index("E17") == numbers.index("E08") + 1  # Étienne after Veldstraat
    cover = flat(page_texts(gent.pdf)[0])
    assert "Printvolume 1" in cover
    assert "Brieven 15" in cover
    assert "Postcodes 9000 - 75001" in cover


def test_a_letter_to_the_parents_and_one_abroad_are_addressed_so(
    registry: Path, database_url: str
) -> None:
    """The Kids-ID letter goes to Lotte's parents; the letter to Paris names the country in
    full in Dutch, in capitals."""
    summary = run(registry, database_url, "--date", RUN_DATE)
    gent = volumes(summary)[0]
    texts = page_texts(gent.pdf)
    first_pages = {e["document_number"]: texts[e["first_page"] - 1] for e in gent.entries}
    assert "Aan de ouders van" in first_pages["K13"]
    assert "Lotte Peeters" in first_pages["K13"]
    assert "Geachte ouders," in first_pages["K13"]
    assert "Geachte Jan Peeters," in first_pages["E01"]
    assert "Aan de ouders van" not in first_pages["E01"]
    for line in ("Zoë Van Ørsted", "Rue de Rivoli 10", "75001 Paris", "FRANKRIJK"):
        assert line in first_pages["E14"], first_pages["E14"]
    assert "FRANKRIJK" not in first_pages["E01"]
    assert "BELGI" not in first_pages["E01"]


# -- the [print] options -------------------------------------------------------------------------


def test_volume_max_letters_splits_a_series_in_order(registry: Path, database_url: str) -> None:
    """With two letters a volume: Gent's 15 letters in 8 volumes, Brussels' 4 in 2, Eupen's
    2 in 1, numbered in order, each with its own cover, manifests and hash; read one after
    the other, the volumes keep the mail-sorting order."""
    with_print(registry, "volume_max_letters = 2")
    summary = run(registry, database_url, "--date", RUN_DATE)
    found = volumes(summary)
    per_municipality: dict[str, list[Volume]] = {}
    for volume in found:
        per_municipality.setdefault(volume.manifest["municipality_nis"], []).append(volume)
    assert {nis: len(v) for nis, v in per_municipality.items()} == {
        "44021": 8,
        "21004": 2,
        "63023": 1,
    }
    for nis, series in per_municipality.items():
        assert [v.pdf.name for v in series] == [f"volume-{n:03d}.pdf" for n in range(1, 9)][
            : len(series)
        ]
        assert [v.manifest["sequence"] for v in series] == list(range(1, len(series) + 1))
        numbers = [entry["document_number"] for v in series for entry in v.entries]
        assert sorted(numbers) == sorted(LETTERS[nis])
        streets = [mail_order(number)[:5] for number in numbers]  # up to the house number
        assert streets == sorted(streets)
        for volume in series:
            assert 1 <= len(volume.entries) <= 2
            assert volume.entries[0]["first_page"] == 2
            assert page_count(volume.pdf) == volume.manifest["pages"]
            digest = hashlib.sha256(volume.pdf.read_bytes()).hexdigest()
            assert volume.pdf.with_name(volume.pdf.name + ".sha256").read_text(
                encoding="utf-8"
            ) == (f"{digest}  {volume.pdf.name}\n")
    assert sum(len(v.entries) for v in found) == summary["letters"] == 21
    assert table_counts(database_url)["print_volume"] == 11
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            planned = connection.scalar(
                select(NightlyRunRow.planned_volumes).where(NightlyRunRow.id == summary["run_id"])
            )
    finally:
        engine.dispose()
    assert planned is not None  # recorded once the letters were decided, before printing
    assert json.loads(planned) == {"44021": 8, "21004": 2, "63023": 1}


def test_duplex_starts_every_letter_on_a_recto(registry: Path, database_url: str) -> None:
    """Duplex: the cover has a blank verso and a letter with an odd number of pages is
    followed by a blank page, so every first_page is odd and the volume has an even number
    of pages."""
    with_print(registry, "duplex = true")
    summary = run(registry, database_url, "--date", RUN_DATE)
    for volume in volumes(summary):
        assert volume.manifest["duplex"] is True
        firsts = [entry["first_page"] for entry in volume.entries]
        assert firsts[0] == 3
        assert all(page % 2 == 1 for page in firsts), firsts
        texts = page_texts(volume.pdf)
        assert len(texts) == volume.manifest["pages"]
        assert len(texts) % 2 == 0
        assert texts[1].strip() == ""  # the back of the cover sheet
        for entry in volume.entries:
            assert entry["reference"] in texts[entry["first_page"] - 1]
            if entry["page_count"] % 2:
                assert texts[entry["first_page"] + entry["page_count"] - 1].strip() == ""


def test_split_by_language_gives_one_series_per_letter_language(
    registry: Path, database_url: str
) -> None:
    """Brussels' letters in French, Dutch and both each get a series of their own; every
    letter of a volume is in that volume's language."""
    with_print(registry, "split_by_language = true")
    summary = run(registry, database_url, "--date", RUN_DATE)
    found = volumes(summary)
    names = {(v.manifest["municipality_nis"], v.pdf.name) for v in found}
    assert names == {
        ("44021", "volume-nl-001.pdf"),
        ("21004", "volume-fr-001.pdf"),
        ("21004", "volume-fr+nl-001.pdf"),
        ("21004", "volume-nl-001.pdf"),
        ("63023", "volume-de-001.pdf"),
    }
    for volume in found:
        assert {entry["language"] for entry in volume.entries} == {volume.manifest["language"]}
    brussels = {v.manifest["language"]: v for v in found if v.pdf.parts[-3] == "21004"}
    assert sorted(e["document_number"] for e in brussels["fr+nl"].entries) == ["E23", "L24"]
    assert [e["document_number"] for e in brussels["fr"].entries] == ["E21"]
    assert [e["document_number"] for e in brussels["nl"].entries] == ["E22"]
    assert sum(len(v.entries) for v in found) == summary["letters"]
    references = [e["reference"] for v in found for e in v.entries]
    assert len(set(references)) == len(references)


# -- nothing written, nothing recorded -----------------------------------------------------------


def test_a_dry_run_writes_no_volume(registry: Path, database_url: str) -> None:
    summary = run(registry, database_url, "--date", RUN_DATE, "--dry-run")
    assert summary["letters"] == 21
    assert summary["volumes"] == []
    assert output_files(registry) == []
    assert table_counts(database_url)["decision"] == 0


def test_a_failed_run_publishes_nothing_and_is_completed_by_the_next(
    registry: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that breaks while recording its letters exits 1, is recorded as failed with its
    decisions kept, and leaves no file under a final name that a print room could pick up;
    the next run completes that same run, and every letter is printed once."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(SqlLetterStore, "record_letters", broken)
    result = invoke(registry, database_url, "run", "--date", RUN_DATE)
    assert result.exit_code == 1, result.output
    assert "the next run or scheduler start resumes it" in result.output
    assert [path for path in output_files(registry) if not path.name.endswith(".part")] == []
    assert table_counts(database_url)["letter"] == 0
    monkeypatch.undo()
    summary = run(registry, database_url, "--date", RUN_DATE)
    assert (summary["run_id"], summary["letters"], summary["attempts"]) == (1, 21, 2)
    assert [path for path in output_files(registry) if path.name.endswith(".part")] == []
    assert table_counts(database_url)["letter"] == 21


def test_preview_writes_a_pdf_and_a_png_and_records_nothing(
    registry: Path, database_url: str, tmp_path: Path
) -> None:
    """`reminders preview` renders one letter (here after a run, so there is something to
    disturb), refuses a stage, document or address it cannot print with exit 2, and leaves
    the decision, letter, volume and run tables and the print room as they were."""
    run(registry, database_url, "--date", RUN_DATE)
    before = table_counts(database_url)
    files_before = output_files(registry)

    out = tmp_path / "preview" / "brussels.pdf"
    out.parent.mkdir()
    result = invoke(
        registry, database_url, "preview", "--document", "eid:e23", "--stage", "first",
        "--date", RUN_DATE, "--out", str(out), "--png",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not NATIONAL_NUMBER.search(result.output)
    assert out.read_bytes().startswith(b"%PDF-")
    png = out.with_suffix(".png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    text = flat(" ".join(page_texts(out)))
    assert "21004-PREVIEW" in text
    assert text.index("Votre carte d\u2019identité") < text.index("Uw identiteitskaart")

    kids = tmp_path / "preview" / "kids.pdf"
    result = invoke(
        registry, database_url, "preview", "--document", "kids_id:K13", "--date", RUN_DATE,
        "--out", str(kids),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Aan de ouders van" in page_texts(kids)[0]
    assert not kids.with_suffix(".png").exists()

    for args, message in (
        (("--document", "eid:E23", "--stage", "second"), "eid has the stages first, expired"),
        (("--document", "eid:NOPE"), "--document eid:NOPE: no such document in the registry"),
        (("--document", "eid:E16"), "the holder has no usable address (no_address)"),
    ):
        result = invoke(registry, database_url, "preview", *args, "--out", str(tmp_path / "x.pdf"))
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert not (tmp_path / "x.pdf").exists()

    assert table_counts(database_url) == before
    assert output_files(registry) == files_before


# -- a municipality's own templates ---------------------------------------------------------------

OWN_SENTENCE = "Gent schrijft deze brief met zijn eigen tekst."


def with_own_template(config_file: Path, nis_code: str, name: str, body_line: str) -> Path:
    """The municipality's own folder with the shipped ``name``, ``body_line`` first in its
    body; config.toml points the municipality to it."""
    folder = config_file.parent / f"letters-{nis_code}"
    copy_shipped_templates(folder, [name])
    path = folder / name
    source = path.read_text(encoding="utf-8")
    anchor = "{% block body %}\n"
    assert anchor in source
    path.write_text(source.replace(anchor, f"{anchor}{body_line}\n\n"), encoding="utf-8")
    text = config_file.read_text(encoding="utf-8")
    entry = f'nis_code = "{nis_code}"\n'
    assert text.count(entry) == 1
    config_file.write_text(
        text.replace(entry, f'{entry}templates = "{folder.name}"\n'), encoding="utf-8"
    )
    return path


def logged_templates(database_url: str) -> dict[str, tuple[str, str]]:
    """Each printed letter's templates and their SHA-256, by document number."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(DocumentRow.number, LetterRow.templates, LetterRow.template_sha256)
                .join(DecisionRow, DecisionRow.id == LetterRow.decision_id)
                .join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
            )
            return {number: (names, digest) for number, names, digest in rows}
    finally:
        engine.dispose()


def test_one_municipalitys_own_template_prints_its_letters_only(
    registry: Path, database_url: str
) -> None:
    """Gent's own eID letter (Dutch): Gent's eID letters say its sentence and log its file's
    SHA-256; Brussels' Dutch eID letter, rendered in the same run by the same processes, keeps
    the shipped text and logs the shipped SHA-256; Gent's driving licence letter is shipped."""
    own = with_own_template(registry, "44021", "eid/first.nl.txt.j2", OWN_SENTENCE)
    with_print(registry, "workers = 1")  # one renderer for every municipality's volumes
    summary = run(registry, database_url, "--date", RUN_DATE)
    shipped = LetterTemplates()
    settings = load_settings(registry, environ={})
    templates = LetterTemplates(settings.template_folders)
    eid = DocumentKind.EID
    own_sha = templates.source_sha256(eid, "first", Language.NL, "44021")
    shipped_sha = shipped.source_sha256(eid, "first", Language.NL, "21004")
    assert own_sha != shipped_sha
    assert templates.source(eid, "first", Language.NL, "44021").path == own

    logged = logged_templates(database_url)
    assert logged["E21"][0] == "eid/first.fr.txt.j2"
    assert logged["E22"] == ("eid/first.nl.txt.j2", shipped_sha)  # Brussels, Dutch
    gent_eid = [h.number for h in HOLDINGS if h.nis == "44021" and h.kind == "eid"]
    for number in set(gent_eid) - set(SKIPPED):
        assert logged[number] == ("eid/first.nl.txt.j2", own_sha), number
    assert logged["L06"][1] == shipped.source_sha256(
        DocumentKind.DRIVING_LICENCE, "first", Language.NL, "44021"
    )

    for volume in volumes(summary):
        nis = volume.manifest["municipality_nis"]
        pages = page_texts(volume.pdf)
        for entry in volume.entries:
            first = flat(pages[entry["first_page"] - 1])
            said = OWN_SENTENCE in first
            expected = nis == "44021" and entry["document_kind"] == "eid"
            assert said is expected, (nis, entry["document_number"])


def test_a_broken_own_template_stops_the_run_before_any_letter(
    registry: Path, database_url: str
) -> None:
    """An own template with a variable the engine does not pass: the run exits 2 naming the
    file, having decided, printed and logged nothing."""
    broken = with_own_template(registry, "21004", "eid/first.fr.txt.j2", "{{ document.surnom }}")
    result = invoke(registry, database_url, "run", "--date", RUN_DATE)
    assert result.exit_code == 2, result.output
    assert f"Error: {broken}: 'dict object' has no attribute 'surnom'" in result.output
    assert table_counts(database_url) == {
        "decision": 0,
        "letter": 0,
        "print_volume": 0,
        "nightly_run": 0,
    }
    assert output_files(registry) == []


# -- reminders check -----------------------------------------------------------------------------


def test_check_passes_on_the_example_and_fails_on_a_broken_override(
    config_file: Path, tmp_path: Path
) -> None:
    """Exit 0 with the shipped templates, saying which file each letter uses; exit 2 naming
    an own template that does not render, before anything else."""
    result = CliRunner().invoke(main, ["check", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "every letter template renders" in result.output
    assert "  eid/first.de.txt.j2" in result.output
    assert " own " not in result.output

    folder = tmp_path / "own-templates"
    copy_shipped_templates(folder, ["residence_card/expired.de.txt.j2", "eid/first.nl.txt.j2"])
    broken = folder / "residence_card" / "expired.de.txt.j2"
    broken.write_text("{% extends '_base.de.txt.j2' %}{% block body %}{{ gebühr }", "utf-8")
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(
        text.replace('# [letters]\n# templates = "letters"', f'[letters]\ntemplates = "{folder}"'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", "--config", str(config_file)])
    assert result.exit_code == 2, result.output
    assert f"Error: {broken}:1: " in result.output
    assert "Traceback" not in result.output

    broken.unlink()
    (folder / "eid" / "frist.nl.txt.j2").write_text("", encoding="utf-8")  # a typo
    result = CliRunner().invoke(main, ["check", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    own = folder / "eid" / "first.nl.txt.j2"
    assert "  eid/first.nl.txt.j2" in result.stdout
    assert f"own {own}" in result.stdout
    assert f"Warning: {folder / 'eid' / 'frist.nl.txt.j2'} is used by no letter" in result.stderr


def test_templates_copy_starts_an_own_folder_and_keeps_what_is_there(tmp_path: Path) -> None:
    """`templates copy DIR NAME...` copies the named shipped templates (a file, a kind's
    folder), never replaces an own file, and names an unknown template (exit 2)."""
    folder = tmp_path / "letters"
    (folder / "eid").mkdir(parents=True)
    edited = folder / "eid" / "first.nl.txt.j2"
    edited.write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["templates", "copy", str(folder), "eid", "_base.fr.txt.j2"])
    assert result.exit_code == 0, result.output
    assert edited.read_text(encoding="utf-8") == "mine"
    assert f"Kept {edited}" in result.output
    copied = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.j2"))
    assert copied == ["_base.fr.txt.j2"] + [
        f"eid/{stage}.{lang}.txt.j2"
        for stage in ("expired", "first")
        for lang in ("de", "fr", "nl")
    ]
    assert (folder / "_base.fr.txt.j2").read_bytes() == (
        SHIPPED_TEMPLATES / "_base.fr.txt.j2"
    ).read_bytes()
    result = CliRunner().invoke(main, ["templates", "copy", str(folder), "eid/frist.nl.txt.j2"])
    assert result.exit_code == 2
    assert "Error: eid/frist.nl.txt.j2: no shipped template" in result.output


# -- the re-check before a letter is printed -----------------------------------------------------


def test_a_letter_the_recheck_stops_leaves_no_trace_in_the_volume(
    config_file: Path, tmp_path: Path
) -> None:
    """A holder who died since the decision, rendered for real: the volume's manifest and
    pages hold only the other letters. (Each reason the re-check gives, and that the letter
    takes no reference: tests/service/test_print_letters.py.)"""
    changed: dict[str, Any] = {"status": PersonStatus.DECEASED}
    reason = SkipReason.DECEASED
    settings = load_settings(config_file, environ={})
    gent = settings.municipality("44021")
    store = FakeLetterStore(
        [
            letter_decision(1, "E1"),
            letter_decision(2, "E2", **changed),
            letter_decision(3, "E3"),
        ]
    )
    port: LetterStore = store  # the fake implements the port
    shop = VolumeFolder(tmp_path / "out")
    templates = LetterTemplates(settings.template_folders)
    printed = print_letters(
        PrintRequest(
            run_id=9,
            as_of=date(2027, 3, 1),
            municipalities=[gent],
            policies=settings.policies,
            print_options=print_options_key(PrintOptions()),
        ),
        unit_of_work(FakeUnitOfWork(letters=port)),
        templates,
        shop,
        LocalRendering(templates, PrintOptions(), workers=1),
        now=lambda: datetime(2027, 3, 1, 1, 30, tzinfo=UTC),
        control=RunControl(),
    )
    (volume_path,) = store.volumes
    shop.publish_volume(volume_path)
    volume = Path(volume_path)
    assert store.skips == [(2, reason)]
    assert printed == 2
    assert [letter.document_number for letter in store.printed] == ["E1", "E3"]
    assert [letter.decision_id for letter in store.printed] == [1, 3]
    manifest = json.loads(volume.with_suffix(".json").read_text(encoding="utf-8"))
    assert [entry["document_number"] for entry in manifest["entries"]] == ["E1", "E3"]
    pages = sum(entry["page_count"] for entry in manifest["entries"])
    assert page_count(volume) == 1 + pages == manifest["pages"]


class BackwardsRendering:
    """A render pool whose volumes finish in the reverse of the order they were submitted, as
    several workers may: each volume renders only once the next one submitted has."""

    volumes_ahead = 3

    def __init__(self, renderer: VolumeRenderer) -> None:
        self.renderer = renderer
        self.waiting: list[tuple[VolumeJob, Future[RenderedVolume]]] = []
        self.rendered: list[int] = []  # volume sequences, in the order they finished

    @contextmanager
    def open(self, volumes: int, letters: int) -> Iterator[BackwardsRendering]:
        yield self

    def submit(self, job: VolumeJob) -> PendingVolume:
        future: Future[RenderedVolume] = Future()
        self.waiting.append((job, future))
        if len(self.waiting) > self.volumes_ahead:  # the pool is full: all finish, newest first
            self.finish()
        return _Finishing(future, self)

    def finish(self) -> None:
        for job, future in reversed(self.waiting):
            future.set_result(self.renderer.render(job))
            self.rendered.append(job.sequence)
        self.waiting = []


class _Finishing:
    """A pending volume that, when the printing step waits for it, lets the pool finish."""

    def __init__(self, future: Future[RenderedVolume], pool: BackwardsRendering) -> None:
        self.future, self.pool = future, pool

    def result(self, timeout: float | None = None) -> RenderedVolume:
        if not self.future.done():
            self.pool.finish()
        return self.future.result(timeout)


def test_volumes_that_finish_out_of_order_are_recorded_in_the_order_they_were_cut(
    config_file: Path, tmp_path: Path
) -> None:
    """Workers finish volumes in any order; the run records them, their letters and the
    letters the re-check stopped before each, in the order it cut them: volume 1 first,
    references ascending, each stop with the volume that follows it."""
    settings = load_settings(config_file, environ={})
    gent = settings.municipality("44021")
    dead, alive = PersonStatus.DECEASED, PersonStatus.RESIDENT
    store = FakeLetterStore(
        [letter_decision(n, f"E{n}", status=dead if n % 5 == 0 else alive) for n in range(1, 31)]
    )
    port: LetterStore = store
    templates = LetterTemplates(settings.template_folders)
    rendering = BackwardsRendering(VolumeRenderer(templates, PrintOptions()))
    printed = print_letters(
        PrintRequest(
            run_id=9,
            as_of=date(2027, 3, 1),
            municipalities=[gent],
            policies=settings.policies,
            volume_max_letters=4,
            print_options=print_options_key(PrintOptions()),
        ),
        unit_of_work(FakeUnitOfWork(letters=port)),
        templates,
        VolumeFolder(tmp_path / "out"),
        rendering,
        now=lambda: datetime(2027, 3, 1, 1, 30, tzinfo=UTC),
        control=RunControl(),
    )
    assert printed == 24  # 30 letters, 6 stopped
    assert rendering.rendered[:4] == [4, 3, 2, 1]  # finished backwards ...
    assert [Path(path).name for path in store.volumes] == [  # ... recorded in order
        f"volume-{n:03d}.pdf" for n in range(1, 7)
    ]
    references = [letter.reference for letter in store.printed]
    assert references == sorted(references)
    assert references[0].endswith("-000001")
    assert references[-1].endswith("-000024")
    assert [decision for decision, _ in store.skips] == [5, 10, 15, 20, 25, 30]
