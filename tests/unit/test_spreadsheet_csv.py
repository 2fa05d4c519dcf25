"""The one CSV writer of the product (adapters/spreadsheet_csv.py): a cell a spreadsheet would
take for a formula is written after a quote (OWASP, "CSV injection"); any other cell keeps
its bytes, as the csv module writes it."""

from __future__ import annotations

import csv
import io

import pytest

from reminders.adapters.spreadsheet_csv import SpreadsheetCsv, neutralised

FORMULAS = ('=HYPERLINK("http://evil")', "+CMD|'CALC'!A0", "-2+3", "@SUM(1+1)*CMD|x",
            "\t=1", "\r=1")  # fmt: skip


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_cell_that_would_start_a_formula_is_written_after_a_quote(formula: str) -> None:
    buffer = io.StringIO()
    writer = SpreadsheetCsv(buffer, ("reference", "document_number", "page"))
    writer.header()
    writer.record({"reference": "44021-000001-000001", "document_number": formula, "page": 2})
    (row,) = csv.DictReader(io.StringIO(buffer.getvalue(), newline=""))
    assert row == {
        "reference": "44021-000001-000001", "document_number": "'" + formula, "page": "2"
    }  # fmt: skip


def test_other_cells_keep_the_bytes_the_csv_module_writes() -> None:
    values = ["E01", "Kerkstraat 12", 'say "hi", twice', None, 3, -4, "2027-03-01", "a=b", ""]
    ours, theirs = io.StringIO(), io.StringIO()
    SpreadsheetCsv(ours, [str(i) for i in range(len(values))]).row(values)
    csv.writer(theirs, lineterminator="\n").writerow(values)
    assert ours.getvalue() == theirs.getvalue()


def test_only_text_is_quoted() -> None:
    assert neutralised(-4) == -4  # a number is a number, not a formula
    assert neutralised(None) is None
    assert neutralised("=A1") == "'=A1"
    assert neutralised("'=A1") == "'=A1"  # already text: left alone
