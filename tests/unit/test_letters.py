"""What a letter says and to whom: the address block in the window (bpost), the recipient's
name lines, minors written to via their parents, the body markup of the templates, and the
long dates the letters print. Synthetic names and addresses only."""

from __future__ import annotations

from datetime import date

import pytest

from reminders.adapters.printing.text import long_date
from reminders.domain.letters import (
    MAX_LINE_CHARACTERS,
    Paragraph,
    PostalAddress,
    address_block,
    is_minor,
    parsed_body,
    recipient_lines,
    writes_to_parents,
)
from reminders.domain.model import DocumentKind, Language

KERKSTRAAT = PostalAddress("Kerkstraat", "12A", "3", "9000", "Gent", "BE")
NO_BOX = PostalAddress("Rue Haute", "7", None, "1000", "Bruxelles", "BE")
ABROAD = PostalAddress("Hauptstraße", "5", None, "10115", "Berlin", "DE")


# -- address_block ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "street_line"),
    [
        (Language.NL, "Kerkstraat 12A bus 3"),
        (Language.FR, "Kerkstraat 12A bte 3"),
        (Language.DE, "Kerkstraat 12A box 3"),
    ],
)
def test_the_box_is_written_with_the_box_word_of_the_letter_language(
    language: Language, street_line: str
) -> None:
    """bus (nl), bte (fr), box (de) between the house number and the box (domain.md §4.2)."""
    lines = address_block(("Emma Peeters",), KERKSTRAAT, language, country_name=None)
    assert lines == ("Emma Peeters", street_line, "9000 GENT")


def test_an_address_without_a_box_has_no_box_word() -> None:
    """No dangling "bus"/"bte" when the register has no box."""
    for language in Language:
        lines = address_block(("Claire Dubois",), NO_BOX, language, country_name=None)
        assert lines == ("Claire Dubois", "Rue Haute 7", "1000 BRUXELLES")


@pytest.mark.parametrize(
    ("locality", "written"),
    [("Gent", "9000 GENT"), ("Liège", "9000 LIÈGE"), ("Sint-Amandsberg", "9000 SINT-AMANDSBERG")],
)
def test_the_locality_is_in_capitals_after_the_postal_code(locality: str, written: str) -> None:
    """One space between the postal code and the locality, the locality in capitals, accents
    kept (É, not E)."""
    address = PostalAddress("Kerkstraat", "1", None, "9000", locality, "BE")
    assert address_block(("A B",), address, Language.NL, country_name=None)[-1] == written


@pytest.mark.parametrize("country_name", [None, "België", "Belgique"])
def test_a_belgian_address_never_names_the_country(country_name: str | None) -> None:
    """Never "BELGIË" or "BELGIQUE" on domestic mail, even when a name is passed."""
    lines = address_block(("Emma Peeters",), KERKSTRAAT, Language.NL, country_name=country_name)
    assert len(lines) == 3
    assert not any("BELGI" in line.upper() for line in lines)


@pytest.mark.parametrize(
    ("language", "country_name", "country_line"),
    [
        (Language.NL, "Duitsland", "DUITSLAND"),
        (Language.FR, "Allemagne", "ALLEMAGNE"),
        (Language.DE, "Deutschland", "DEUTSCHLAND"),
    ],
)
def test_a_foreign_address_ends_with_the_country_in_full_in_capitals(
    language: Language, country_name: str, country_line: str
) -> None:
    """The country in full, in the letter's language, in capitals, on the last line; the
    foreign postal code stays as the destination writes it."""
    lines = address_block(("Jürgen Weiß",), ABROAD, language, country_name=country_name)
    assert lines == ("Jürgen Weiß", "Hauptstraße 5", "10115 Berlin", country_line)


def test_a_foreign_address_without_a_country_name_falls_back_to_the_code() -> None:
    """Never an empty country line: the ISO code when no name is known."""
    lines = address_block(("Jürgen Weiß",), ABROAD, Language.NL, country_name=None)
    assert lines[-1] == "DE"


def test_parents_and_a_foreign_address_make_at_most_five_lines() -> None:
    """The parents line, the name, the street, the place and the country: bpost's maximum of
    five lines, with the parents line first and the country last."""
    for language in Language:
        names = recipient_lines("Lotte", "Janssens", language, to_parents=True)
        lines = address_block(names, ABROAD, language, country_name="Duitsland")
        assert len(lines) == 5
        assert lines[1:] == ("Lotte Janssens", "Hauptstraße 5", "10115 Berlin", "DUITSLAND")


def test_characters_bpost_rejects_are_removed_and_spaces_collapsed() -> None:
    """No / # & § ( ) " and no double spaces in the window (domain.md §4.1)."""
    address = PostalAddress('Rue  "Haute" (centre)', "7 ", "#2", "1000", " Bruxelles ", "BE")
    lines = address_block(("Anne Dupont",), address, Language.FR, country_name=None)
    assert lines == ("Anne Dupont", "Rue Haute centre 7 bte 2", "1000 BRUXELLES")
    assert all("  " not in line for line in lines)


# -- recipient_lines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "parents"),
    [
        (Language.NL, "Aan de ouders van"),
        (Language.FR, "Aux parents de"),
        (Language.DE, "An die Eltern von"),
    ],
)
def test_a_letter_to_the_parents_starts_with_the_parents_line(
    language: Language, parents: str
) -> None:
    """The parents line in the letter's language, then the child's name."""
    assert recipient_lines("Lotte", "Janssens", language, to_parents=True) == (
        parents,
        "Lotte Janssens",
    )
    assert recipient_lines("Lotte", "Janssens", language, to_parents=False) == ("Lotte Janssens",)


