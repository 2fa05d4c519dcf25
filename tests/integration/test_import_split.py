"""A large extract checked by two processes (adapters/registry/split_check.py) imports exactly
what one process imports: the same rows stored, the same rows kept as rejected with the same
reasons, the same counts and SHA-256, and the same error for a broken file."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, select, text

from reminders.adapters.db.orm import DocumentRow, PersonRow, RejectedRowRow
from reminders.adapters.registry import split_check
from reminders.bootstrap import import_registry_file
from reminders.domain.model import RegistryKind
from reminders.errors import InputFileError
from reminders.synthetic import SyntheticMunicipality, SyntheticSpec, write_synthetic_registry

MUNICIPALITIES = (
    SyntheticMunicipality("44021", "Gent", ("nl",)),
    SyntheticMunicipality("21004", "Bruxelles / Brussel", ("fr", "nl")),
)
Cut = Callable[[IO[bytes], int, int], "tuple[int, int] | None"]


def registry(folder: Path) -> tuple[Path, Path]:
    """A synthetic registry with faulty rows at its end (the child's part), and near its start
    (the parent's part): a bad check digit, a person whose number comes again at the end, and
    an address with a quoted line break."""
    persons, documents = folder / "persons.csv", folder / "documents.csv"
    spec = SyntheticSpec(
        1_500, seed=7, as_of=date(2026, 11, 24), municipalities=MUNICIPALITIES,
        faulty_rows=12, email_share=0.2,
    )  # fmt: skip
    write_synthetic_registry(spec, persons, documents)
    lines = persons.read_text(encoding="utf-8").splitlines(keepends=True)
    last = lines[-20].split(";")
    bad_digit = lines[5].split(";")
    bad_digit[0] = bad_digit[0][:-1] + str((int(bad_digit[0][-1]) + 1) % 10)
    quoted = lines[7].split(";")
    quoted[4] = '"Kerk\nstraat"'
    lines[5:8] = [";".join(bad_digit), lines[6], ";".join(quoted), ";".join(last)]
    persons.write_text("".join(lines), encoding="utf-8")
    return persons, documents


def snapshot(engine: Engine) -> dict[str, list[Any]]:
    """The registry and the rejected rows, without the ids the database gave them."""
    with engine.connect() as connection:
        persons = connection.execute(
            select(*(c for c in PersonRow.__table__.c if c.name not in {"id", "import_id"}))
            .order_by(PersonRow.national_number)
        ).all()  # fmt: skip
        documents = connection.execute(
            select(PersonRow.national_number,
                   *(c for c in DocumentRow.__table__.c
                     if c.name not in {"id", "person_id", "import_id"}))
            .join(PersonRow, PersonRow.id == DocumentRow.person_id)
            .order_by(DocumentRow.kind, DocumentRow.number)
        ).all()  # fmt: skip
        rejected = connection.execute(
            select(RejectedRowRow.line, RejectedRowRow.column_name, RejectedRowRow.reason,
                   RejectedRowRow.subject, RejectedRowRow.raw)
            .order_by(RejectedRowRow.import_id, RejectedRowRow.line)
        ).all()  # fmt: skip
    return {
        "persons": [tuple(row) for row in persons],
        "documents": [tuple(row) for row in documents],
        "rejected": [tuple(row) for row in rejected],
    }


def emptied(engine: Engine) -> Engine:
    with engine.begin() as connection:
        for table in ("rejected_row", "document", "person", "registry_import"):
            connection.execute(text(f"DELETE FROM {table}"))
    return engine


def imported(engine: Engine, persons: Path, documents: Path) -> list[tuple[Any, ...]]:
    reports = [
        import_registry_file(kind, path, engine)
        for kind, path in ((RegistryKind.PERSONS, persons), (RegistryKind.DOCUMENTS, documents))
    ]
    return [
        (r.rows_read, r.inserted, r.updated, r.unchanged, r.rejected, r.file_sha256)
        for r in reports
    ]


def split_everything(monkeypatch: pytest.MonkeyPatch, cut: Cut | None = None) -> list[int]:
    """Every file is split, however small, on any machine; returns the offsets cut at."""
    cuts: list[int] = []
    choose = cut or split_check.cut_point

    def spied(file: IO[bytes], start: int, size: int) -> tuple[int, int] | None:
        chosen = choose(file, start, size)
        if chosen is not None:
            cuts.append(chosen[0])
        return chosen

    monkeypatch.setattr(split_check, "MIN_SPLIT_BYTES", 0)
    monkeypatch.setattr(split_check, "usable_cores", lambda: 2)
    monkeypatch.setattr(split_check, "cut_point", spied)
    return cuts


def test_two_processes_import_what_one_imports(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same rows, same rejections (line, column, reason, masked number, text), same counts
    and SHA-256; a person repeated across the cut is rejected in the child's part."""
    persons, documents = registry(tmp_path)
    monkeypatch.setattr(split_check, "MIN_SPLIT_BYTES", 1 << 62)
    one_process = imported(engine, persons, documents)
    expected = snapshot(engine)
    assert any("the same national number is on line 10" in row[2] for row in expected["rejected"])
    assert len(expected["rejected"]) > 20

    cuts = split_everything(monkeypatch)
    assert imported(emptied(engine), persons, documents) == one_process
    assert snapshot(engine) == expected
    assert len(cuts) == 2
    assert all(0 < offset < 200_000 for offset in cuts)


def test_a_record_across_the_cut_is_read_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cut inside a quoted line break: this process reads on to the end itself, and the
    records after the cut are neither lost nor imported twice."""
    persons, documents = registry(tmp_path)
    monkeypatch.setattr(split_check, "MIN_SPLIT_BYTES", 1 << 62)
    one_process = imported(engine, persons, documents)
    expected = snapshot(engine)
    inside = persons.read_bytes().index(b'"Kerk\n') + len(b'"Kerk\n')

    def in_the_quotes(file: IO[bytes], start: int, size: int) -> tuple[int, int] | None:
        return (inside, 10) if size == persons.stat().st_size else None

    cuts = split_everything(monkeypatch, in_the_quotes)
    assert imported(emptied(engine), persons, documents) == one_process
    assert snapshot(engine) == expected
    assert cuts == [inside]


@pytest.mark.parametrize("fail_child", [False, True])
def test_binary_data_in_the_childs_part_is_the_same_error(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_child: bool
) -> None:
    """NUL bytes past the cut: the error names the same line as a one-process import, and
    nothing is imported; so does a child that fails for another reason (then this process
    reads its part itself)."""
    persons, _ = registry(tmp_path)
    lines = persons.read_bytes().splitlines(keepends=True)
    broken_line = len(lines) - 30
    lines[broken_line - 1] = b"\x00" + lines[broken_line - 1]
    persons.write_bytes(b"".join(lines))
    message = rf"persons\.csv:{broken_line}: contains binary data"
    monkeypatch.setattr(split_check, "MIN_SPLIT_BYTES", 1 << 62)
    with pytest.raises(InputFileError, match=message):
        import_registry_file(RegistryKind.PERSONS, persons, engine)

    cuts = split_everything(monkeypatch)
    if fail_child:
        monkeypatch.setattr(pickle, "dump", _raises)  # only the child pickles
    with pytest.raises(InputFileError, match=message):
        import_registry_file(RegistryKind.PERSONS, persons, engine)
    assert len(cuts) == 1
    assert snapshot(engine) == {"persons": [], "documents": [], "rejected": []}


def _raises(*_: object, **__: object) -> None:
    raise OSError("no space left on device")
