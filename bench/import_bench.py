"""Benchmark: importing a synthetic registry into SQLite and PostgreSQL.

Run: .venv/bin/python bench/import_bench.py [--persons 1000000] [--engines sqlite,postgresql]

Each import runs as a real `reminders import` subprocess, so the figures include start-up,
validation and the merge, and peak memory (max RSS) is that process's alone. The peer, timed in
the same run on the same rows, is a plain bulk load with no validation at all: sqlite3
``executemany`` into a bare table, and PostgreSQL ``COPY`` of the file. Figures are printed, not
asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reminders.synthetic import (  # noqa: E402 - after the path set-up
    SyntheticMunicipality,
    SyntheticSpec,
    write_synthetic_registry,
)

OUT = REPO / "bench" / "out"
PG_ADMIN = os.environ.get("REMINDERS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_DATABASE = "reminders_bench"
MUNICIPALITIES = (
    SyntheticMunicipality("44021", "Gent", ("nl",)),
    SyntheticMunicipality("21004", "Bruxelles / Brussel", ("fr", "nl")),
    SyntheticMunicipality("63023", "Eupen", ("de",)),
)


def registry(persons: int) -> tuple[Path, Path]:
    """The synthetic extracts, generated once per size and reused."""
    folder = OUT / f"registry-{persons}"
    persons_csv, documents_csv = folder / "persons.csv", folder / "documents.csv"
    if not documents_csv.exists():
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        spec = SyntheticSpec(persons, seed=1, as_of=date(2026, 11, 24),
                             municipalities=MUNICIPALITIES)  # fmt: skip
        counts = write_synthetic_registry(spec, persons_csv, documents_csv)
        seconds = time.perf_counter() - started
        print(f"generated {counts.persons:,} persons and {counts.documents:,} documents "
              f"in {seconds:.1f} s ({counts.persons / seconds:,.0f} persons/s)")  # fmt: skip
    return persons_csv, documents_csv


def rows_in(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def timed_command(args: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall time, peak RSS (MiB) and CPU seconds (user + system, with the children it waited
    for, if any) of one subprocess."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE)  # noqa: S603 - our own CLI
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    output = process.stdout.read().decode() if process.stdout else ""
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    print("   ", output.strip().splitlines()[0])
    return seconds, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def ours(url: str, persons_csv: Path, documents_csv: Path) -> dict[str, tuple[float, int, float]]:
    env = {**os.environ, "REMINDERS_DATABASE_URL": url}
    cli = [str(Path(sys.executable).parent / "reminders")]
    config = ["--config", str(REPO / "config.toml")]
    subprocess.run([*cli, "init", *config], env=env, check=True, capture_output=True)  # noqa: S603
    timings: dict[str, tuple[float, int, float]] = {}
    # The first import loads empty tables; the second finds every row unchanged, as a
    # municipality's weekly full extract mostly does.
    for attempt in ("", " again"):
        for kind, path in (("persons", persons_csv), ("documents", documents_csv)):
            timings[kind + attempt] = timed_command([*cli, "import", kind, str(path), *config], env)
    return timings


def sqlite_peer(path: Path, database: Path) -> float:
    """sqlite3 executemany of the raw rows into a bare table: no checks, no indexes."""
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        connection.execute(f"CREATE TABLE peer ({', '.join(header)})")
        marks = ", ".join("?" * len(header))
        connection.executemany(f"INSERT INTO peer VALUES ({marks})", reader)
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def postgres_peer(url: str, path: Path) -> float:
    """COPY of the file into a bare table of text columns: no checks, no indexes."""
    with psycopg.connect(url, autocommit=True) as connection:
        header = path.open(encoding="utf-8").readline().strip().split(";")
        connection.execute("DROP TABLE IF EXISTS peer")
        connection.execute(f"CREATE TABLE peer ({', '.join(f'{c} text' for c in header)})")
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY peer FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)"
            ) as copy,
            path.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        connection.execute("DROP TABLE peer")
    return seconds


def fresh_postgres() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    persons_csv, documents_csv = registry(args.persons)
    sizes = {"persons": rows_in(persons_csv), "documents": rows_in(documents_csv)}
    results = []
    for engine in args.engines.split(","):
        print(f"{engine}:")
        if engine == "sqlite":
            database = OUT / "bench.sqlite3"
            for stale in OUT.glob("bench.sqlite3*"):
                stale.unlink()
            timings = ours(f"sqlite:///{database}", persons_csv, documents_csv)
            peers = {
                kind: sqlite_peer(path, OUT / "peer.sqlite3")
                for kind, path in (("persons", persons_csv), ("documents", documents_csv))
            }
        else:
            url = fresh_postgres()
            timings = ours(url.replace("postgresql://", "postgresql+psycopg://"),
                           persons_csv, documents_csv)  # fmt: skip
            peers = {
                kind: postgres_peer(url, path)
                for kind, path in (("persons", persons_csv), ("documents", documents_csv))
            }
        for label, (seconds, peak_mib, cpu) in timings.items():
            kind = label.split()[0]
            rate, peer_rate = sizes[kind] / seconds, sizes[kind] / peers[kind]
            results.append((engine, label, sizes[kind], seconds, cpu, rate, peak_mib, peer_rate))
        first = [timings["persons"], timings["documents"]]
        total_rows = sum(sizes.values())
        total_seconds = sum(seconds for seconds, _, _ in first)
        results.append((engine, "both files, first load", total_rows, total_seconds,
                        sum(cpu for _, _, cpu in first), total_rows / total_seconds,
                        max(p for _, p, _ in first), total_rows / sum(peers.values())))  # fmt: skip
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine)")
    print(
        "| engine | file | rows | seconds | CPU s | rows/s | peak RSS | peer rows/s | ours/peer |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for engine, kind, rows, seconds, cpu, rate, peak, peer_rate in results:
        print(f"| {engine} | {kind} | {rows:,} | {seconds:.1f} | {cpu:.1f} | {rate:,.0f} | "
              f"{peak} MiB | {peer_rate:,.0f} | {rate / peer_rate:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