def test_a_name_of_exactly_40_characters_is_written_in_full() -> None:
    """Abbreviate only a line longer than 40 characters."""
    given, family = "Marie-Claire Josefien", "Vandenberghe-Smets"
    assert len(f"{given} {family}") == MAX_LINE_CHARACTERS == 40
    assert recipient_lines(given, family, Language.NL, to_parents=False) == (f"{given} {family}",)


def test_a_name_over_40_characters_gets_initials_never_a_shorter_family_name() -> None:
    """First names become initials; the family name is never abbreviated, even when the
    line stays long."""
    given, family = "Marie-Claire Joséphine Élise", "Vandenberghe-Smets"
    assert len(f"{given} {family}") > MAX_LINE_CHARACTERS
    assert recipient_lines(given, family, Language.FR, to_parents=False) == (
        "M. J. É. Vandenberghe-Smets",
    )
    family = "Van den Bossche-Łukasiewicz de Saint-Hubert-Ørsted"  # longer than 40 alone
    (line,) = recipient_lines("Anna Maria", family, Language.NL, to_parents=False)
    assert line == f"A. M. {family}"


def test_a_long_name_of_a_minor_is_abbreviated_on_its_own_line() -> None:
    """The parents line does not count towards the 40 characters of the name line."""
    given, family = "Sofia Valentina Mira", "Vandenbroucke-Desmet"
    assert len(f"{given} {family}") == 41
    assert recipient_lines(given, family, Language.DE, to_parents=True) == (
        "An die Eltern von",
        "S. V. M. Vandenbroucke-Desmet",
    )


# -- is_minor / writes_to_parents --------------------------------------------------------------

BORN = date(2009, 6, 15)


def test_the_day_before_the_18th_birthday_is_still_a_minor() -> None:
    assert is_minor(BORN, date(2027, 6, 14))
    assert writes_to_parents(DocumentKind.EID, BORN, date(2027, 6, 14))


def test_on_the_18th_birthday_one_is_an_adult() -> None:
    assert not is_minor(BORN, date(2027, 6, 15))
    assert not writes_to_parents(DocumentKind.EID, BORN, date(2027, 6, 15))
    assert not writes_to_parents(DocumentKind.PASSPORT, BORN, date(2028, 1, 1))


def test_a_birthday_later_in_the_year_counts_the_year_not_yet_completed() -> None:
    """Born 31 December: an adult only from the 31 December 18 years later."""
    born = date(2009, 12, 31)
    assert is_minor(born, date(2027, 12, 30))
    assert not is_minor(born, date(2027, 12, 31))
    assert not is_minor(born, date(2028, 1, 1))


@pytest.mark.parametrize("born_on", [None, date(1980, 1, 1), date(2020, 5, 5)])
def test_a_kids_id_letter_always_goes_to_the_parents(born_on: date | None) -> None:
    """Kids-IDs whatever the birth date (domain.md §2.3), even an unknown one."""
    assert writes_to_parents(DocumentKind.KIDS_ID, born_on, date(2027, 3, 1))


def test_an_unknown_birth_date_counts_as_an_adult() -> None:
    """A national number with month 00 has no birth date: written to the holder."""
    assert not is_minor(None, date(2027, 3, 1))
    for kind in DocumentKind:
        if kind is not DocumentKind.KIDS_ID:
            assert not writes_to_parents(kind, None, date(2027, 3, 1))


# -- parsed_body ------------------------------------------------------------------------------


def test_paragraphs_are_split_by_empty_lines_and_their_lines_joined() -> None:
    body = "Uw kaart\nvervalt   binnenkort.\n\n\nKom naar het loket.\n"
    assert parsed_body(body) == (
        Paragraph("Uw kaart vervalt binnenkort."),
        Paragraph("Kom naar het loket."),
    )


def test_lines_starting_with_a_dash_are_bullet_items() -> None:
    """A list right after a paragraph line still starts its own items."""
    body = "Breng mee:\n- deze brief\n- een pasfoto\n\nTot ziens."
    assert parsed_body(body) == (
        Paragraph("Breng mee:"),
        Paragraph("deze brief", bullet=True),
        Paragraph("een pasfoto", bullet=True),
        Paragraph("Tot ziens."),
    )


def test_an_indented_line_continues_the_bullet_item_above_it() -> None:
    body = "- een recente pasfoto\n  die voldoet aan de normen\n- uw kaart\nNieuwe alinea."
    assert parsed_body(body) == (
        Paragraph("een recente pasfoto die voldoet aan de normen", bullet=True),
        Paragraph("uw kaart", bullet=True),
        Paragraph("Nieuwe alinea."),
    )


def test_a_dash_without_a_space_is_text_and_an_empty_body_has_no_paragraphs() -> None:
    assert parsed_body("-5 % korting\nen meer") == (Paragraph("-5 % korting en meer"),)
    assert parsed_body("\n \n\t\n") == ()


# -- long_date --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "language", "written"),
    [
        (date(2027, 6, 1), Language.NL, "1 juni 2027"),
        (date(2027, 6, 1), Language.FR, "1er juin 2027"),
        (date(2027, 6, 2), Language.FR, "2 juin 2027"),
        (date(2027, 6, 1), Language.DE, "1. Juni 2027"),
        (date(2027, 3, 21), Language.NL, "21 maart 2027"),
        (date(2027, 3, 11), Language.FR, "11 mars 2027"),
        (date(2027, 3, 1), Language.DE, "1. März 2027"),
        (date(2028, 2, 29), Language.FR, "29 février 2028"),
    ],
)
def test_long_dates_in_each_language(day: date, language: Language, written: str) -> None:
    """French writes the first of the month as "1er", only the first."""
    assert long_date(day, language) == written
