"""Seeded synthetic population and document registry, as the CSV extracts of interfaces.md §1.

Used by `reminders demo`, by tests and by benchmarks (100 to 10 million persons). Everything is
fictional but plausible: valid national numbers (domain.md §3), Belgian addresses with boxes
(§4), languages by municipality (§5) and documents with their legal validity (§1, §2), issued so
that their expiry dates are spread evenly around `as_of`.

The writer streams row by row; its memory does not grow with the number of persons (it keeps a
small ring of recent adults per municipality for guardians, counters per birth date and a cache
of formatted dates, all bounded by the calendar, not by the population). The same spec gives
byte-identical files: the only source of randomness is `random.Random(spec.seed)`.
"""

from __future__ import annotations

import bisect
import csv
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Final

from reminders.domain.registry_rows import DOCUMENT_COLUMNS, PERSON_COLUMNS, PERSON_EMAIL_COLUMNS
from reminders.synthetic.names import (
    DUTCH_LOCALITY_NAMES,
    DUTCH_STREETS,
    FLEMISH,
    FOREIGN_ADDRESSES,
    FRENCH,
    FRENCH_STREETS,
    GERMAN,
    GERMAN_STREETS,
    OTHER_ORIGINS,
    NamePool,
)

KNOWN_POSTAL_AREAS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "44021": (
            ("9000", "Gent"),
            ("9030", "Mariakerke"),
            ("9031", "Drongen"),
            ("9032", "Wondelgem"),
            ("9040", "Sint-Amandsberg"),
            ("9041", "Oostakker"),
            ("9050", "Gentbrugge"),
            ("9051", "Sint-Denijs-Westrem"),
            ("9052", "Zwijnaarde"),
        ),
        "21004": (
            ("1000", "Bruxelles"),
            ("1020", "Laeken"),
            ("1120", "Neder-Over-Heembeek"),
            ("1130", "Haren"),
        ),
        "63023": (("4700", "Eupen"), ("4701", "Kettenis")),
    }
)

LANGUAGES: Final = ("nl", "fr", "de")
MIN_PERSONS: Final = 100
MAX_PERSONS: Final = 10_000_000

# Births run from 1926 to the year before as_of, but never after 2024: python-stdnum guesses the
# century of a national number from the real clock (domain.md §3.3), so a birth in a year after
# today's would not validate.
_FIRST_BIRTH_YEAR: Final = 1926
_LAST_BIRTH_YEAR: Final = 2024
EARLIEST_AS_OF_YEAR: Final = 1990  # leaves enough birth dates for 10 million unique numbers

_COUNTERS_PER_DAY: Final = 499  # 001..997 odd for men, 002..998 even for women (domain.md §3.1)
_NUMBER_SPACES: Final = (0, 40, 20)  # month offset: national number, BIS (sex known), BIS (unknown)

# Share of documents already expired at as_of: up to about six months, like a real register
# where some holders are late to renew.
_EXPIRED_WINDOW_DAYS: Final = 183
_CARD_LICENCE_FROM: Final = date(2010, 7, 7).toordinal()  # domain.md §1.1, first card licences
_PAPER_LICENCE_UNTIL: Final = date(2013, 1, 18).toordinal()  # paper licences issued until 2013
_PAPER_LICENCE_VALID_UNTIL: Final = date(2033, 1, 19).toordinal()  # domain.md §1.5

_INACTIVE_STATUSES: Final = ("revoked", "lost", "lost", "stolen", "stolen")
_BOX_LETTERS: Final = "ABCD"
_PASSPORT_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RESIDENCE_CARD_LETTERS: Final = "ABFKL"  # domain.md §2.4 card types
_GUARDIAN_RING_SIZE: Final = 128


