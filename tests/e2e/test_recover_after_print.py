"""`reminders recover` of what happened after the print (issue 21 on issue 20), on SQLite and
PostgreSQL: a night whose Gent volume is held, a letter cancelled in it, the volume released
(re-cut), a Brussels letter reprinted and another returned by bpost; then the database
restored from before all of it. The published log brings every change back (volume states,
the re-cut and its letters' places, the cancellation, the reprint, the return), the print
shop gets nothing a second time, and the next reprint of the letter is -R2, not -R1 again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import (
    LetterCancellationRow,
    LetterRow,
    PrintVolumeRow,
    ReprintRow,
    ReturnedLetterRow,
)
from tests.e2e.after_print_support import (
    GENT,
    in_pickup,
    log_verifies,
    pickup_of,
    reminders,
    run_night,
    stored_volumes,
    with_approval,
)
from tests.e2e.run_checks import _new_pg_schema, backend, provision
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture

BRUSSELS = "21004"


def after_print_state(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    """What the changes after the print left, by what names them (no surrogate ids)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:

            def rows(*columns: object, join: object = None) -> list[tuple[object, ...]]:
                query = select(*columns)  # type: ignore[call-overload]
                if join is not None:
                    query = query.select_from(join)
                return sorted(tuple(row) for row in connection.execute(query))

            volumes = rows(PrintVolumeRow.path, PrintVolumeRow.kind, PrintVolumeRow.state,
                           PrintVolumeRow.released_by, PrintVolumeRow.letters)  # fmt: skip
            places = rows(
                LetterRow.reference, PrintVolumeRow.path, LetterRow.first_page,
                join=LetterRow.__table__.join(
                    PrintVolumeRow.__table__, PrintVolumeRow.id == LetterRow.volume_id
                ),
            )  # fmt: skip
            return {
                "volumes": volumes,
                "places": places,
                "cancelled": rows(
                    LetterCancellationRow.reference,
                    LetterCancellationRow.redecide,
                    LetterCancellationRow.cancelled_by,
                ),
                "reprints": rows(ReprintRow.reference, ReprintRow.original, ReprintRow.number),
                "returned": rows(
                    ReturnedLetterRow.reference,
                    ReturnedLetterRow.reason,
                    ReturnedLetterRow.returned_on,
                ),
            }
    finally:
        engine.dispose()


def pickup_files(config: Path) -> dict[str, str]:
    folder = pickup_of(config)
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_recover_brings_back_releases_cancellations_reprints_and_returns(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    request: object,
) -> None:
    with_approval(registry, database_url)
    # The backup, taken before the night: the registry and the console's users.
    if backend(database_url) == "sqlite":
        backup = registry.parent / "before.sqlite3"
        assert reminders(registry, database_url, "backup", "--to", str(backup)).exit_code == 0
        backup_url = f"sqlite:///{backup}"
        restored_url = f"sqlite:///{registry.parent / 'restored.sqlite3'}"
    else:
        database = request.getfixturevalue("pg_database")  # type: ignore[attr-defined]
        backup_url = _new_pg_schema(database, "before")
        provision(database_url, registry, backup_url)
        restored_url = _new_pg_schema(database, "restored")

    run_night(registry, database_url, RUN_DATE)
    held = stored_volumes(database_url, GENT)[0]
    cancelled = held.references[1]
    assert reminders(registry, database_url, "cancel", "--letter", cancelled, "--reason",
                     "renewed at the counter", by="an").exit_code == 0  # fmt: skip
    released = reminders(registry, database_url, "release", "--volume", str(held.volume_id),
                         by="bert")  # fmt: skip
    assert released.exit_code == 0, released.output
    original = stored_volumes(database_url, BRUSSELS)[0].references[0]
    reprinted = reminders(registry, database_url, "reprint", "--letter", original, "--reason",
                          "lost in the post", by="cleo")  # fmt: skip
    assert reprinted.exit_code == 0, reprinted.output
    returns = registry.parent / "returns.csv"
    returned = stored_volumes(database_url, BRUSSELS)[0].references[1]
    returns.write_text(f"reference;returned_on;reason\n{returned};2027-03-10;moved\n",
                       encoding="utf-8")  # fmt: skip
    assert reminders(registry, database_url, "returns", "import", str(returns),
                     "--municipality", BRUSSELS).exit_code == 0  # fmt: skip
    before = after_print_state(database_url)
    assert {kind for _, kind, *_ in before["volumes"]} == {"run", "recut", "reprint"}
    assert before["cancelled"]
    assert before["reprints"]
    assert before["returned"]
    delivered = pickup_files(registry)
    assert any("recut" in name for name in delivered)

    # The database restored from before the night: refused, then recovered.
    provision(backup_url, registry, restored_url)
    refused = reminders(registry, restored_url, "reprint", "--letter", original, "--reason",
                        "lost again", by="cleo")  # fmt: skip
    assert refused.exit_code == 1, refused.output
    assert "reminders recover" in refused.output
    recovered = reminders(registry, restored_url, "recover")
    assert recovered.exit_code == 0, recovered.output
    assert after_print_state(restored_url) == before
    assert pickup_files(registry) == delivered  # nothing handed to the print shop again
    log_verifies(registry, restored_url)

    again = reminders(registry, restored_url, "reprint", "--letter", original, "--reason",
                      "lost again", by="cleo")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert f"as {original}-R2" in again.output  # the restored reprint keeps -R1
    reprints = {ref for ref, *_ in after_print_state(restored_url)["reprints"]}
    assert reprints == {f"{original}-R1", f"{original}-R2"}
    assert in_pickup(registry, Path(str(before["volumes"][0][0]))).parent.exists()
