"""After the print, end to end on SQLite and PostgreSQL (issue 21): held volumes released by an
approver who did not start the run (four eyes), and nothing unreleased in the print shop's
pick-up folder; a letter cancelled out of a volume before release (re-cut, manifests and
SHA-256 following, its stage closed or decided again); reprints; and the dispatch log
verifying across all of it. Synthetic registry only."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import DecisionRow, DocumentRow, LetterRow
from tests.e2e.after_print_support import (
    GENT,
    checked_volume,
    in_pickup,
    log_verifies,
    picked_up,
    reminders,
    run_night,
    stored_volumes,
    with_approval,
)
from tests.e2e.test_print_volumes import NUMBERS, RUN_DATE, registry  # noqa: F401 - fixture
from tests.pdf_reading import page_texts


def test_the_starter_of_a_run_cannot_release_it(registry: Path, database_url: str) -> None:  # noqa: F811
    """Gent's volumes of a run started in the console by an stay out of the pick-up folder
    (the other municipalities' go there at once); an cannot release them, bert can, and only
    the volume bert released reaches the print shop."""
    with_approval(registry, database_url)
    summary = run_night(registry, database_url, RUN_DATE, started_by="console:an")
    gent = stored_volumes(database_url, GENT)
    assert len(gent) == 5
    assert {v.state for v in gent} == {"held"}
    assert picked_up(registry, GENT) == []
    others = [Path(p) for p in summary["volumes"] if f"/{GENT}/" not in p]
    assert sorted(in_pickup(registry, p) for p in others) == picked_up(registry)

    first = gent[0]
    refused = reminders(registry, database_url, "release", "--volume", str(first.volume_id),
                        by="an")  # fmt: skip
    assert refused.exit_code == 2, refused.output
    assert "an started its run" in refused.output
    assert "four eyes" in refused.output
    assert picked_up(registry, GENT) == []

    released = reminders(registry, database_url, "release", "--volume", str(first.volume_id),
                         by="bert")  # fmt: skip
    assert released.exit_code == 0, released.output
    assert picked_up(registry, GENT) == [in_pickup(registry, first.path)]
    manifest = checked_volume(in_pickup(registry, first.path))
    assert tuple(entry["reference"] for entry in manifest["entries"]) == first.references
    assert in_pickup(registry, first.path).read_bytes() == first.path.read_bytes()
    states = [v.state for v in stored_volumes(database_url, GENT)]
    assert states == ["released", "held", "held", "held", "held"]
    log_verifies(registry, database_url)


def test_a_scheduler_run_is_released_by_one_approver(registry: Path, database_url: str) -> None:  # noqa: F811
    """A run the scheduler started was started by nobody: one approver releases all its held
    volumes at once; a clerk without the approver role cannot."""
    with_approval(registry, database_url)
    summary = run_night(registry, database_url, RUN_DATE)
    run_id = str(summary["run_id"])
    listed = reminders(registry, database_url, "release", "--municipality", GENT)
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("scheduler:nightly") == 5

    wrong = reminders(registry, database_url, "release", "--run", run_id, "--municipality", GENT,
                      by="an", password="not the password")  # noqa: S106  # fmt: skip
    assert wrong.exit_code == 2
    assert "--by an: Unknown user name or wrong password" in wrong.output
    clerk = reminders(registry, database_url, "release", "--run", run_id, "--municipality", GENT,
                      by="cleo")  # fmt: skip
    assert clerk.exit_code == 2
    assert "holds no approver role in 44021" in clerk.output
    assert picked_up(registry, GENT) == []

    released = reminders(registry, database_url, "release", "--run", run_id, "--municipality",
                         GENT, by="an")  # fmt: skip
    assert released.exit_code == 0, released.output
    gent = stored_volumes(database_url, GENT)
    assert {v.state for v in gent} == {"released"}
    assert picked_up(registry, GENT) == sorted(in_pickup(registry, v.path) for v in gent)
    again = reminders(registry, database_url, "release", "--volume", str(gent[0].volume_id),
                      by="bert")  # fmt: skip
    assert again.exit_code == 0
    assert "was released already" in again.output
    log_verifies(registry, database_url)


def test_a_cancelled_letter_is_cut_out_before_release(registry: Path, database_url: str) -> None:  # noqa: F811
    """One letter of a 3-letter held volume cancelled: the volume released is a re-cut of the
    other two (its manifests and SHA-256 follow, the original never reaches the print shop),
    the log records both volumes and verifies, and the next night sends the cancelled stage
    nothing."""
    with_approval(registry, database_url)
    run_night(registry, database_url, RUN_DATE)
    first = stored_volumes(database_url, GENT)[0]
    assert len(first.references) == 3
    cancelled = first.references[1]
    result = reminders(registry, database_url, "cancel", "--letter", cancelled, "--reason",
                       "renewed at the counter on 2 March", by="an")  # fmt: skip
    assert result.exit_code == 0, result.output
    again = reminders(registry, database_url, "cancel", "--letter", cancelled, "--reason",
                      "twice", by="bert")  # fmt: skip
    assert again.exit_code == 2
    assert "cancelled already" in again.output

    released = reminders(registry, database_url, "release", "--volume", str(first.volume_id),
                         by="bert")  # fmt: skip
    assert released.exit_code == 0, released.output
    assert "re-cut without its cancelled letters" in released.output
    volumes = stored_volumes(database_url, GENT)
    replaced = next(v for v in volumes if v.volume_id == first.volume_id)
    recut = next(v for v in volumes if v.kind == "recut")
    assert replaced.state == "replaced"
    assert recut.state == "released"
    assert recut.references == (first.references[0], first.references[2])
    assert recut.path.name == "volume-001-recut1.pdf"
    assert picked_up(registry, GENT) == [in_pickup(registry, recut.path)]
    manifest = checked_volume(in_pickup(registry, recut.path))
    assert [entry["reference"] for entry in manifest["entries"]] == list(recut.references)
    assert manifest["letters"] == 2
    assert manifest["entries"][0]["first_page"] == 2
    log_verifies(registry, database_url)
    life = reminders(registry, database_url, "letter", cancelled)
    assert life.exit_code == 0, life.output
    states = [line.split()[2] for line in life.output.splitlines()[1:]]
    assert states == ["decided", "printed", "held", "cancelled"]
    kept = reminders(registry, database_url, "letter", recut.references[0])
    assert [line.split()[2] for line in kept.output.splitlines()[1:]] == [
        "decided", "printed", "held", "recut", "released",
    ]  # fmt: skip

    report = reminders(registry, database_url, "audit", "report", "--run", "1", "--out",
                       str(registry.parent / "report.pdf"))  # fmt: skip
    assert report.exit_code == 0, report.output  # the run's section: its own entries only
    later = run_night(registry, database_url, "2027-03-02")
    assert later["letters"] == 0  # the cancelled stage is closed


def test_a_stage_cancelled_to_be_decided_again_gets_its_letter_next_night(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """Cancelled with --decide-again, the stage is open: the next night decides it anew and
    prints the letter again under a new reference; the log verifies."""
    with_approval(registry, database_url)
    run_night(registry, database_url, RUN_DATE)
    first = stored_volumes(database_url, GENT)[0]
    cancelled = first.references[0]
    result = reminders(registry, database_url, "cancel", "--letter", cancelled, "--reason",
                       "wrong box number on the envelope", "--decide-again", by="bert")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "decided again by the next run" in result.output
    later = run_night(registry, database_url, "2027-03-02")
    assert later["letters"] == 1
    new = [v for v in stored_volumes(database_url, GENT) if v.run_id == later["run_id"]]
    assert len(new) == 1
    assert len(new[0].references) == 1
    assert new[0].references[0] != cancelled
    document = reminders(registry, database_url, "letter", cancelled, "--json")
    assert '"state": "cancelled"' in document.output
    assert '"decide_again"' not in document.output
    assert run_night(registry, database_url, "2027-03-03")["letters"] == 0  # decided once
    log_verifies(registry, database_url)


def test_a_reprint_is_the_same_letter_with_a_suffix(registry: Path, database_url: str) -> None:  # noqa: F811
    """A Brussels letter (released with its run) printed again: a reprint volume of its own
    in the pick-up folder, the same text as the original but for the reference's -R1, the
    log pointing to the original; a second reprint is -R2. In Gent the reprint is held, and
    its requester cannot release it."""
    with_approval(registry, database_url)
    summary = run_night(registry, database_url, RUN_DATE)
    brussels = stored_volumes(database_url, "21004")[0]
    original = brussels.references[0]
    result = reminders(registry, database_url, "reprint", "--letter", original, "--reason",
                       "lost in the post", by="cleo")  # fmt: skip
    assert result.exit_code == 0, result.output
    reprint = next(v for v in stored_volumes(database_url, "21004") if v.kind == "reprint")
    assert reprint.path.name == f"reprint-{original}-R1.pdf"
    assert reprint.state == "auto"
    pdf = in_pickup(registry, reprint.path)
    manifest = checked_volume(pdf)
    assert [entry["reference"] for entry in manifest["entries"]] == [f"{original}-R1"]
    assert manifest["date"] == summary["date"]
    entry = next(e for e in json.loads(brussels.path.with_suffix(".json").read_text())["entries"]
                 if e["reference"] == original)  # fmt: skip
    first = entry["first_page"] - 1
    printed = page_texts(brussels.path)[first : first + entry["page_count"]]
    again = page_texts(pdf)[1:]
    assert len(again) == len(printed)
    assert f"{original}-R1" in again[0]
    assert [page.replace(f"{original}-R1", original) for page in again] == printed
    second = reminders(registry, database_url, "reprint", "--letter", original, "--reason",
                       "lost again", by="cleo")  # fmt: skip
    assert f"as {original}-R2" in second.output

    gent = stored_volumes(database_url, GENT)[0]
    reminders(registry, database_url, "release", "--volume", str(gent.volume_id), by="an")
    held = reminders(registry, database_url, "reprint", "--letter", gent.references[0],
                     "--reason", "torn by the dog", by="an")  # fmt: skip
    assert held.exit_code == 0
    assert "held: another approver releases it" in held.output
    volume = next(v for v in stored_volumes(database_url, GENT) if v.kind == "reprint")
    own = reminders(registry, database_url, "release", "--volume", str(volume.volume_id), by="an")
    assert own.exit_code == 2
    assert "an asked for this reprint" in own.output
    assert reminders(registry, database_url, "release", "--volume", str(volume.volume_id),
                     by="bert").exit_code == 0  # fmt: skip
    assert in_pickup(registry, volume.path).exists()
    life = reminders(registry, database_url, "letter", gent.references[0])
    assert [line.split()[2] for line in life.output.splitlines()[1:]] == [
        "decided", "printed", "held", "released", "reprinted", "released",
    ]  # fmt: skip
    log_verifies(registry, database_url)


def _decisions_of(database_url: str, number: str) -> list[tuple[str, str | None, bool]]:
    """(stage, reason, final) of a document's decisions, in the order recorded."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(DecisionRow.stage, DecisionRow.reason, DecisionRow.final)
                .join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
                .where(DocumentRow.number == number)
                .order_by(DecisionRow.id)
            ).all()
    finally:
        engine.dispose()
    return [(stage, reason, bool(final)) for stage, reason, final in rows]


