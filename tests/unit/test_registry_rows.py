"""Registry rows: what a persons.csv or documents.csv value means, and why a row is rejected."""

from __future__ import annotations

from datetime import date

import pytest

from reminders.domain.registry_rows import (
    PERSON_COLUMNS,
    DocumentRecord,
    PersonRecord,
    RowProblem,
    parse_document,
    parse_person,
    parse_registry_date,
)

COUNTRIES = frozenset({"BE", "NL", "FR", "DE", "LU"})
GOOD_PERSON = {
    "national_number": "85.07.30-033.28", "family_name": "Peeters", "given_names": "Jan",
    "language": "nl", "street": "Kerkstraat", "house_number": "12A", "box": "3",
    "postal_code": "9000", "locality": "Gent", "country": "", "municipality_nis": "44021",
    "status": "", "status_since": "", "guardian_national_number": "", "email": "",
    "email_consent": "",
}  # fmt: skip


def person(**changes: str) -> PersonRecord | RowProblem:
    row = {**GOOD_PERSON, **changes}
    return parse_person(tuple(row[column] for column in PERSON_COLUMNS), COUNTRIES)


def document(
    nn: str = "85073003328", kind: str = "eid", number: str = "591-1234567-89",
    issued: str = "2017-06-01", expires: str = "2027-06-01", status: str = "",
) -> DocumentRecord | RowProblem:  # fmt: skip
    return parse_document((nn, kind, number, issued, expires, status))


def test_a_good_person_row_is_normalised() -> None:
    """Defaults apply (country BE, status resident) and the number is compacted."""
    record = person()
    assert isinstance(record, PersonRecord)
    assert record.national_number == "85073003328"
    assert (record.country, record.status, record.language) == ("BE", "resident", "nl")


@pytest.mark.parametrize(
    ("box", "expected"), [("bus 3", "3"), ("Bte 0.1", "0.1"), ("box 001", "001"), ("B2", "B2"),
                          ("bfk. 7", "7"), ("", None)]
)  # fmt: skip
def test_box_words_typed_into_the_box_cell_are_dropped(box: str, expected: str | None) -> None:
    """The letter prints its own box word (domain.md §4.2), so `bus 3` is stored as `3`."""
    record = person(box=box)
    assert isinstance(record, PersonRecord)
    assert record.box == expected


def test_names_lose_doubled_white_space() -> None:
    """bpost wants no double spaces in an address; exports often have them."""
    record = person(family_name="  Van  den   Broeck ", street="Rue  Haute")
    assert isinstance(record, PersonRecord)
    assert (record.family_name, record.street) == ("Van den Broeck", "Rue Haute")


def test_a_resident_without_address_is_still_imported() -> None:
    """Letters to them are skipped later with `no_address`; the person is not rejected."""
    record = person(street="", house_number="", postal_code="", locality="")
    assert isinstance(record, PersonRecord)
    assert record.street is None


def test_a_foreign_address_skips_the_belgian_postal_code_check() -> None:
    """Foreign postal codes follow their own country's rules (domain.md §4.3)."""
    record = person(country="nl", postal_code="1234 AB", locality="Amsterdam")
    assert isinstance(record, PersonRecord)
    assert (record.country, record.postal_code) == ("NL", "1234 AB")


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"national_number": "85.07.30-033.61"}, "national_number", "invalid check digits"),
        ({"national_number": ""}, "national_number", "is empty"),
        ({"family_name": " "}, "family_name", "is empty"),
        ({"language": "en"}, "language", "expected one of nl, fr, de, got 'en'"),
        ({"postal_code": "123"}, "postal_code", "expected 4 digits for a Belgian address"),
        ({"country": "XX"}, "country", "expected an ISO 3166 country code like BE, got 'XX'"),
        ({"municipality_nis": "4402"}, "municipality_nis",
         "expected a 5-digit NIS code, got '4402'"),
        ({"status": "moved"}, "status",
         "expected one of resident, emigrated, deceased, struck_off, got 'moved'"),
        ({"status_since": "2021-13-40"}, "status_since",
         "expected a date like 2027-06-01 or 01/06/2027, got '2021-13-40'"),
        ({"guardian_national_number": "85073003328"}, "guardian_national_number",
         "is the person's own number"),
        ({"guardian_national_number": "17073003385"}, "guardian_national_number",
         "invalid check digits"),
        ({"house_number": "1" * 17}, "house_number", "longer than 16 characters"),
    ],
)  # fmt: skip
def test_bad_person_values_are_rejected_with_column_and_reason(
    changes: dict[str, str], column: str, reason: str
) -> None:
    """Every rejection names the column and says why, in words a clerk understands."""
    assert person(**changes) == RowProblem(column, reason)


