"""Benchmark: `reminders recover` of a large published dispatch log into a database restored
from a backup that predates all of it, and `audit verify --from` of the same log.

Run: .venv/bin/python -m bench recover [--entries 1000000] [--engines sqlite,postgresql]

A registry of ``entries / 2`` documents (and persons) is loaded with scan_bench's set-based SQL
into a schema made by the migrations; that database, with no run and no log, is the backup.
A copy of it then gets ten runs of one municipality (Gent) logged the way runs seal them
(the `run` entry, skips, each volume followed by its letters, the seal, a signed checkpoint per
run): every document a letter at its first stage in the first five runs, and a letter (three
in five) or a skip at its last in the next five, so the log holds ``entries`` entries, four
letters to a skip, of about 700 bytes each, like a real night's. The log is published as a run
publishes it (tiles, bundles, the checkpoint; each run's checkpoint file beside its volumes,
which exist as small files). Then the whole `reminders recover` process is timed on the
backup: it verifies the published log, appends the million entries, restores the ten runs,
their volumes, letters and skips, and publishes the runs again. The peer, in the same bench,
is `reminders audit verify --from` on the same folder: reading and checking every file of the
log, with no database. Figures are printed, not asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.render import machine  # noqa: E402
from bench.run_bench import Peaks, write_config  # noqa: E402
from bench.scan_bench import PG_ADMIN, load_registry, start_import  # noqa: E402
from reminders.adapters.crypto.signing_key import load_signing_key  # noqa: E402
from reminders.adapters.db.dispatch_log_store import DispatchLogStore  # noqa: E402
from reminders.adapters.db.engine import make_engine  # noqa: E402
from reminders.adapters.db.orm import DocumentRow  # noqa: E402
from reminders.adapters.db.schema import upgrade_schema  # noqa: E402
from reminders.adapters.printing.log_folder import LogFolders  # noqa: E402
from reminders.bootstrap import key_ring  # noqa: E402
from reminders.config import load_settings  # noqa: E402
from reminders.domain.checkpoint import Checkpoint  # noqa: E402
from reminders.domain.dispatch_log import LogAppender, LogEvent, NewEntry  # noqa: E402
from reminders.services.publish_log import publish_log  # noqa: E402
from reminders.services.run_control import RunControl  # noqa: E402
from reminders.services.seal_log import new_salt  # noqa: E402

OUT = REPO / "bench" / "out" / "recover-bench"
NIS = "44021"
RUNS = 10
VOLUME_LETTERS = 1000
FIRST_NIGHT = date(2027, 3, 1)
PG_BACKUP, PG_SOURCE = "reminders_recover_bench_backup", "reminders_recover_bench_source"
MB = 1_000_000


def _pg(database: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + (
        f"/{database}"
    )


def reminders(config: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "reminders"), *args, "--config", str(config)]
    return subprocess.run(  # noqa: S603 - our own command line
        command,
        env={**os.environ, "REMINDERS_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
        cwd=config.parent,
    )


def databases(engine: str, documents: int, folder: Path) -> tuple[str, str]:
    """The backup (the registry, nothing run) and a copy of it to log the runs into."""
    if engine == "sqlite":
        backup_url = f"sqlite:///{folder / 'backup.sqlite3'}"
    else:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            for name in (PG_BACKUP, PG_SOURCE):
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_BACKUP}")
        backup_url = _pg(PG_BACKUP)
    engine_ = make_engine(backup_url)
    try:
        upgrade_schema(engine_)
        import_id = start_import(engine_, documents)
    finally:
        engine_.dispose()
    load_registry(engine, backup_url, documents, import_id, 3653)
    if engine == "sqlite":
        shutil.copy(folder / "backup.sqlite3", folder / "source.sqlite3")
        return backup_url, f"sqlite:///{folder / 'source.sqlite3'}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {PG_SOURCE} TEMPLATE {PG_BACKUP}")
    return backup_url, _pg(PG_SOURCE)


def published_log(config: Path, source_url: str, entries: int) -> int:
    """Ten runs logged into the source database and published; returns the log's size."""
    settings = load_settings(config, environ={})
    signer = load_signing_key(settings.audit.signing_key, settings.audit.key_name)
    engine = make_engine(source_url)
    documents: list[tuple[str, str]] = []
    with engine.connect() as connection:
        rows = connection.execute(
            select(DocumentRow.kind, DocumentRow.number)
            .order_by(DocumentRow.id)
            .limit(entries // 2 - RUNS * 4)
        )
        documents = [(kind, number) for kind, number in rows]
    appender = LogAppender.empty(NIS, new_salt)
    per_run = -(-len(documents) // (RUNS // 2))
    try:
        for run in range(1, RUNS + 1):
            night = FIRST_NIGHT + timedelta(days=7 * (run - 1))
            half = (run - 1) % (RUNS // 2)
            chosen = documents[half * per_run : (half + 1) * per_run]
            last = run > RUNS // 2
            with engine.begin() as connection:
                store = DispatchLogStore(connection)
                for chunk in _run_entries(run, night, chosen, last, settings.output_dir):
                    store.append([appender.append(entry) for entry in chunk])
                signed = signer.sign(
                    Checkpoint(NIS, appender.size, appender.frontier.root(),
                               datetime.combine(night, datetime.min.time(), UTC), run)
                )  # fmt: skip
                store.save_checkpoint(NIS, appender.size, run, signed.note(),
                                      appender.frontier.encoded())  # fmt: skip
            folder = settings.output_dir / NIS / f"{night}-run-{run:06d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"checkpoint-{appender.size}.txt").write_text(signed.note())
        with engine.connect() as connection:
            publish_log(NIS, DispatchLogStore(connection), LogFolders(settings.output_dir).log(NIS),
                        key_ring(settings), RunControl())  # fmt: skip
    finally:
        engine.dispose()
    return appender.size


def _run_entries(
    run: int, night: date, documents: list[tuple[str, str]], last: bool, out: Path
) -> list[list[NewEntry]]:
    """One run's entries, as a run seals them (synthetic holders, never real numbers)."""
    stamp = f"{night}T00:45:00.000000Z"
    chunks = [[NewEntry(run, LogEvent.RUN, stamp, {
        "as_of": night.isoformat(), "started_at": f"{night}T00:30:00.000000Z",
        "started_by": "bench", "config_sha256": "c" * 64, "code_version": "0.1.0",
        "municipalities": [NIS], "registry": [], "missed_nights": None,
        "attempts": [{"attempt": 1, "started_by": "bench", "worker": "bench:1",
                      "started_at": f"{night}T00:30:00.000000Z", "outcome": "running",
                      "step": "printed", "failure": None}],
    })]]  # fmt: skip
    stage = "expired" if last else "first"
    skipped = documents[: len(documents) * 2 // 5] if last else []
    chunks.append([
        NewEntry(run, LogEvent.SKIP, stamp, {
            "final": True, "expires_on": "2027-05-01", "document_import_id": 1,
            "person_import_id": 1,
        }, document_kind=kind, document_number=number, stage=stage, reason="too_late",
            holder=f"{85000000000 + n:011d}")
        for n, (kind, number) in enumerate(skipped)
    ])  # fmt: skip
    letters = documents[len(skipped) :]
    folder = out / NIS / f"{night}-run-{run:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(letters), VOLUME_LETTERS):
        part = letters[start : start + VOLUME_LETTERS]
        path = folder / f"volume-{start // VOLUME_LETTERS + 1:03d}.pdf"
        for file in (path, path.with_suffix(".csv"), path.with_suffix(".json"),
                     path.with_name(f"{path.name}.sha256")):  # fmt: skip
            file.write_bytes(b"synthetic")
        volume = NewEntry(run, LogEvent.VOLUME, stamp, {
            "path": str(path), "sha256": "d" * 64, "letters": len(part), "pages": len(part),
            "sequence": start // VOLUME_LETTERS + 1, "language": None,
        })  # fmt: skip
        chunks.append([volume, *(
            NewEntry(run, LogEvent.LETTER, stamp, {
                "volume": str(path), "page": page + 1, "pages": 1,
                "templates": f"{kind}/{stage}.nl.txt.j2", "template_sha256": "a" * 64,
                "address_sha256": f"{page:064x}", "expires_on": "2027-05-01",
                "citizen_language": "nl", "document_import_id": 1, "person_import_id": 1,
            }, document_kind=kind, document_number=number, stage=stage, language="nl",
                reference=f"{NIS}-{run:06d}-{start + page + 1:06d}",
                holder=f"{86000000000 + start + page:011d}")
            for page, (kind, number) in enumerate(part)
        )])  # fmt: skip
    chunks.append([NewEntry(run, LogEvent.SEALED, stamp, {
        "letters": len(letters), "skips": len(skipped),
        "volumes": -(-len(letters) // VOLUME_LETTERS),
    })])  # fmt: skip
    return chunks


def timed(config: Path, url: str, *args: str) -> tuple[float, float, int, str]:
    """A `reminders` command as a process: seconds, CPU seconds, peak RSS, its output."""
    command = [str(Path(sys.executable).parent / "reminders"), *args, "--config", str(config)]
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command,
        env={**os.environ, "REMINDERS_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=config.parent,
    )
    peaks, done = Peaks(process.pid), threading.Event()
    watcher = threading.Thread(target=peaks.watch, args=(done,), daemon=True)
    watcher.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"reminders {' '.join(args)} exited {process.returncode}:\n{out}")
    return seconds, peaks.cpu.get(process.pid, 0.0), peaks.run, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    print(machine())
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    rows = []
    for engine in args.engines.split(","):
        folder = OUT / engine
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        config = write_config(folder, 1)
        print(f"  {engine}: loading {args.entries // 2:,} documents and logging ten runs "
              "(untimed) ...", flush=True)  # fmt: skip
        backup_url, source_url = databases(engine, args.entries // 2, folder)
        if reminders(config, source_url, "init").returncode != 0:
            raise SystemExit("reminders init failed")
        size = published_log(config, source_url, args.entries)
        load = os.getloadavg()[0]
        out = str(load_settings(config, environ={}).output_dir)
        verify_s, verify_cpu, verify_rss, _ = timed(config, backup_url, "audit", "verify",
                                                    "--from", out)  # fmt: skip
        recover_s, recover_cpu, recover_rss, said = timed(config, backup_url, "recover")
        check = reminders(config, backup_url, "audit", "verify")
        rows.append((engine, size, recover_s, recover_cpu, recover_rss, verify_s, verify_cpu,
                     verify_rss, load, check.returncode == 0))  # fmt: skip
        print(said, end="", flush=True)
    print()
    print("| engine | entries | recover s | CPU s | entries/s | peak RSS MB | verify --from s "
          "(peer) | CPU s | peak RSS MB | load before | audit verify after |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for (engine, size, seconds, cpu, rss, verify_s, verify_cpu, verify_rss, load,
         intact) in rows:  # fmt: skip
        print(f"| {engine} | {size:,} | {seconds:.1f} | {cpu:.1f} | {size / seconds:,.0f} | "
              f"{rss / MB:,.0f} | {verify_s:.1f} | {verify_cpu:.1f} | {verify_rss / MB:,.0f} | "
              f"{load:.1f} | {'intact' if intact else 'BROKEN'} |")  # fmt: skip


if __name__ == "__main__":
    main()
