"""The dispatch log published in the output folder, end to end on SQLite and PostgreSQL: after
each run every municipality's log is there as a tiled log (C2SP tlog-tiles), read back here
with the independent reading of tests/unit/test_tiles.py (the texts, not the product's Merkle
code); `audit verify --from DIR` checks it with the public key alone and finds a changed,
removed, reordered or cut-off tile or bundle and a checkpoint signed by another key; `audit
verify` checks the output folder too and reports an emptied log; `reminders backup` copies a
database consistently while a run goes. Synthetic registry only.
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from reminders.adapters.db.backup import sqlite_path
from reminders.adapters.db.dispatch_log_store import DispatchLogStore
from reminders.adapters.db.engine import make_engine
from reminders.bootstrap import key_ring
from reminders.config import load_settings
from reminders.domain.checkpoint import parsed_checkpoint, signed_checkpoint
from reminders.entrypoints.cli import main
from reminders.errors import UsageError
from reminders.services.audit import verify_logs
from tests.e2e.test_dispatch_log import tampering
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture
from tests.e2e.test_run import run
from tests.unit.test_tiles import mth, spec_files

SECOND_NIGHT = "2027-04-20"  # the driving licences' second stage: a few more entries per log
NIS_CODES = ("44021", "21004", "63023")


def cli(config: Path, database_url: str, *args: str) -> Result:
    """`reminders <args> --config CONFIG` (the command may be two words: "audit verify")."""
    words = 2 if args[0] == "audit" else 1
    return CliRunner().invoke(
        main,
        [*args[:words], "--config", str(config), *args[words:]],
        env={"REMINDERS_DATABASE_URL": database_url},
        catch_exceptions=False,
    )


def output(config: Path) -> Path:
    return load_settings(config, environ={}).output_dir


def database_log(database_url: str, nis: str) -> tuple[list[bytes], str | None]:
    """The entries of a municipality's log as the database holds them (their bytes), and its
    newest checkpoint's note."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            store = DispatchLogStore(connection)
            head = store.head(nis)
            entries = [e.canonical() for e in store.entry_range(nis, 0, head.size)]
    finally:
        engine.dispose()
    return entries, head.checkpoint_note


def read_checkpoint(note: str) -> tuple[str, int, bytes]:
    """Origin, tree size and root of a checkpoint, read as tlog-checkpoint lays it out."""
    origin, size, root = note.split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


@pytest.fixture
def two_nights(registry: Path, database_url: str) -> Path:  # noqa: F811 - the fixture
    run(registry, database_url, "--date", RUN_DATE)
    run(registry, database_url, "--date", SECOND_NIGHT)
    return registry


