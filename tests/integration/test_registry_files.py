"""Registry files as a whole: what makes a file unreadable, and how rows stream out of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminders.adapters.registry.registry_files import RawRow, RegistryFile
from reminders.domain.registry_rows import DOCUMENT_COLUMNS, DOCUMENT_REQUIRED
from reminders.errors import InputFileError

HEADER = "national_number;kind;number;issued_on;expires_on;status\n"


def rows(path: Path) -> list[RawRow]:
    with RegistryFile(path, DOCUMENT_COLUMNS, DOCUMENT_REQUIRED) as source:
        return list(source.rows())


def file_with(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "documents.csv"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "documents.csv: is empty: expected a header row with column names"),
        (b"\xef\xbb\xbf\n", "documents.csv: is empty: expected a header row with column names"),
        (b"PK\x03\x04rest", "documents.csv: is a ZIP archive (an Excel .xlsx workbook?)"),
        (b"%PDF-1.7\n", "documents.csv: is a PDF document, not a CSV export"),
        (b"national_number\tkind\tnumber\texpires_on\n",
         "documents.csv:1: expected columns separated by ';' or ','; the header looks "
         "tab-separated"),
        (b"national_number;kind;expires_on\n",
         "documents.csv:1: missing required column 'number' (found: 'national_number', 'kind', "
         "'expires_on')"),
        (b"national_number;kind;number;kind;expires_on\n",
         "documents.csv:1: column 'kind': appears twice in the header"),
        (HEADER.encode() + b"85073003328;eid;1;;2027-01-01;\n\x00\x01\x02\n",
         "documents.csv:3: contains binary data (NUL bytes), not CSV"),
        (HEADER.encode() + b"85073003328;eid;1;;2027-01-01;\nLi\xe8ge;x\n",
         "documents.csv:3: is not UTF-8 text; save it as CSV UTF-8"),
        (HEADER.encode() + b'85073003328;eid;"1;;2027-01-01;\n',
         "documents.csv:2: is not valid CSV"),
    ],
)  # fmt: skip
def test_file_level_problems_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    """Each problem is one message naming the file (and the line or column)."""
    path = file_with(tmp_path, content)
    with pytest.raises(InputFileError) as caught:
        rows(path)
    assert str(caught.value).startswith(f"{path.parent}/{message}")


def test_missing_file(tmp_path: Path) -> None:
    """A mistyped path is a clear error, not a traceback."""
    with pytest.raises(InputFileError, match="no such file"):
        rows(tmp_path / "nope.csv")


def test_comma_files_with_bom_and_free_column_order(tmp_path: Path) -> None:
    """The delimiter is sniffed, a BOM is accepted, and columns come in the contract's order."""
    path = file_with(
        tmp_path,
        "\ufeffexpires_on,number,kind,national_number,remark\n2027-01-01,1,eid,85073003328,x\n",
    )
    with RegistryFile(path, DOCUMENT_COLUMNS, DOCUMENT_REQUIRED) as source:
        (row,) = source.rows()
        assert source.unknown_columns == ("remark",)
        assert source.delimiter == ","
    assert row.fields == ("85073003328", "eid", "1", "", "2027-01-01", "")
    assert row.line == 2
    assert row.problem is None


def test_line_numbers_follow_the_file_across_quoted_newlines_and_blank_lines(
    tmp_path: Path,
) -> None:
    """A quoted field may span lines; the next record still reports its own line."""
    path = file_with(
        tmp_path,
        HEADER + '85073003328;eid;"1\n2";;2027-01-01;\n\n85073003328;eid;3;;2027-01-01;\n',
    )
    first, second = rows(path)
    assert (first.line, second.line) == (2, 5)
    assert first.text == '85073003328;eid;"1\n2";;2027-01-01;'


def test_rows_with_the_wrong_number_of_fields_are_flagged(tmp_path: Path) -> None:
    """Too few or too many fields is a row problem; trailing empty cells are tolerated."""
    path = file_with(
        tmp_path,
        HEADER + "85073003328;eid;1\n85073003328;eid;2;;2027-01-01;;;\n"
        "85073003328;eid;3;;2027-01-01;;x\n",
    )
    short, trailing, extra = rows(path)
    assert short.problem == "has 3 fields, the header has 6"
    assert trailing.problem is None
    assert extra.problem == "has 7 fields, the header has 6"


def test_the_hash_covers_the_whole_file(tmp_path: Path) -> None:
    """The SHA-256 recorded with an import is the file's, byte for byte."""
    import hashlib

    content = HEADER + "85073003328;eid;1;;2027-01-01;\n"
    path = file_with(tmp_path, content)
    with RegistryFile(path, DOCUMENT_COLUMNS, DOCUMENT_REQUIRED) as source:
        list(source.rows())
        assert source.sha256 == hashlib.sha256(content.encode()).hexdigest()