@dataclass(frozen=True, slots=True)
class SyntheticMunicipality:
    """A municipality of the synthetic registry (NIS code, name, official languages, postcodes).

    `postal_areas` lists (postal code, locality) pairs; left empty, it is taken from
    `KNOWN_POSTAL_AREAS`, and an unknown NIS code is a `ValueError`.
    """

    nis_code: str
    name: str
    languages: tuple[str, ...]
    postal_areas: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if len(self.nis_code) != 5 or not self.nis_code.isdigit():
            raise ValueError(f"NIS code must be 5 digits, got {self.nis_code!r}")
        if not self.languages or any(lang not in LANGUAGES for lang in self.languages):
            raise ValueError(
                f"municipality {self.nis_code}: languages must be among {LANGUAGES}, "
                f"got {self.languages!r}"
            )
        if not self.postal_areas:
            known = KNOWN_POSTAL_AREAS.get(self.nis_code)
            if known is None:
                raise ValueError(
                    f"municipality {self.nis_code}: no postal areas given and none known "
                    f"for NIS code {self.nis_code}"
                )
            object.__setattr__(self, "postal_areas", known)


@dataclass(frozen=True, slots=True)
class SyntheticSpec:
    """What to generate: how many persons, from which seed, around which date, where."""

    persons: int
    seed: int
    as_of: date
    municipalities: tuple[SyntheticMunicipality, ...]
    faulty_rows: int = 0
    delimiter: str = ";"
    # Issue 25: the share of persons with an e-mail address and consent (the demo's); 0 writes
    # no e-mail columns at all, so files made before stay byte for byte the same. With faulty
    # rows, one more is a malformed address.
    email_share: float = 0.0

    def __post_init__(self) -> None:
        if not MIN_PERSONS <= self.persons <= MAX_PERSONS:
            raise ValueError(
                f"persons must be between {MIN_PERSONS} and {MAX_PERSONS}, got {self.persons}"
            )
        if not self.municipalities:
            raise ValueError("at least one municipality is needed")
        if self.faulty_rows < 0:
            raise ValueError(f"faulty_rows must not be negative, got {self.faulty_rows}")
        if self.delimiter not in (";", ","):
            raise ValueError(f"delimiter must be ';' or ',', got {self.delimiter!r}")
        if not 0.0 <= self.email_share <= 1.0:
            raise ValueError(f"email_share must be between 0 and 1, got {self.email_share}")
        if self.as_of.year < EARLIEST_AS_OF_YEAR:
            raise ValueError(f"as_of must be in {EARLIEST_AS_OF_YEAR} or later, got {self.as_of}")


@dataclass(frozen=True, slots=True)
class SyntheticCounts:
    """Rows written: valid ones, and the deliberately faulty ones appended to each file."""

    persons: int
    documents: int
    faulty_person_rows: int
    faulty_document_rows: int


def write_synthetic_registry(
    spec: SyntheticSpec, persons_csv: Path, documents_csv: Path
) -> SyntheticCounts:
    """Write persons.csv and documents.csv (interfaces.md §1) for `spec`; return the row counts."""
    with (
        persons_csv.open("w", encoding="utf-8", newline="") as persons_file,
        documents_csv.open("w", encoding="utf-8", newline="") as documents_file,
    ):
        persons = csv.writer(persons_file, delimiter=spec.delimiter, lineterminator="\n")
        documents = csv.writer(documents_file, delimiter=spec.delimiter, lineterminator="\n")
        with_email = spec.email_share > 0
        persons.writerow(
            PERSON_COLUMNS
            if with_email
            else [column for column in PERSON_COLUMNS if column not in PERSON_EMAIL_COLUMNS]
        )
        documents.writerow(DOCUMENT_COLUMNS)
        write_person: Callable[[_Row], object] = persons.writerow
        if with_email:
            write_person = _EmailColumns(spec, persons.writerow)
        generator = _RegistryGenerator(spec, write_person, documents.writerow)
        return generator.run()


def synthetic_national_number(
    rng: random.Random, born: date, *, male: bool, bis: bool = False
) -> str:
    """A valid national register number (rijksregisternummer / numéro de registre national).

    The day counter is drawn from `rng`: odd for men, even for women (domain.md §3.1). With `bis`
    it is a BIS number for a person whose sex is known (month + 40, domain.md §3.2). Compact form,
    11 digits. Uniqueness is the caller's business.
    """
    counter = rng.randrange(1 if male else 2, 999, 2)
    return _national_number(born, counter, 40 if bis else 0)