def test_a_good_document_row_is_normalised() -> None:
    """Document numbers lose punctuation so one card cannot become two records."""
    record = document(kind="EID", expires="01/06/2027")
    assert record == DocumentRecord(
        "85073003328", "eid", "591123456789", date(2017, 6, 1), date(2027, 6, 1), "active"
    )


def test_a_paper_licence_without_expiry_is_imported() -> None:
    """Paper licences have no expiry date (domain.md §1.5); they are kept, never reminded."""
    record = document(kind="driving_licence", number="A123", issued="", expires="")
    assert isinstance(record, DocumentRecord)
    assert record.expires_on is None


_ONLY_LETTERS_AND_DIGITS = "expected letters and digits only (with spaces, dots, dashes or slashes)"


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"nn": "8507300332"}, "national_number", "expected an 11-digit national number"),
        ({"kind": "library_card"}, "kind",
         "expected one of driving_licence, eid, kids_id, residence_card, passport, "
         "got 'library_card'"),
        ({"kind": ""}, "kind", "is empty"),
        ({"number": " - "}, "number", "is empty"),
        # Formulas for the spreadsheet that opens a manifest or an export (issue 18).
        *[({"number": formula}, "number", _ONLY_LETTERS_AND_DIGITS)
          for formula in ('=HYPERLINK("http://evil")', "+CMD|'CALC'!A0", "@SUM(1+1)*CMD|x",
                          "\t591123", "\r591123", "=1+2", "591'123", "E01;=2")],
        ({"expires": "31/02/2027"}, "expires_on",
         "expected a date like 2027-06-01 or 01/06/2027, got '31/02/2027'"),
        ({"issued": "2028-01-01"}, "expires_on", "expires before it was issued (issued_on)"),
        ({"status": "expired"}, "status",
         "expected one of active, renewed, revoked, lost, stolen, got 'expired'"),
    ],
)  # fmt: skip
def test_bad_document_values_are_rejected_with_column_and_reason(
    changes: dict[str, str], column: str, reason: str
) -> None:
    """Every document rejection names its column."""
    assert document(**changes) == RowProblem(column, reason)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2028-02-29", date(2028, 2, 29)),
        ("29/02/2028", date(2028, 2, 29)),
        ("1/6/2027", date(2027, 6, 1)),
        ("2027-02-29", None),
        ("2027/06/01", None),
        ("20270601", None),  # ISO basic form: too easy to confuse, not in the contract
        ("1899-12-31", None),
    ],
)
def test_registry_dates(text: str, expected: date | None) -> None:
    """ISO and DD/MM/YYYY dates are read; anything else is None."""
    assert parse_registry_date(text) == expected


@pytest.mark.parametrize("consent", ["ja", "yes", "Oui", "1", "x", "2026-11-30", "30/11/2026"])
def test_an_email_address_with_consent_is_kept_normalised(consent: str) -> None:
    """Issue 25: the address the citizen chose e-mail with, its domain lower-cased."""
    record = person(email=" Jan.Peeters@Voorbeeld.BE ", email_consent=consent)
    assert isinstance(record, PersonRecord)
    assert (record.email, record.email_consent) == ("Jan.Peeters@voorbeeld.be", True)


@pytest.mark.parametrize("consent", ["", "nee", "no", "0", "non", "nein"])
def test_without_consent_no_address_is_kept(consent: str) -> None:
    """An empty (or no) consent withdraws it: the import stores no address, so a later
    import with an empty cell deletes the one kept before."""
    record = person(email="jan.peeters@voorbeeld.be", email_consent=consent)
    assert isinstance(record, PersonRecord)
    assert (record.email, record.email_consent) == (None, False)


@pytest.mark.parametrize(
    "email", ["jan.peeters@", "jan peeters@voorbeeld.be", "jan@localhost", "a@b@voorbeeld.be",
              "jan@voorbeeld.invalid", "x" * 250 + "@voorbeeld.be"],
)  # fmt: skip
def test_a_bad_address_rejects_the_row_without_showing_it(email: str) -> None:
    """A bad address is a rejection with its reason (the row is kept as rejected by the
    import), and the reason never repeats the address."""
    problem = person(email=email, email_consent="ja")
    assert isinstance(problem, RowProblem)
    assert problem.column == "email"
    assert "valid" in problem.reason or "longer" in problem.reason
    assert email not in problem.reason
    assert "peeters" not in problem.reason


def test_a_consent_that_says_nothing_clear_is_rejected() -> None:
    problem = person(email="jan.peeters@voorbeeld.be", email_consent="maybe")
    assert problem == RowProblem(
        "email_consent", "expected yes, no, a date like 2027-06-01 or empty, got 'maybe'"
    )