def test_each_run_publishes_its_logs_as_tiles_an_independent_reader_accepts(
    two_nights: Path, database_url: str
) -> None:
    """After two nights, each municipality's folder holds the checkpoint the database signed
    last and exactly the tiles and bundles the spec requires for its size, with the partial
    tiles of the first night's checkpoint still there; the bundles hold the database's entries
    byte for byte; the root is RFC 6962's over them; each run's checkpoint file beside its
    volumes is the root of the log's first entries."""
    out = output(two_nights)
    for nis in NIS_CODES:
        entries, note = database_log(database_url, nis)
        assert note is not None
        folder = out / nis / "log"
        assert (folder / "checkpoint").read_text(encoding="utf-8") == note
        origin, size, root = read_checkpoint(note)
        assert (origin, size) == (f"reminders/dispatch-log/{nis}", len(entries))
        assert root == mth(entries)
        files = {
            str(path.relative_to(folder)): path.read_bytes()
            for path in folder.rglob("*")
            if path.is_file() and path.name != "checkpoint"
        }
        expected = spec_files(entries)
        assert {path: files.get(path) for path in expected} == expected
        runs = sorted((out / nis).glob("*-run-*/checkpoint-*.txt"))
        assert len(runs) == 2
        first = read_checkpoint(runs[0].read_text(encoding="utf-8"))
        assert first[1] < size
        assert first[2] == mth(entries[: first[1]])
        # the first night's partial tiles: kept for whoever holds its checkpoint
        earlier = spec_files(entries[: first[1]])
        assert set(files) == set(expected) | set(earlier)
        assert all(files[path] == data for path, data in earlier.items())
    result = cli(two_nights, database_url, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.count(": intact") == 3


def _damaged(folder: Path, damage: str, tmp_path: Path) -> str:
    """Damage a copy of Gent's published log; returns what the verdict must name."""
    log = folder / "log"
    bundle = next((log / "tile" / "entries").rglob("*.p/*"))
    tile = next((log / "tile" / "0").rglob("*.p/*"))
    relative = str(bundle.relative_to(log))
    if damage == "changed tile":
        flipped = bytearray(tile.read_bytes())
        flipped[40] ^= 1
        tile.write_bytes(bytes(flipped))
        return str(tile.relative_to(log))
    if damage == "removed tile":
        tile.unlink()
        return str(tile.relative_to(log))
    if damage == "truncated tile":
        tile.write_bytes(tile.read_bytes()[:-32])
        return str(tile.relative_to(log))
    if damage == "changed bundle":
        data = bundle.read_bytes()
        at = data.index(b'"stage":"first"')
        bundle.write_bytes(data[:at] + b'"stage":"final"' + data[at + 15 :])
        return relative
    if damage == "removed bundle":
        bundle.unlink()
        return relative
    if damage == "truncated bundle":
        bundle.write_bytes(bundle.read_bytes()[:-10])
        return relative
    if damage == "reordered bundle":
        data = bundle.read_bytes()
        entries: list[bytes] = []
        at = 0
        while at < len(data):
            length = int.from_bytes(data[at : at + 2], "big")
            entries.append(data[at : at + 2 + length])
            at += 2 + length
        entries[1], entries[2] = entries[2], entries[1]
        bundle.write_bytes(b"".join(entries))
        return relative
    assert damage == "checkpoint of another key"
    original = parsed_checkpoint((log / "checkpoint").read_text(encoding="utf-8"))
    forged = signed_checkpoint(original.checkpoint, Ed25519PrivateKey.generate(), "reminders")
    (log / "checkpoint").write_text(forged.note(), encoding="utf-8")
    return "no valid signature"


DAMAGES = (
    "changed tile", "removed tile", "truncated tile", "changed bundle", "removed bundle",
    "truncated bundle", "reordered bundle", "checkpoint of another key",
)  # fmt: skip


def test_verify_from_a_folder_needs_only_the_public_key_and_finds_any_damage(
    two_nights: Path, database_url: str, tmp_path: Path
) -> None:
    """`audit verify --from` on a copy of the output folder, with no configuration and no
    database: intact as published; BROKEN, naming the file, after each kind of damage."""
    key = tmp_path / "auditor.pub"
    shutil.copy(load_settings(two_nights, environ={}).audit.public_key, key)
    nowhere = tmp_path / "no-config.toml"

    def verify_copy(folder: Path) -> Result:
        return CliRunner().invoke(
            main,
            ["audit", "verify", "--from", str(folder), "--public-key", str(key),
             "--config", str(nowhere)],
            env={"REMINDERS_DATABASE_URL": "postgresql+psycopg://nobody@192.0.2.1/none"},
            catch_exceptions=False,
        )  # fmt: skip

    pristine = tmp_path / "pristine"
    shutil.copytree(output(two_nights), pristine)
    result = verify_copy(pristine)
    assert result.exit_code == 0, result.output
    assert result.output.count(": intact") == 3
    alone = verify_copy(pristine / "44021" / "log")  # one log's own folder
    assert alone.exit_code == 0, alone.output
    assert "2 signed checkpoints" in alone.output or "3 signed checkpoints" in alone.output
    for damage in DAMAGES:
        copy = tmp_path / damage.replace(" ", "-")
        shutil.copytree(pristine, copy)
        named = _damaged(copy / "44021", damage, tmp_path)
        result = verify_copy(copy)
        assert result.exit_code == 1, (damage, result.output)
        assert "44021: BROKEN" in result.output, (damage, result.output)
        assert "21004: intact" in result.output, (damage, result.output)
        assert named in result.output, (damage, named, result.output)


def test_verify_from_a_folder_checks_a_kept_checkpoint_against_the_tiles(
    two_nights: Path, database_url: str, tmp_path: Path
) -> None:
    """A checkpoint file kept by an auditor is checked against the published log's root at
    its size; one for another log's first entries is refused."""
    out = output(two_nights)
    key = str(load_settings(two_nights, environ={}).audit.public_key)
    kept = sorted((out / "44021").glob("*-run-*/checkpoint-*.txt"))[0]
    result = cli(two_nights, database_url, "audit", "verify", "--from", str(out / "44021" / "log"),
                 "--checkpoint", str(kept), "--public-key", key)  # fmt: skip
    assert result.exit_code == 0, result.output
    # The same size under a root the log never had: signed by the key, but a different log.
    fake = parsed_checkpoint(kept.read_text(encoding="utf-8"))
    private = load_settings(two_nights, environ={}).audit.signing_key
    from reminders.adapters.crypto.signing_key import load_private_key

    other = signed_checkpoint(
        type(fake.checkpoint)(
            "44021", fake.checkpoint.tree_size, bytes(32), fake.checkpoint.signed_at, 1
        ),
        load_private_key(private),
        "reminders",
    )
    forged = tmp_path / "checkpoint-forked.txt"
    forged.write_text(other.note(), encoding="utf-8")
    result = cli(two_nights, database_url, "audit", "verify", "--from", str(out / "44021" / "log"),
                 "--checkpoint", str(forged), "--public-key", key)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "checkpoint-forked.txt does not match the published log's first" in result.output


def test_audit_verify_reports_an_emptied_log(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """A municipality's log emptied in the database: BROKEN, seen against the published log
    (the database is behind it) and, with the published log gone too, because runs were
    sealed for a configured municipality whose log has no entries."""
    run(registry, database_url, "--date", RUN_DATE)
    with tampering(database_url) as connection:
        for table in ("audit_subject", "audit_checkpoint", "audit_entry"):
            connection.execute(text(f"DELETE FROM {table} WHERE municipality_nis = '63023'"))
    result = cli(registry, database_url, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "63023: BROKEN" in result.output
    assert "reminders recover" in result.output
    assert "44021: intact" in result.output
    shutil.rmtree(output(registry) / "63023" / "log")
    result = cli(registry, database_url, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "63023: BROKEN" in result.output
    assert "run 1 and earlier were sealed for 63023, but its dispatch log has no entries" in (
        result.output.replace("\n  ", " ")
    )


def test_a_backup_taken_while_a_run_goes_is_consistent(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    tmp_path: Path,
) -> None:
    """`reminders backup` again and again while `reminders run` writes: every copy is a sound
    SQLite database whose dispatch log verifies (never half a step), with its note beside it
    naming the keys, the configuration and the output folder."""
    if not database_url.startswith("sqlite"):
        with pytest.raises(UsageError, match="pg_dump"):
            sqlite_path(database_url)
        result = cli(registry, database_url, "backup", "--to", str(tmp_path / "b.sqlite3"))
        assert result.exit_code == 2
        assert "pg_dump" in result.output
        return
    command = [str(Path(sys.executable).parent / "reminders"), "run", "--config", str(registry),
               "--date", RUN_DATE]  # fmt: skip
    env = {"REMINDERS_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    errors = tmp_path / "run.err"
    with errors.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own command
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    copies: list[Path] = []
    while process.poll() is None or not copies:
        target = tmp_path / f"backup-{len(copies)}.sqlite3"
        result = cli(registry, database_url, "backup", "--to", str(target))
        assert result.exit_code == 0, result.output
        copies.append(target)
        time.sleep(0.05)
    assert process.wait(timeout=120) == 0, errors.read_text()
    final = tmp_path / "after.sqlite3"
    assert cli(registry, database_url, "backup", "--to", str(final)).exit_code == 0
    copies.append(final)
    keys = key_ring(load_settings(registry, environ={}))
    sizes = set()
    for copy in copies:
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        engine = make_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as connection:
                verdicts = verify_logs(DispatchLogStore(connection), keys)
        finally:
            engine.dispose()
        assert all(v.intact for v in verdicts), [v.problems for v in verdicts]
        sizes.add(tuple(v.entries for v in verdicts))
        note = copy.with_name(f"{copy.name}.txt").read_text(encoding="utf-8")
        assert "signing key" in note
        assert str(registry) in note or registry.name in note
        assert "reminders recover" in note
    assert len(copies) >= 2
    assert tuple(sorted(sizes))[-1] != ()  # the last copy holds the sealed run