def _national_number(born: date, counter: int, month_offset: int) -> str:
    """The 11 digits YYMMDDSSSCC; from 2000 on the check covers "2" + the first nine digits."""
    first_nine = (
        (born.year % 100 * 100 + born.month + month_offset) * 100 + born.day
    ) * 1000 + counter
    checked = first_nine + 2_000_000_000 if born.year >= 2000 else first_nine
    return f"{first_nine:09d}{97 - checked % 97:02d}"


def _punctuated(compact: str) -> str:
    """`85073003328` as written by many exports: `85.07.30-033.28`."""
    return f"{compact[0:2]}.{compact[2:4]}.{compact[4:6]}-{compact[6:9]}.{compact[9:11]}"


def _add_years(ordinal: int, years: int) -> int:
    """The day `years` calendar years later (or earlier), 29 February clamped to the 28th.

    Same result as `date + relativedelta(years=years)`, an order of magnitude faster.
    """
    day = date.fromordinal(ordinal)
    try:
        return day.replace(year=day.year + years).toordinal()
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28).toordinal()


class _Scrambler:
    """Unique pseudo-random numbers below `modulus`, from a counter: i -> (i * a + b) mod m.

    `multiplier` is coprime with `modulus`, so the map is a bijection and numbers never repeat
    until the counter wraps, without remembering any issued number.
    """

    __slots__ = ("_count", "_modulus", "_multiplier", "_offset")

    def __init__(self, modulus: int, multiplier: int, offset: int) -> None:
        self._modulus, self._multiplier, self._offset = modulus, multiplier, offset % modulus
        self._count = 0

    def next(self) -> int:
        value = (self._count * self._multiplier + self._offset) % self._modulus
        self._count += 1
        return value


@dataclass(slots=True)
class _Guardian:
    """What a minor takes over from the adult written as their guardian."""

    national_number: str
    born_on: int
    family_name: str
    pool: NamePool
    language: str
    address: tuple[str, str, str, str, str, str]


class _MunicipalityState:
    """Per-municipality drawing rules and the ring of recent adults that can be guardians."""

    __slots__ = (
        "bilingual",
        "guardians",
        "language_cuts",
        "nis_code",
        "other_share",
        "postal_areas",
        "primary_language",
        "ring_position",
    )

    def __init__(self, municipality: SyntheticMunicipality) -> None:
        self.nis_code = municipality.nis_code
        self.primary_language = municipality.languages[0]
        self.bilingual = len(municipality.languages) > 1
        # (upper bound of a uniform draw, language); above the last bound: unknown ("").
        if self.bilingual:  # Brussels: about 45 % fr, 25 % nl, 30 % unknown
            first, second = municipality.languages[0], municipality.languages[1]
            self.language_cuts: tuple[tuple[float, str], ...] = ((0.45, first), (0.70, second))
            self.other_share = 0.30
        else:
            self.language_cuts = ((0.96, self.primary_language),)
            self.other_share = 0.07
        # The first (main) postal area twice as likely as each sub-municipality.
        self.postal_areas = (municipality.postal_areas[0], *municipality.postal_areas)
        self.guardians: list[_Guardian] = []
        self.ring_position = 0

    def remember_guardian(self, guardian: _Guardian) -> None:
        if len(self.guardians) < _GUARDIAN_RING_SIZE:
            self.guardians.append(guardian)
        else:
            self.guardians[self.ring_position] = guardian
            self.ring_position = (self.ring_position + 1) % _GUARDIAN_RING_SIZE


_POOLS_BY_LANGUAGE: Final = {"nl": FLEMISH, "fr": FRENCH, "de": GERMAN}
_STREETS_BY_LANGUAGE: Final = {"nl": DUTCH_STREETS, "fr": FRENCH_STREETS, "de": GERMAN_STREETS}

_Row = Sequence[str]


