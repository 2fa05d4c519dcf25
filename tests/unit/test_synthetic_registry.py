"""Tests of the seeded synthetic registry generator (reminders.synthetic)."""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from stdnum.be import bis, eid, nn, ssn

from reminders.synthetic import (
    KNOWN_POSTAL_AREAS,
    SyntheticCounts,
    SyntheticMunicipality,
    SyntheticSpec,
    synthetic_national_number,
    write_synthetic_registry,
)
from reminders.synthetic.names import FLEMISH, FRENCH, GERMAN, OTHER_ORIGINS

AS_OF = date(2026, 3, 15)
GENT = SyntheticMunicipality("44021", "Gent", ("nl",))
BRUSSELS = SyntheticMunicipality("21004", "Bruxelles", ("fr", "nl"))
EUPEN = SyntheticMunicipality("63023", "Eupen", ("de",))
FAULTY_ROWS = 9

PERSON_HEADER = [
    "national_number",
    "family_name",
    "given_names",
    "language",
    "street",
    "house_number",
    "box",
    "postal_code",
    "locality",
    "country",
    "municipality_nis",
    "status",
    "status_since",
    "guardian_national_number",
]
DOCUMENT_HEADER = ["national_number", "kind", "number", "issued_on", "expires_on", "status"]

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class Registry:
    """A generated registry, read back: valid rows and the faulty rows appended to each file."""

    counts: SyntheticCounts
    persons_header: list[str]
    documents_header: list[str]
    persons: list[Row]
    documents: list[Row]
    faulty_persons: list[Row]
    faulty_documents: list[Row]


def read_csv(path: Path, delimiter: str = ";") -> tuple[list[str], list[Row]]:
    """The header and the rows of a CSV file; every row must have as many cells as the header."""
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file, delimiter=delimiter)
        header = next(reader)
        rows = []
        for cells in reader:
            assert len(cells) == len(header), f"{path.name} line {reader.line_num}"
            rows.append(dict(zip(header, cells, strict=True)))
    return header, rows


def parse_date(text: str) -> date:
    """ISO `YYYY-MM-DD` or Belgian `DD/MM/YYYY`, as the import accepts."""
    if "/" in text:
        day, month, year = text.split("/")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(text)


def birth_date(national_number: str) -> date:
    """The birth date encoded in a national or BIS number (all generated dates are complete)."""
    born = ssn.get_birth_date(national_number)
    assert isinstance(born, date)
    return born


def age_on(born: date, day: date) -> int:
    """Age in whole years on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def write(spec: SyntheticSpec, directory: Path) -> tuple[SyntheticCounts, Path, Path]:
    """Write the registry of `spec` into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    persons, documents = directory / "persons.csv", directory / "documents.csv"
    return write_synthetic_registry(spec, persons, documents), persons, documents


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """20,000 persons over Gent, Brussels and Eupen, with faulty rows, read back."""
    spec = SyntheticSpec(
        persons=20_000,
        seed=20260315,
        as_of=AS_OF,
        municipalities=(GENT, BRUSSELS, EUPEN),
        faulty_rows=FAULTY_ROWS,
    )
    counts, persons_csv, documents_csv = write(spec, tmp_path_factory.mktemp("registry"))
    persons_header, persons = read_csv(persons_csv)
    documents_header, documents = read_csv(documents_csv)
    return Registry(
        counts=counts,
        persons_header=persons_header,
        documents_header=documents_header,
        persons=persons[:-FAULTY_ROWS],
        documents=documents[:-FAULTY_ROWS],
        faulty_persons=persons[-FAULTY_ROWS:],
        faulty_documents=documents[-FAULTY_ROWS:],
    )


@pytest.fixture(scope="module")
def persons_by_number(registry: Registry) -> dict[str, Row]:
    """Valid persons keyed by their compact national number."""
    return {ssn.compact(person["national_number"]): person for person in registry.persons}


def random_birth_dates(rng: random.Random, count: int) -> list[date]:
    """Seeded birth dates from 1926 to 2024 (stdnum guesses the century from the real clock)."""
    first, last = date(1926, 1, 1).toordinal(), date(2024, 12, 31).toordinal()
    return [date.fromordinal(rng.randint(first, last)) for _ in range(count)]


# -- national numbers --------------------------------------------------------------------------