def test_returned_letters_stop_mail_to_that_address_until_it_changes(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """A list of returns: the good lines are logged and listed, each bad one (not a reference,
    a bad date or reason, unknown, already returned, another municipality's) is reported with
    its line and kept; the holder's next stage is skipped `returned_mail` while the registry
    keeps that address, and decided again once an import changes it."""
    with_approval(registry, database_url)
    summary = run_night(registry, database_url, RUN_DATE)
    reminders(registry, database_url, "release", "--run", str(summary["run_id"]),
              "--municipality", GENT, by="an")  # fmt: skip
    gent = {ref for v in stored_volumes(database_url, GENT) for ref in v.references}
    jan = letter_of(database_url, "E01")
    brussels = stored_volumes(database_url, "21004")[0].references[0]
    returns = registry.parent / "returns.csv"
    returns.write_text(
        "reference;returned_on;reason\n"
        f"{jan};2027-03-10;Verhuisd\n"
        f"44021-{summary['run_id']:06d}-000999;2027-03-10;moved\n"
        f"{brussels};2027-03-10;inconnu\n"
        f"{jan};2027-03-11;refused\n"
        "not-a-reference;2027-03-10;moved\n"
        f"{sorted(gent - {jan})[0]};31/02/2027;moved\n"
        f"{sorted(gent - {jan})[0]};2027-03-10;lost\n",
        encoding="utf-8",
    )
    result = reminders(registry, database_url, "returns", "import", str(returns),
                       "--municipality", GENT)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "7 lines read; 1 returned letters recorded (1 still at the address" in result.output
    lines = result.output.splitlines()[1:]
    assert [line.split(":")[1] for line in lines] == ["3", "4", "5", "6", "7", "8"]
    assert "no letter with this reference was printed (unknown)" in lines[0]
    assert "a letter of municipality 21004, not of 44021" in lines[1]
    assert "already returned (line 2 above)" in lines[2]
    assert "is not a letter's reference" in lines[3]
    assert "returned_on: expected a date" in lines[4]
    assert "reason: expected one of moved, unknown" in lines[5]
    again = reminders(registry, database_url, "returns", "import", str(returns),
                      "--municipality", GENT)  # fmt: skip
    assert "already returned (on 2027-03-10)" in again.output
    life = reminders(registry, database_url, "letter", jan)
    assert "returned" in life.output
    assert "(moved)" in life.output
    log_verifies(registry, database_url)

    run_night(registry, database_url, "2027-05-16")  # E01's stage "expired" falls due
    assert _decisions_of(database_url, "E01")[-1] == ("expired", "returned_mail", False)
    run_night(registry, database_url, "2027-05-17")  # nothing changed: no second skip
    assert len(_decisions_of(database_url, "E01")) == 2
    persons = registry.parent / "persons.csv"
    moved = [
        line.replace(";Kerkstraat;12;;9000;", ";Veldstraat;99;;9000;")
        if line.startswith(NUMBERS["G01"])
        else line
        for line in persons.read_text(encoding="utf-8").splitlines()
    ]
    persons.write_text("\n".join(moved) + "\n", encoding="utf-8")
    imported = reminders(registry, database_url, "import", "persons", str(persons))
    assert "1 updated" in imported.output, imported.output
    run_night(registry, database_url, "2027-05-18")
    assert _decisions_of(database_url, "E01")[-1] == ("expired", None, True)
    log_verifies(registry, database_url)


def letter_of(database_url: str, number: str) -> str:
    """The reference of a document's first printed letter."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            reference = connection.execute(
                select(LetterRow.reference)
                .join(DecisionRow, DecisionRow.id == LetterRow.decision_id)
                .join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
                .where(DocumentRow.number == number)
            ).scalar_one()
    finally:
        engine.dispose()
    return str(reference)