class _EmailColumns:
    """Adds the `email` and `email_consent` cells to each person row, drawn from a random
    generator of their own: the other cells stay those of the same seed without e-mail. Names
    stay out of the addresses (synthetic, and nothing in them to mask by mistake); the domain
    is example.com (RFC 2606). The faulty-row writer's extra row (see `run`) gets a bad one."""

    def __init__(self, spec: SyntheticSpec, write: Callable[[_Row], object]) -> None:
        self._write, self._share = write, spec.email_share
        self._random = random.Random(spec.seed * 7919 + 25).random
        self._rows = 0
        self._valid_rows = spec.persons + spec.faulty_rows

    def __call__(self, row: _Row) -> object:
        self._rows += 1
        if self._rows > self._valid_rows:  # the extra faulty row: consent, malformed address
            return self._write([*row, f"citizen{self._rows:07d}@@example.com", "ja"])
        if self._random() < self._share:
            consent = "ja" if self._random() < 0.5 else "2026-01-15"
            return self._write([*row, f"citizen{self._rows:07d}@example.com", consent])
        return self._write([*row, "", ""])


class _RegistryGenerator:
    """Draws persons and their documents one at a time and hands each row to a writer."""

    def __init__(
        self,
        spec: SyntheticSpec,
        write_person: Callable[[_Row], object],
        write_document: Callable[[_Row], object],
    ) -> None:
        self._spec = spec
        self._rng = random.Random(spec.seed)
        self._random = self._rng.random
        self._write_person = write_person
        self._write_document_row = write_document
        self._as_of = spec.as_of.toordinal()
        self._as_of_date = spec.as_of
        self._states = [_MunicipalityState(m) for m in spec.municipalities]
        self._documents = 0
        self._iso_cache: dict[int, str] = {}
        self._counters_used: dict[int, int] = {}
        self._first_holder = ""

        last_year = min(spec.as_of.year - 1, _LAST_BIRTH_YEAR)
        self._first_birth = date(_FIRST_BIRTH_YEAR, 1, 1).toordinal()
        self._last_birth = date(last_year, 12, 31).toordinal()
        self._birth_year_starts: list[int] = []
        self._birth_year_lengths: list[int] = []
        self._birth_cumulative: list[float] = []
        total = 0.0
        for year in range(_FIRST_BIRTH_YEAR, last_year + 1):
            start = date(year, 1, 1).toordinal()
            self._birth_year_starts.append(start)
            self._birth_year_lengths.append(date(year + 1, 1, 1).toordinal() - start)
            total += _birth_weight(spec.as_of.year - year)
            self._birth_cumulative.append(total)
        self._birth_total = total
        # Without any adult yet in a municipality, draw adults only (a minor needs a guardian).
        self._adult_limit = _add_years(self._as_of, -20)

        rng = self._rng
        # Multipliers are powers of 3: coprime with 10**k and with 26**2 * 10**6.
        self._eid_numbers = _Scrambler(10**8, 3**16, rng.randrange(10**8))
        self._kids_id_numbers = _Scrambler(10**8, 3**17, rng.randrange(10**8))
        self._licence_numbers = _Scrambler(10**10, 3**20, rng.randrange(10**10))
        self._passport_numbers = _Scrambler(26**2 * 10**6, 3**18, rng.randrange(26**2 * 10**6))
        self._residence_numbers = _Scrambler(10**9, 3**18, rng.randrange(10**9))

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> SyntheticCounts:
        states = self._states
        count = len(states)
        write_person = self._write_person_row
        for index in range(self._spec.persons):
            write_person(states[index % count])
        faulty = self._spec.faulty_rows
        for index in range(faulty):
            self._write_faulty_person(index)
        for index in range(faulty):
            self._write_faulty_document(index)
        faulty_persons = faulty
        if faulty and self._spec.email_share > 0:  # a malformed e-mail address, consented;
            self._write_person(self._fresh_person_row(0))  # last: the rest stays the same
            faulty_persons += 1
        return SyntheticCounts(
            persons=self._spec.persons,
            documents=self._documents,
            faulty_person_rows=faulty_persons,
            faulty_document_rows=faulty,
        )

    # -- persons -------------------------------------------------------------------------------

    def _draw_birth(self) -> int:
        r = self._random
        index = bisect.bisect_right(self._birth_cumulative, r() * self._birth_total)
        index = min(index, len(self._birth_year_starts) - 1)
        return self._birth_year_starts[index] + int(r() * self._birth_year_lengths[index])

    def _allocate(self, born: int, male: bool, space: int) -> tuple[int, int]:
        """A free (birth day, counter) for this sex and number space; a full day moves on."""
        used = self._counters_used
        while True:
            key = (born * 3 + space) * 2 + (0 if male else 1)
            taken = used.get(key, 0)
            if taken < _COUNTERS_PER_DAY:
                used[key] = taken + 1
                # Start each day at its own place in the range, so counters do not all read 001.
                index = (key * 7919 + taken) % _COUNTERS_PER_DAY
                return born, 2 * index + (1 if male else 2)
            born = born + 1 if born < self._last_birth else self._first_birth

    def _write_person_row(self, state: _MunicipalityState) -> None:
        r = self._random
        space_draw = r()
        space = 0 if space_draw >= 0.01 else (1 if space_draw < 0.008 else 2)
        male = r() < 0.5
        born = self._draw_birth()
        if not state.guardians:
            while born > self._adult_limit:
                born = self._draw_birth()
        born, counter = self._allocate(born, male, space)
        born_date = date.fromordinal(born)
        compact = _national_number(born_date, counter, _NUMBER_SPACES[space])
        shown = _punctuated(compact) if r() < 0.10 else compact
        as_of = self._as_of_date
        age = (
            as_of.year
            - born_date.year
            - ((as_of.month, as_of.day) < (born_date.month, born_date.day))
        )

        guardian = None
        if age < 18 and state.guardians:
            guardians = state.guardians
            # Prefer a guardian 18 to 50 years older; after a few tries any adult will do.
            for _ in range(4):
                guardian = guardians[int(r() * len(guardians))]
                if born - 18_262 <= guardian.born_on <= born - 6_575:
                    break

        foreign = False
        if guardian is not None:
            language = guardian.language
            pool = guardian.pool
            family = guardian.family_name if r() < 0.85 else _pick(r, pool.family_names)
        else:
            draw = r()
            language = ""
            for cut, candidate in state.language_cuts:
                if draw < cut:
                    language = candidate
                    break
            if r() < state.other_share:
                pool = OTHER_ORIGINS[int(r() * len(OTHER_ORIGINS))]
                foreign = r() < 0.5
            else:
                pool = _POOLS_BY_LANGUAGE[language or state.primary_language]
            family = _pick(r, pool.family_names)
        given_pool = pool.male_given_names if male else pool.female_given_names
        given = _pick(r, given_pool)
        if r() < 0.3:
            second = _pick(r, given_pool)
            if second != given:
                given = f"{given} {second}"

        status, status_since = self._draw_status(age, born)
        if guardian is not None:
            address = guardian.address
        elif status == "emigrated" and r() < 0.6:
            country, street, postal_code, locality = FOREIGN_ADDRESSES[
                int(r() * len(FOREIGN_ADDRESSES))
            ]
            address = (street, self._house_number(), "", postal_code, locality, country)
        elif status in ("", "resident") and r() < 0.02:
            address = ("", "", "", "", "", "BE")  # resident without a usable address
        else:
            address = self._belgian_address(state, language)

        self._write_person(
            (
                shown,
                family,
                given,
                language,
                *address,
                state.nis_code,
                status,
                status_since,
                guardian.national_number if guardian is not None else "",
            )
        )
        if not self._first_holder:
            self._first_holder = shown
        if (
            20 <= age < 70
            and status in ("", "resident")
            and address[0]
            and address[5] in ("BE", "")
        ):
            state.remember_guardian(_Guardian(compact, born, family, pool, language, address))
        self._write_documents(shown, born, age, foreign, space)

    def _draw_status(self, age: int, born: int) -> tuple[str, str]:
        r = self._random
        draw = r()
        deceased = 0.06 if age >= 75 else 0.01
        if draw >= deceased + 0.03:
            return ("resident" if draw > 0.97 else ""), ""
        if draw < deceased:
            status = "deceased"
        elif draw < deceased + 0.02:
            status = "emigrated"
        else:
            status = "struck_off"
        since = max(born + 1, self._as_of - 1 - int(r() * r() * 1800))
        return status, self._date_text(since, r() < 0.03)

    def _house_number(self) -> str:
        r = self._random
        number = str(1 + int(r() * r() * 200))
        if r() < 0.08:
            return number + _BOX_LETTERS[int(r() * 4)]
        return number

    def _belgian_address(
        self, state: _MunicipalityState, language: str
    ) -> tuple[str, str, str, str, str, str]:
        r = self._random
        postal_code, locality = state.postal_areas[int(r() * len(state.postal_areas))]
        street_language = language if state.bilingual else state.primary_language
        if not street_language:
            street_language = "fr" if r() < 0.6 else "nl"
        if street_language == "nl":
            locality = DUTCH_LOCALITY_NAMES.get(locality, locality)
        street = _pick(r, _STREETS_BY_LANGUAGE[street_language])
        box = ""
        if r() < 0.15:
            draw = r()
            if draw < 0.4:
                box = str(1 + int(r() * 12))
            elif draw < 0.65:
                box = f"{int(r() * 5)}.{1 + int(r() * 4)}"
            elif draw < 0.85:
                box = f"{1 + int(r() * 30):03d}"
            else:
                box = f"{_BOX_LETTERS[int(r() * 2)]}{1 + int(r() * 9)}"
        country = "BE" if r() < 0.95 else ""  # empty: the default, BE
        return street, self._house_number(), box, postal_code, locality, country

    # -- documents -----------------------------------------------------------------------------

    def _write_documents(self, holder: str, born: int, age: int, foreign: bool, space: int) -> None:
        r = self._random
        belgian = space == 0 and not foreign
        if belgian:
            if age >= 12:
                if r() < 0.98:
                    self._eid(holder, born, age)
            elif r() < 0.55:
                self._kids_id(holder, born)
        elif foreign and space == 0 and age >= 12 and r() < 0.95:
            self._residence_card(holder, born)
        if age >= 18 and r() < (0.65 if age < 80 else 0.40):
            self._driving_licence(holder, born)
        if belgian and r() < 0.15:
            self._passport(holder, born, age)

    def _eid(self, holder: str, born: int, age: int) -> None:
        """eID: 6 years from 12, 10 years from 18, 30 years from 75 (domain.md §2.1)."""
        at_18 = _add_years(born, 18)
        at_75 = _add_years(born, 75)

        def validity(issued: int) -> int:
            years = 6 if issued < at_18 else (10 if issued < at_75 else 30)
            return _add_years(issued, years)

        window = 6 * 365 if age < 18 else 3652
        self._document(
            holder, "eid", _add_years(born, 12), window, validity, (6, 10, 30), self._eid_number
        )

    def _kids_id(self, holder: str, born: int) -> None:
        """Kids-ID: 3 years, at most until the day before the 15th birthday (domain.md §2.3)."""
        last_day = _add_years(born, 15) - 1

        def validity(issued: int) -> int:
            return min(_add_years(issued, 3), last_day)

        self._document(holder, "kids_id", born + 30, 3 * 365, validity, (3,), self._kids_id_number)

    def _driving_licence(self, holder: str, born: int) -> None:
        """Card licence, 10 years (domain.md §1.1); some older holders keep a paper one."""
        at_18 = _add_years(born, 18)
        r = self._random
        if (
            at_18 <= _PAPER_LICENCE_UNTIL
            and self._as_of < _PAPER_LICENCE_VALID_UNTIL
            and r() < 0.06
        ):
            last = min(_PAPER_LICENCE_UNTIL, self._as_of)
            issued = at_18 + int(r() * (last - at_18 + 1))
            self._write_document(
                holder, "driving_licence", self._licence_number(), issued, None, ""
            )
            return

        def validity(issued: int) -> int:
            return _add_years(issued, 10)

        self._document(
            holder,
            "driving_licence",
            max(at_18, _CARD_LICENCE_FROM),
            3652,
            validity,
            (10,),
            self._licence_number,
        )

    def _passport(self, holder: str, born: int, age: int) -> None:
        """Passport: 7 years for adults, 5 for minors (domain.md §2.5)."""
        at_18 = _add_years(born, 18)

        def validity(issued: int) -> int:
            return _add_years(issued, 5 if issued < at_18 else 7)

        window = 5 * 365 if age < 18 else 7 * 365
        self._document(
            holder, "passport", born + 30, window, validity, (5, 7), self._passport_number
        )

    def _residence_card(self, holder: str, born: int) -> None:
        """Foreigner's residence card, 5 years (domain.md §2.4, EU and B cards)."""

        def validity(issued: int) -> int:
            return _add_years(issued, 5)

        self._document(
            holder, "residence_card", born + 30, 5 * 365, validity, (5,), self._residence_number
        )

    def _document(
        self,
        holder: str,
        kind: str,
        eligible: int,
        window_days: int,
        validity: Callable[[int], int],
        validity_years: tuple[int, ...],
        number: Callable[[], str],
    ) -> None:
        """The holder's current document, and sometimes the one it renewed.

        The issue date is uniform over the validity period before as_of plus about six months,
        so expiry dates spread evenly from six months ago to a full validity ahead: each night
        sees about the same number of documents expire. A document that would have expired
        before that is renewed (a new one issued shortly before its expiry) until one is current.
        """
        r = self._random
        as_of = self._as_of
        low = max(eligible, as_of - window_days - _EXPIRED_WINDOW_DAYS)
        if low > as_of:
            return
        issued = low + int(r() * (as_of - low + 1))
        expires = validity(issued)
        oldest_current = as_of - _EXPIRED_WINDOW_DAYS
        while expires < oldest_current:
            issued = max(issued + 1, expires - int(r() * 60))
            expires = validity(issued)

        if kind != "kids_id" and r() < 0.04:
            self._renewed_document(holder, kind, eligible, issued, validity, validity_years, number)

        draw = r()
        if draw < 0.02:
            status = _INACTIVE_STATUSES[int(r() * len(_INACTIVE_STATUSES))]
        elif draw < 0.07:
            status = "active"
        else:
            status = ""
        self._write_document(holder, kind, number(), issued, expires, status)

    def _renewed_document(
        self,
        holder: str,
        kind: str,
        eligible: int,
        renewal_issued: int,
        validity: Callable[[int], int],
        validity_years: tuple[int, ...],
        number: Callable[[], str],
    ) -> None:
        """The document replaced by a renewal: it expires shortly after the new one was issued.

        Most carry status `renewed`; some were never marked in the register, and the engine must
        notice the later active document of the same kind (interfaces.md §3, skip `renewed`).
        """
        r = self._random
        expires = renewal_issued + int(r() * 150)
        for years in validity_years:
            issued = _add_years(expires, -years)
            if issued >= eligible and validity(issued) == expires:
                status = "renewed" if r() < 0.85 else ""
                self._write_document(holder, kind, number(), issued, expires, status)
                return

    def _write_document(
        self, holder: str, kind: str, number: str, issued: int, expires: int | None, status: str
    ) -> None:
        belgian_habit = self._random() < 0.03
        self._write_document_row(
            (
                holder,
                kind,
                number,
                self._date_text(issued, belgian_habit),
                "" if expires is None else self._date_text(expires, belgian_habit),
                status,
            )
        )
        self._documents += 1

    def _date_text(self, ordinal: int, belgian_habit: bool) -> str:
        """ISO `YYYY-MM-DD`, or `DD/MM/YYYY` as some Belgian exports write it."""
        iso = self._iso_cache.get(ordinal)
        if iso is None:
            iso = date.fromordinal(ordinal).isoformat()
            self._iso_cache[ordinal] = iso
        if belgian_habit:
            return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"
        return iso

    def _eid_number(self) -> str:
        """12 digits, check = first ten digits mod 97, 0 giving 97 (stdnum.be.eid)."""
        return _with_mod97_check(5_900_000_000 + self._eid_numbers.next())

    def _kids_id_number(self) -> str:
        return _with_mod97_check(6_000_000_000 + self._kids_id_numbers.next())

    def _licence_number(self) -> str:
        return f"{self._licence_numbers.next():010d}"

    def _passport_number(self) -> str:
        letters, digits = divmod(self._passport_numbers.next(), 10**6)
        first, second = divmod(letters, 26)
        return f"{_PASSPORT_LETTERS[first]}{_PASSPORT_LETTERS[second]}{digits:06d}"

    def _residence_number(self) -> str:
        value = self._residence_numbers.next()
        return f"{_RESIDENCE_CARD_LETTERS[value % len(_RESIDENCE_CARD_LETTERS)]}{value:09d}"

    # -- faulty rows ---------------------------------------------------------------------------

    def _fresh_adult_number(self) -> str:
        """A valid national number of an adult that no row of the persons file uses."""
        born = self._draw_birth()
        while born > self._adult_limit:
            born = self._draw_birth()
        born, counter = self._allocate(born, True, 0)
        return _national_number(date.fromordinal(born), counter, 0)

    def _write_faulty_person(self, index: int) -> None:
        """A person row the import must reject, one kind of fault after the other."""
        row = self._fresh_person_row(index)
        fault = index % 5
        if fault == 0:  # check digits that fit neither century
            compact = row[0]
            first_nine = int(compact[:9])
            valid = {97 - first_nine % 97, 97 - (first_nine + 2_000_000_000) % 97}
            wrong = next(c for c in range(1, 98) if c not in valid)
            row[0] = f"{compact[:9]}{wrong:02d}"
        elif fault == 1:
            row[11], row[12] = "deceased", "2021-13-40"
        elif fault == 2:
            row[3] = "en"
        elif fault == 3:
            row[7], row[9] = "123", "BE"
        else:
            row[11] = "moved"
        self._write_person(row)

    def _fresh_person_row(self, index: int) -> list[str]:
        """A valid person row of a number no other row uses (faults are made from it)."""
        r = self._random
        state = self._states[index % len(self._states)]
        compact = self._fresh_adult_number()
        language = state.primary_language
        pool = _POOLS_BY_LANGUAGE[language]
        return [
            compact,
            _pick(r, pool.family_names),
            _pick(r, pool.male_given_names),
            language,
            *self._belgian_address(state, language),
            state.nis_code,
            "",
            "",
            "",
        ]

    def _write_faulty_document(self, index: int) -> None:
        """A document row the import must reject, one kind of fault after the other."""
        holder = self._first_holder
        fault = index % 4
        issued = self._as_of - 400
        issued_text = self._date_text(issued, False)
        expires_text = self._date_text(_add_years(issued, 10), False)
        if fault == 0:  # a valid national number of nobody in persons.csv
            row = (
                self._fresh_adult_number(),
                "eid",
                self._eid_number(),
                issued_text,
                self._date_text(_add_years(issued, 10), False),
                "",
            )
        elif fault == 1:
            row = (holder, "library_card", f"LC{index:08d}", issued_text, expires_text, "")
        elif fault == 2:
            row = (holder, "driving_licence", self._licence_number(), issued_text, "31/02/2027", "")
        else:
            expires_text = self._date_text(_add_years(issued, 7), False)
            row = (
                holder,
                "passport",
                self._passport_number(),
                issued_text,
                expires_text,
                "expired",
            )
        self._write_document_row(row)


def _birth_weight(age: int) -> float:
    """Relative number of residents of this age: flat, thinning out after 60 (a rough pyramid)."""
    if age < 60:
        return 1.0
    if age < 85:
        return 1.0 - (age - 60) * 0.028
    return max(0.02, 0.3 * (1 - (age - 85) / 16))


def _pick(r: Callable[[], float], words: Sequence[str]) -> str:
    return words[int(r() * len(words))]


def _with_mod97_check(first_ten: int) -> str:
    return f"{first_ten:010d}{first_ten % 97 or 97:02d}"