def test_generated_numbers_agree_with_stdnum_before_and_after_2000() -> None:
    """Generated national numbers validate and stdnum reads back the same birth date and sex."""
    rng = random.Random(97)
    centuries = Counter[bool]()
    for born in random_birth_dates(rng, 3000):
        male = rng.random() < 0.5
        number = synthetic_national_number(rng, born, male=male)
        assert nn.validate(number) == number
        assert ssn.guess_type(number) == "nn"
        assert nn.get_birth_date(number) == born
        assert nn.get_gender(number) == ("M" if male else "F")
        centuries[born.year >= 2000] += 1
    assert centuries[True] > 100
    assert centuries[False] > 100


def test_generated_bis_numbers_are_recognised_as_bis() -> None:
    """With bis=True the number is a BIS number (month + 40) with the same birth date and sex."""
    rng = random.Random(40)
    for born in random_birth_dates(rng, 1000):
        male = rng.random() < 0.5
        number = synthetic_national_number(rng, born, male=male, bis=True)
        assert ssn.guess_type(number) == "bis"
        assert int(number[2:4]) == born.month + 40
        assert bis.get_birth_date(number) == born
        assert bis.get_gender(number) == ("M" if male else "F")


def test_every_person_number_is_valid_and_unique(registry: Registry) -> None:
    """All valid person rows carry distinct, valid numbers, a few BIS, some punctuated."""
    numbers = [person["national_number"] for person in registry.persons]
    compact = [ssn.validate(number) for number in numbers]
    assert len(set(compact)) == len(compact) == registry.counts.persons
    kinds = Counter(ssn.guess_type(number) for number in compact)
    assert set(kinds) == {"nn", "bis"}
    assert 0.005 < kinds["bis"] / len(compact) < 0.02
    # Month + 0 (national number), + 20 (BIS, sex unknown), + 40 (BIS, sex known).
    assert {int(number[2:4]) // 20 for number in compact} == {0, 1, 2}
    punctuated = [number for number in numbers if "." in number]
    assert 0.06 < len(punctuated) / len(numbers) < 0.14
    assert all(nn.format(ssn.compact(number)) == number for number in punctuated)
    years = [birth_date(number).year for number in compact]
    assert min(years) < 1940
    assert max(years) <= 2024
    assert sum(year >= 2000 for year in years) > 0.1 * len(years)


def test_national_numbers_agree_with_the_given_names(registry: Registry) -> None:
    """The counter's parity (the registered sex) matches the sex of every given name."""
    pools = (FLEMISH, FRENCH, GERMAN, *OTHER_ORIGINS)
    male_names = {name for pool in pools for name in pool.male_given_names}
    female_names = {name for pool in pools for name in pool.female_given_names}
    assert not male_names & female_names
    for person in registry.persons:
        gender = ssn.get_gender(person["national_number"])
        if gender is None:  # BIS number with month + 20: sex unknown
            continue
        expected = male_names if gender == "M" else female_names
        assert set(person["given_names"].split(" ")) <= expected, person["given_names"]


# -- addresses, languages, guardians -------------------------------------------------------------


def test_postal_codes_belong_to_the_persons_municipality(registry: Registry) -> None:
    """Every Belgian postal code is one of the person's municipality's postal areas."""
    belgian = [p for p in registry.persons if p["country"] in ("BE", "") and p["postal_code"]]
    assert len(belgian) > 0.9 * len(registry.persons)
    for person in belgian:
        codes = {code for code, _ in KNOWN_POSTAL_AREAS[person["municipality_nis"]]}
        assert person["postal_code"] in codes


def test_languages_follow_the_municipality(registry: Registry) -> None:
    """Brussels is about 45 % fr, 25 % nl, 30 % unknown; elsewhere the area's language or empty."""
    by_municipality: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for person in registry.persons:
        by_municipality[person["municipality_nis"]][person["language"]] += 1
    brussels = by_municipality["21004"]
    total = brussels.total()
    assert abs(brussels["fr"] / total - 0.45) < 0.05
    assert abs(brussels["nl"] / total - 0.25) < 0.05
    assert abs(brussels[""] / total - 0.30) < 0.05
    assert set(by_municipality["44021"]) == {"nl", ""}
    assert set(by_municipality["63023"]) == {"de", ""}
    assert by_municipality["44021"][""] < 0.1 * by_municipality["44021"].total()


def test_minors_have_adult_guardians_from_the_same_municipality(
    registry: Registry, persons_by_number: dict[str, Row]
) -> None:
    """Every minor names a guardian who is an adult person of the file in the same municipality."""
    minors = [p for p in registry.persons if age_on(birth_date(p["national_number"]), AS_OF) < 18]
    assert len(minors) > 0.1 * len(registry.persons)
    for minor in minors:
        guardian = persons_by_number[minor["guardian_national_number"]]
        assert guardian["municipality_nis"] == minor["municipality_nis"]
        assert age_on(birth_date(guardian["national_number"]), AS_OF) >= 18
    adults_with_guardian = [
        p
        for p in registry.persons
        if p["guardian_national_number"] and age_on(birth_date(p["national_number"]), AS_OF) >= 18
    ]
    assert not adults_with_guardian


def test_person_edge_cases_are_present(registry: Registry) -> None:
    """Statuses with dates, residents without address, boxes, abroad and accented names occur."""
    persons = registry.persons
    statuses = Counter(p["status"] for p in persons)
    assert set(statuses) == {"", "resident", "deceased", "emigrated", "struck_off"}
    for person in persons:
        if person["status"] in ("deceased", "emigrated", "struck_off"):
            since = parse_date(person["status_since"])
            assert birth_date(person["national_number"]) < since <= AS_OF
        else:
            assert not person["status_since"]
    address = ("street", "house_number", "postal_code", "locality")
    without_address = [p for p in persons if not any(p[column] for column in address)]
    assert 0.005 < len(without_address) / len(persons) < 0.05
    assert all(p["status"] in ("", "resident") for p in without_address)
    boxes = [p["box"] for p in persons if p["box"]]
    assert 0.08 < len(boxes) / len(persons) < 0.2
    assert {"0.1", "001", "B2"} & set(boxes)
    assert any(re.fullmatch(r"\d+[A-D]", p["house_number"]) for p in persons)
    abroad = [p for p in persons if p["country"] not in ("BE", "")]
    assert abroad
    assert all(p["status"] == "emigrated" for p in abroad)
    text = "".join(p["family_name"] + p["given_names"] for p in persons)
    assert set("éëçïßØŁñ") <= set(text)


# -- documents ---------------------------------------------------------------------------------


def test_document_numbers_are_unique_and_plausible(registry: Registry) -> None:
    """(kind, number) never repeats and every number has its kind's format and check digits."""
    keys = [(d["kind"], d["number"]) for d in registry.documents]
    assert len(set(keys)) == len(keys) == registry.counts.documents
    formats = {
        "driving_licence": r"\d{10}",
        "passport": r"[A-Z]{2}\d{6}",
        "residence_card": r"[A-Z]\d{9}",
        "eid": r"\d{12}",
        "kids_id": r"\d{12}",
    }
    assert {kind for kind, _ in keys} == set(formats)
    for kind, number in keys:
        assert re.fullmatch(formats[kind], number), (kind, number)
        if kind in ("eid", "kids_id"):
            assert eid.validate(number) == number


def test_documents_belong_to_persons_of_the_file(
    registry: Registry, persons_by_number: dict[str, Row]
) -> None:
    """Every valid document's holder is a valid person; there are about 1.3 to 1.7 per person."""
    for document in registry.documents:
        assert ssn.compact(document["national_number"]) in persons_by_number
    assert 1.3 < registry.counts.documents / registry.counts.persons < 1.7


def expected_expiry(kind: str, born: date, issued: date) -> date:
    """Expiry by the legal validity for the holder's age at issue (domain.md §1.1, §2)."""
    age = age_on(born, issued)
    if kind == "eid":
        years = 6 if age < 18 else (10 if age < 75 else 30)
    elif kind == "kids_id":
        return min(issued + relativedelta(years=3), born + relativedelta(years=15, days=-1))
    elif kind == "passport":
        years = 5 if age < 18 else 7
    else:
        years = {"driving_licence": 10, "residence_card": 5}[kind]
    return issued + relativedelta(years=years)


def test_validity_follows_the_holders_age_at_issue(registry: Registry) -> None:
    """expires_on is issued_on plus the validity for the kind and the age at issue."""
    paper = 0
    for document in registry.documents:
        born = birth_date(document["national_number"])
        issued = parse_date(document["issued_on"])
        assert born < issued
        if not document["expires_on"]:  # paper licence: no expiry (domain.md §1.5)
            assert document["kind"] == "driving_licence"
            assert issued < date(2013, 1, 19)
            paper += 1
            continue
        expires = parse_date(document["expires_on"])
        assert expires == expected_expiry(document["kind"], born, issued), document
        if document["kind"] == "eid":
            assert age_on(born, issued) >= 12
        elif document["kind"] == "kids_id":
            assert age_on(born, issued) < 12
        elif document["kind"] == "driving_licence":
            assert age_on(born, issued) >= 18
    assert paper > 0


def test_expiry_dates_are_spread_evenly_around_as_of(registry: Registry) -> None:
    """About documents/3650 active documents expire per day in the coming months."""
    per_30_days = len(registry.documents) / 3650 * 30
    buckets = Counter[int]()
    expired = 0
    for document in registry.documents:
        if document["status"] not in ("", "active") or not document["expires_on"]:
            continue
        days = (parse_date(document["expires_on"]) - AS_OF).days
        if 0 < days <= 180:
            buckets[(days - 1) // 30] += 1
        elif -183 <= days <= 0:
            expired += 1
    for bucket in range(6):
        assert 0.6 * per_30_days < buckets[bucket] < 1.6 * per_30_days, buckets
    assert 3 * per_30_days < expired < 9 * per_30_days


def test_renewed_documents_have_a_later_one_of_the_same_kind(registry: Registry) -> None:
    """An older renewed document comes with a newer document of the same kind and holder."""
    by_holder_kind: defaultdict[tuple[str, str], list[Row]] = defaultdict(list)
    for document in registry.documents:
        by_holder_kind[(document["national_number"], document["kind"])].append(document)
    renewed = [d for d in registry.documents if d["status"] == "renewed"]
    assert 0.01 < len(renewed) / len(registry.documents) < 0.06
    for old in renewed:
        newer = [
            d
            for d in by_holder_kind[(old["national_number"], old["kind"])]
            if d["status"] != "renewed"
            and parse_date(d["issued_on"]) <= parse_date(old["expires_on"])
            and parse_date(d["expires_on"]) > parse_date(old["expires_on"])
        ]
        assert newer, old


def test_document_edge_cases_are_present(registry: Registry) -> None:
    """Inactive statuses, explicit `active` and Belgian DD/MM/YYYY dates occur, a few % each."""
    documents = registry.documents
    statuses = Counter(d["status"] for d in documents)
    assert set(statuses) == {"", "active", "renewed", "revoked", "lost", "stolen"}
    assert statuses[""] > 0.8 * len(documents)
    belgian_dates = [d for d in documents if "/" in d["issued_on"]]
    assert 0.015 < len(belgian_dates) / len(documents) < 0.05
    kinds = Counter(d["kind"] for d in documents)
    assert kinds["eid"] > kinds["driving_licence"] > kinds["passport"] > 0
    assert kinds["kids_id"] > 0
    assert kinds["residence_card"] > 0


# -- faulty rows, files, determinism -----------------------------------------------------------


def test_faulty_rows_are_counted_and_each_fault_is_present(
    registry: Registry, persons_by_number: dict[str, Row]
) -> None:
    """Each file ends with the requested faulty rows, covering every kind of fault."""
    counts = registry.counts
    assert counts.faulty_person_rows == counts.faulty_document_rows == FAULTY_ROWS
    persons = registry.faulty_persons
    assert len(persons) == FAULTY_ROWS
    assert any(not ssn.is_valid(p["national_number"]) for p in persons)
    assert any(p["status_since"] == "2021-13-40" for p in persons)
    assert any(p["language"] == "en" for p in persons)
    assert any(p["postal_code"] == "123" and p["country"] == "BE" for p in persons)
    assert any(p["status"] == "moved" for p in persons)
    documents = registry.faulty_documents
    assert len(documents) == FAULTY_ROWS
    unknown = [d for d in documents if ssn.compact(d["national_number"]) not in persons_by_number]
    assert unknown
    assert all(ssn.is_valid(d["national_number"]) for d in unknown)
    faulty_numbers = {ssn.compact(p["national_number"]) for p in persons}
    assert all(ssn.compact(d["national_number"]) not in faulty_numbers for d in unknown)
    assert any(d["kind"] == "library_card" for d in documents)
    assert any(d["expires_on"] == "31/02/2027" for d in documents)
    assert any(d["status"] == "expired" for d in documents)


def test_files_have_exactly_the_contract_headers(registry: Registry) -> None:
    """The header rows are the columns of interfaces.md §1, in that order."""
    assert registry.persons_header == PERSON_HEADER
    assert registry.documents_header == DOCUMENT_HEADER
    assert len(registry.persons) == registry.counts.persons


def small_spec(seed: int, *, delimiter: str = ";") -> SyntheticSpec:
    """A 1,000-person registry over the three known municipalities."""
    return SyntheticSpec(
        persons=1000,
        seed=seed,
        as_of=AS_OF,
        municipalities=(GENT, BRUSSELS, EUPEN),
        faulty_rows=5,
        delimiter=delimiter,
    )


def sha256(path: Path) -> str:
    """Hex digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    """The same spec twice writes the same bytes; another seed writes other files."""
    first = write(small_spec(1), tmp_path / "first")
    again = write(small_spec(1), tmp_path / "again")
    other = write(small_spec(2), tmp_path / "other")
    assert first[0] == again[0]
    assert sha256(first[1]) == sha256(again[1])
    assert sha256(first[2]) == sha256(again[2])
    assert sha256(first[1]) != sha256(other[1])
    assert sha256(first[2]) != sha256(other[2])


def test_comma_delimiter_writes_the_same_columns(tmp_path: Path) -> None:
    """With delimiter "," the files parse with commas into the contract's columns."""
    counts, persons_csv, documents_csv = write(small_spec(3, delimiter=","), tmp_path)
    persons_header, persons = read_csv(persons_csv, ",")
    documents_header, documents = read_csv(documents_csv, ",")
    assert persons_header == PERSON_HEADER
    assert documents_header == DOCUMENT_HEADER
    assert len(persons) == counts.persons + counts.faulty_person_rows
    assert len(documents) == counts.documents + counts.faulty_document_rows


def test_explicit_postal_areas_serve_an_unknown_municipality(tmp_path: Path) -> None:
    """A municipality outside KNOWN_POSTAL_AREAS works when its postal areas are given."""
    leuven = SyntheticMunicipality("24062", "Leuven", ("nl",), (("3000", "Leuven"),))
    spec = SyntheticSpec(persons=100, seed=5, as_of=date(2024, 6, 1), municipalities=(leuven,))
    counts, persons_csv, _ = write(spec, tmp_path)
    _, persons = read_csv(persons_csv)
    assert counts.persons == len(persons) == 100
    assert {p["postal_code"] for p in persons if p["country"] in ("BE", "")} <= {"3000", ""}
    assert max(birth_date(p["national_number"]).year for p in persons) <= 2023


def test_unknown_municipality_without_postal_areas_is_rejected() -> None:
    """Without postal areas, a NIS code unknown to KNOWN_POSTAL_AREAS is a ValueError naming it."""
    with pytest.raises(ValueError, match="12345"):
        SyntheticMunicipality("12345", "Nowhere", ("nl",))


@pytest.mark.parametrize("persons", [99, 10_000_001])
def test_spec_rejects_a_population_out_of_range(persons: int) -> None:
    """The number of persons must lie between 100 and 10 million."""
    with pytest.raises(ValueError, match="persons"):
        SyntheticSpec(persons=persons, seed=1, as_of=AS_OF, municipalities=(GENT,))


def test_known_postal_areas_cover_gent_brussels_and_eupen() -> None:
    """The three reference municipalities have their postal areas built in."""
    assert ("9052", "Zwijnaarde") in KNOWN_POSTAL_AREAS["44021"]
    assert ("1130", "Haren") in KNOWN_POSTAL_AREAS["21004"]
    assert ("4701", "Kettenis") in KNOWN_POSTAL_AREAS["63023"]
    assert GENT.postal_areas == KNOWN_POSTAL_AREAS["44021"]


def test_an_email_share_adds_the_email_columns_and_leaves_the_rest_alone(
    tmp_path: Path,
) -> None:
    """Issue 25: with `email_share` the persons file has `email` and `email_consent`, about that
    share of persons has both, one more faulty row has a malformed address, and every other
    cell is what the same seed writes without e-mail."""
    plain = write(small_spec(4), tmp_path / "plain")
    spec = SyntheticSpec(
        persons=1000, seed=4, as_of=AS_OF, municipalities=(GENT, BRUSSELS, EUPEN),
        faulty_rows=5, email_share=0.2,
    )  # fmt: skip
    counts, persons_csv, documents_csv = write(spec, tmp_path / "email")
    header, persons = read_csv(persons_csv)
    assert header == [*PERSON_HEADER, "email", "email_consent"]
    assert counts.faulty_person_rows == 6
    assert sha256(documents_csv) == sha256(plain[2])
    _, plain_persons = read_csv(plain[1])
    assert [
        {k: v for k, v in row.items() if not k.startswith("email")} for row in persons[:-1]
    ] == (plain_persons)
    consented = [row for row in persons[: counts.persons] if row["email_consent"]]
    assert 150 <= len(consented) <= 250
    assert all(row["email"].endswith("@example.com") for row in consented)
    assert "@@" in persons[-1]["email"]
    assert persons[-1]["email_consent"] == "ja"
