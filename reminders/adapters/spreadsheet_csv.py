"""Every CSV the product writes for people to open in a spreadsheet (the audit export, the
volumes' manifests, the console's exports), written through one writer that neutralises
formulas (OWASP, "CSV injection").

A spreadsheet takes a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return for the start of a formula, and a formula can open links or run commands on the clerk's
machine. Such a text cell is written with a single quote in front, as OWASP advises: the
spreadsheet shows it as text and runs nothing. Numbers, dates and other cells keep their bytes.
A line with a carriage return in a cell is written with every cell quoted: the csv module
quotes only for the line terminator ``\n``, and a bare CR would end the record for a reader.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

# What a spreadsheet takes for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """``value`` as a cell no spreadsheet runs: text that would start a formula gets a quote
    in front; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SpreadsheetCsv:
    """A CSV writer (comma, ``\\n`` line ends) whose every cell is neutralised."""

    def __init__(self, stream: IO[str], columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self._writer = csv.writer(stream, lineterminator="\n")
        self._quoting_all = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def header(self) -> None:
        self._writer.writerow([neutralised(column) for column in self.columns])

    def row(self, values: Iterable[object]) -> None:
        """One line, the values in the columns' order."""
        cells = [neutralised(value) for value in values]
        if any(isinstance(cell, str) and "\r" in cell for cell in cells):
            self._quoting_all.writerow(cells)
        else:
            self._writer.writerow(cells)

    def record(self, record: Mapping[str, Any]) -> None:
        """One line from a mapping by column name (missing keys are empty cells)."""
        self.row(record.get(column) for column in self.columns)

    def records(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            self.record(record)
