"""Benchmark: one night's decision on synthetic registries of millions of documents.

Run: .venv/bin/python bench/scan_bench.py [--documents 1000000 10000000]
     [--engines sqlite postgresql] [--repeat 7] [--profile]

For each size and engine, a registry is loaded directly with set-based SQL into a schema made
by the shipped migrations (the import path is measured by bench/import_bench.py, not here):
persons (documents / 1.6) in the three municipalities of config.toml, documents expiring
uniformly over ten years around the bench's night, so about documents / 3,653 expire per day.
Then a real first run for the night before records everything under way and writes the scan
watermarks, and the night itself is decided as a dry run, warm, several times. With --same-due,
smaller registries spread their expiry dates over a proportionally shorter span, so every size
has as many documents due per night as the largest: the night's time should then not grow with
the registry. The reference,
timed in the same run on the same rows, is one full pass over the document table that reads
every row's expiry date. Figures are printed, not asserted: this is not a test.

SQLite files live in a temporary directory and PostgreSQL scratch databases are dropped
afterwards, unless --keep DIR: then the SQLite files are kept in DIR and the PostgreSQL
databases are left in place, and a later run with the same --keep, size and span reuses them
(upgraded to the current migrations; neither loaded nor first-run again). The registry is
loaded in a child process, so the peak RSS reported for this process is that of the runs,
not of SQLite's page cache during the load.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import multiprocessing
import os
import pstats
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlalchemy import Engine, Table, event, insert, inspect, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reminders.adapters.db.orm import RegistryImportRow  # noqa: E402 - after the path set-up
from reminders.adapters.db.schema import upgrade_schema  # noqa: E402
from reminders.bootstrap import open_engine, unit_of_work  # noqa: E402
from reminders.config import Settings, load_settings  # noqa: E402
from reminders.services.nightly_run import RunRequest, run_night  # noqa: E402
from reminders.services.run_summary import RunSummary  # noqa: E402

PG_ADMIN = os.environ.get("REMINDERS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_DATABASE = "reminders_scan_bench"
NIGHT = date(2026, 11, 24)  # a mid-month night: month-end clamping widens no window
SPAN_DAYS = 3653  # ten years of expiry dates, centred on the night
FIRST_EXPIRY = NIGHT - timedelta(days=SPAN_DAYS // 2)
PERSONS_PER_DOCUMENT = 1 / 1.6
PRIME = 2_147_483_647  # 2**31 - 1: a square of a residue still fits in a signed 64-bit integer


def _mixed(multiplier: int, offset: int) -> str:
    """A pseudo-random number from the row number i, the same on both engines (no seed, no
    XOR in SQLite): the square of a linear residue. Squaring keeps attributes drawn with
    different multipliers independent; linear residues alone are visibly correlated."""
    residue = f"((i * {multiplier} + {offset}) % {PRIME})"
    return f"(({residue} * {residue}) % {PRIME})"


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the engines in the load's SQL."""

    prefix: str  # before INSERT: SQLite counts rows with a recursive CTE
    numbers: str  # the row source, a column i from 1 to {n}
    padded: str  # {0}: an integer, as ten digits
    day: str  # {0}: the date that many days after FIRST_EXPIRY


DIALECTS = {
    "sqlite": Dialect(
        prefix="WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n})",
        numbers="g",
        padded="printf('%010d', {0})",
        day=f"date('{FIRST_EXPIRY.isoformat()}', ({{0}}) || ' days')",
    ),
    "postgresql": Dialect(
        prefix="",
        numbers="generate_series(CAST(1 AS BIGINT), CAST({n} AS BIGINT)) AS g(i)",
        padded="lpad(CAST({0} AS TEXT), 10, '0')",
        day=f"(DATE '{FIRST_EXPIRY.isoformat()}' + CAST({{0}} AS INTEGER))",
    ),
}

# area: Gent 50 %, Brussels 40 %, Eupen 10 %. fate (per mille): deceased 15, emigrated 10
# (foreign address), struck off 5 (no address), resident without a usable address 10.
PERSONS_SQL = """
{prefix}
INSERT INTO person (id, national_number, family_name, given_names, language, street,
    house_number, box, postal_code, locality, country, municipality_nis, status, status_since,
    guardian_national_number, import_id)
SELECT i,
    CAST(10000000000 + i AS TEXT),
    'Family' || CAST(i % 5000 AS TEXT),
    'Given' || CAST(i % 300 AS TEXT),
    CASE WHEN area < 50 THEN 'nl' WHEN area >= 90 THEN 'de'
         WHEN tongue = 0 THEN 'fr' WHEN tongue = 1 THEN 'nl' END,
    CASE WHEN fate BETWEEN 25 AND 39 THEN NULL WHEN fate BETWEEN 15 AND 24 THEN 'Rue de Rivoli'
         ELSE 'Straat ' || CAST(i % 700 AS TEXT) END,
    CASE WHEN fate BETWEEN 25 AND 39 THEN NULL ELSE CAST(1 + i % 150 AS TEXT) END,
    NULL,
    CASE WHEN fate BETWEEN 25 AND 39 THEN NULL WHEN fate BETWEEN 15 AND 24 THEN '75001'
         WHEN area < 50 THEN '9000' WHEN area < 90 THEN '1000' ELSE '4700' END,
    CASE WHEN fate BETWEEN 25 AND 39 THEN NULL WHEN fate BETWEEN 15 AND 24 THEN 'Paris'
         WHEN area < 50 THEN 'Gent' WHEN area < 90 THEN 'Bruxelles' ELSE 'Eupen' END,
    CASE WHEN fate BETWEEN 15 AND 24 THEN 'FR' ELSE 'BE' END,
    CASE WHEN area < 50 THEN '44021' WHEN area < 90 THEN '21004' ELSE '63023' END,
    CASE WHEN fate < 15 THEN 'deceased' WHEN fate < 25 THEN 'emigrated'
         WHEN fate < 30 THEN 'struck_off' ELSE 'resident' END,
    NULL, NULL, {import_id}
FROM (SELECT i, {area} % 100 AS area, {tongue} % 3 AS tongue, {fate} % 1000 AS fate
      FROM {numbers}) AS s
"""

# Documents 1..persons: one each (eID 95 %, kids-ID, passport); the rest go to persons
# 1..(documents - persons): driving licences 88 %, a second eID 4 % (a renewal when it expires
# later), passports. Status (per mille): renewed 30, revoked 10, lost 3. 1 % of driving
# licences are paper ones, without expiry date.
DOCUMENTS_SQL = """
{prefix}
INSERT INTO document (id, person_id, kind, number, issued_on, expires_on, status, import_id)
SELECT i,
    CASE WHEN i <= {persons} THEN i ELSE i - {persons} END,
    kind,
    {number},
    CASE WHEN kind = 'driving_licence' AND paper = 0 THEN NULL ELSE {issued} END,
    CASE WHEN kind = 'driving_licence' AND paper = 0 THEN NULL ELSE {expires} END,
    CASE WHEN state < 30 THEN 'renewed' WHEN state < 40 THEN 'revoked'
         WHEN state < 43 THEN 'lost' ELSE 'active' END,
    {import_id}
FROM (SELECT i, day, state, paper,
          CASE WHEN i <= {persons}
               THEN (CASE WHEN sort < 95 THEN 'eid' WHEN sort < 98 THEN 'kids_id'
                          ELSE 'passport' END)
               ELSE (CASE WHEN sort < 88 THEN 'driving_licence' WHEN sort < 92 THEN 'eid'
                          ELSE 'passport' END) END AS kind
      FROM (SELECT i, {day} % {span} AS day, {state} % 1000 AS state, {sort} % 100 AS sort,
                {paper} % 100 AS paper
            FROM {numbers}) AS mixed) AS s
"""


def _load_sql(dialect: Dialect, documents: int, import_id: int, span: int) -> tuple[str, str]:
    persons = round(documents * PERSONS_PER_DOCUMENT)
    shift = (SPAN_DAYS - span) // 2  # a shorter span stays centred on the night
    common = {"prefix": dialect.prefix, "numbers": dialect.numbers, "import_id": import_id}
    persons_sql = PERSONS_SQL.format(
        **common, area=_mixed(48271, 12345), tongue=_mixed(16807, 555), fate=_mixed(69621, 777)
    ).replace("{n}", str(persons))
    documents_sql = DOCUMENTS_SQL.format(
        **common,
        persons=persons,
        number=dialect.padded.format("i"),
        issued=dialect.day.format(f"day + {shift} - 3652"),
        expires=dialect.day.format(f"day + {shift}"),
        span=span,
        day=_mixed(39373, 4242),
        state=_mixed(40692, 99),
        sort=_mixed(40014, 31337),
        paper=_mixed(45742, 2024),
    ).replace("{n}", str(documents))
    return persons_sql, documents_sql


def load_registry(
    engine_name: str, url: str, documents: int, import_id: int, span: int
) -> tuple[float, int]:
    """Fill person and document; returns seconds and this (child) process's peak RSS (MiB).

    Secondary indexes are dropped first and rebuilt from their own definitions afterwards:
    building an index once is much faster than keeping it up to date row by row."""
    persons_sql, documents_sql = _load_sql(DIALECTS[engine_name], documents, import_id, span)
    started = time.perf_counter()
    if engine_name == "sqlite":
        _load_sqlite(url.removeprefix("sqlite:///"), persons_sql, documents_sql)
    else:
        _load_postgres(url, persons_sql, documents_sql)
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _load_sqlite(path: str, persons_sql: str, documents_sql: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode = DELETE",
            "journal_mode = OFF",
            "synchronous = OFF",
            "cache_size = -524288",
            "foreign_keys = OFF",
        ):
            connection.execute(f"PRAGMA {pragma}")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name IN ('person', 'document') AND sql IS NOT NULL"
        ).fetchall()
        connection.execute("BEGIN")
        for name, _ in indexes:
            connection.execute(f"DROP INDEX {name}")
        connection.execute(persons_sql)
        connection.execute(documents_sql)
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()


def _load_postgres(url: str, persons_sql: str, documents_sql: str) -> None:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        # Foreign keys are right by construction: no trigger per row. The bench runs as the
        # superuser of a local scratch cluster, which may set this.
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.execute("SET synchronous_commit = off")
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('person', 'document') "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f"DROP INDEX {name}")
        connection.execute(persons_sql)
        connection.execute(documents_sql)
        for _, definition in indexes:
            connection.execute(definition)
        for table in ("person", "document"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM (ANALYZE) person")
        connection.execute("VACUUM (ANALYZE) document")


@contextmanager
def scratch_database(
    engine_name: str, documents: int, span: int, keep: Path | None
) -> Iterator[str]:
    """A URL to a database for this size and span: empty and removed afterwards whatever
    happens, or with ``keep`` one that stays (and may hold an earlier run's registry)."""
    if engine_name == "sqlite":
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            yield f"sqlite:///{keep.resolve()}/bench-{documents}-{span}.sqlite3"
            return
        with tempfile.TemporaryDirectory(prefix="scan-bench-") as folder:
            yield f"sqlite:///{folder}/bench-{documents}.sqlite3"
        return
    name = f"{PG_DATABASE}_{documents}" + (f"_{span}" if keep is not None else "")
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        kept = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if keep is None or kept is None:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + (
            f"/{name}"
        )
    finally:
        if keep is None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def kept_first_run(engine: Engine) -> tuple[int, int] | None:
    """A kept database's first run (looked at, letters), if it finished one: its registry is
    then complete, as the first run comes after the load."""
    with engine.connect() as connection:
        if "nightly_run" not in inspect(connection).get_table_names():
            return None
        row = connection.execute(
            text(
                "SELECT letters, tally FROM nightly_run "
                "WHERE as_of = :night AND outcome = 'succeeded' AND started_by = 'bench'"
            ),
            {"night": NIGHT - timedelta(days=1)},
        ).first()
    if row is None:
        return None
    letters, tally = row
    municipalities = json.loads(tally)["municipalities"].values()
    return sum(int(outcome["looked_at"]) for outcome in municipalities), int(letters)


def start_import(engine: Engine, documents: int) -> int:
    """The one registry_import row every loaded row points to."""
    table = cast(Table, RegistryImportRow.__table__)
    moment = datetime.combine(NIGHT - timedelta(days=2), clock_time(22), tzinfo=UTC)
    with engine.begin() as connection:
        import_id = connection.scalar(
            insert(table)
            .values(
                kind="documents",
                file_name="synthetic",
                file_sha256="0" * 64,
                started_at=moment,
                finished_at=moment,
                rows_read=documents,
                inserted=documents,
                updated=0,
                unchanged=0,
                rejected=0,
            )
            .returning(table.c.id)
        )
    assert import_id is not None  # noqa: S101 - RETURNING gives the new key
    return int(import_id)


def settle(engine: Engine) -> None:
    """Statistics on what the first run wrote, as a night after the first would have them;
    on PostgreSQL also so that autovacuum does not start during the timed runs."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE)")


def request_for(settings: Settings, night: date, *, dry_run: bool) -> RunRequest:
    return RunRequest(
        as_of=night,
        municipalities=settings.municipalities,
        policies=settings.policies,
        dry_run=dry_run,
        started_by="bench",
        config_sha256=settings.sha256,
        code_version="bench",
    )


def fixed_clock(night: date) -> Callable[[], datetime]:
    moment = datetime.combine(night, clock_time(0, 30), tzinfo=UTC)
    return lambda: moment


def timed_run(engine: Engine, request: RunRequest) -> tuple[float, RunSummary]:
    started = time.perf_counter()
    outcome = run_night(request, unit_of_work(engine), now=fixed_clock(request.as_of))
    assert outcome.summary is not None  # noqa: S101 - not skip_if_done: it ran
    summary = outcome.summary
    return time.perf_counter() - started, summary


def looked_at(summary: RunSummary) -> int:
    return sum(outcome.looked_at for outcome in summary.municipalities.values())


# Every row's expiry date and status: status is in no index, so this reads the table itself.
EVERY_ROW_SQL = (
    "SELECT count(*), min(expires_on), max(expires_on), "
    "sum(CASE WHEN status = 'active' THEN 1 ELSE 0 END) FROM document"
)


def full_pass_ms(engine: Engine, repeat: int) -> float:
    timings = []
    with engine.connect() as connection:
        for _ in range(repeat):
            started = time.perf_counter()
            connection.exec_driver_sql(EVERY_ROW_SQL).all()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


@dataclass(frozen=True, slots=True)
class Result:
    engine: str
    documents: int
    load_s: float  # NaN: a kept registry, not loaded by this run
    first_s: float  # NaN: likewise
    first_letters: int
    first_looked_at: int
    night_ms: float
    night_min_ms: float
    client_cpu_ms: float  # median CPU time of this process per night
    server_cpu_ms: float  # PostgreSQL: the backend's CPU per night (mean); SQLite: 0
    looked_at: int
    letters: int
    open_skips: int
    full_pass_ms: float


def _backend_cpu_s(pid: int) -> float:
    """CPU seconds a local PostgreSQL backend has used (Linux /proc; clock-tick resolution,
    so only meaningful summed over several runs)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid(engine: Engine) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return cast(int, connection.exec_driver_sql("SELECT pg_backend_pid()").scalar())


def timed_nights(
    engine: Engine, night: RunRequest, repeat: int
) -> tuple[float, list[float], list[float], float, RunSummary]:
    """The untimed warm-up, then ``repeat`` timed runs: wall ms, client CPU ms, and the
    PostgreSQL backend's mean CPU ms per run (the pool hands the same connection back)."""
    warm_up, summary = timed_run(engine, night)
    pid = _backend_pid(engine)
    backend_before = _backend_cpu_s(pid) if pid is not None else 0.0
    timings: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        cpu_before = time.process_time()
        seconds, summary = timed_run(engine, night)
        cpu.append((time.process_time() - cpu_before) * 1000)
        timings.append(seconds * 1000)
    server = 0.0
    if pid is not None:
        same = _backend_pid(engine) == pid
        server = (_backend_cpu_s(pid) - backend_before) * 1000 / repeat if same else math.nan
    return warm_up, timings, cpu, server, summary


def measure(
    engine_name: str,
    documents: int,
    span: int,
    settings: Settings,
    repeat: int,
    profile: bool,
    keep: Path | None,
) -> tuple[Result, int]:
    load_rss = 0
    with scratch_database(engine_name, documents, span, keep) as url:
        engine = open_engine(url, require_schema=False)
        try:
            kept = kept_first_run(engine) if keep is not None else None
            upgrade_schema(engine)  # a kept registry gets the migrations added since
            if kept is None:
                import_id = start_import(engine, documents)
        finally:
            engine.dispose()
        if kept is None:
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                load_s, load_rss = pool.apply(
                    load_registry, (engine_name, url, documents, import_id, span)
                )
            print(f"  loaded {documents:,} documents in {load_s:.1f} s", flush=True)
        engine = open_engine(url)
        try:
            if kept is None:
                first_s, first = timed_run(
                    engine, request_for(settings, NIGHT - timedelta(days=1), dry_run=False)
                )
                first_looked_at, first_letters = looked_at(first), first.letters
                print(
                    f"  first run for {NIGHT - timedelta(days=1)}: {first_s:.1f} s, "
                    f"{first_looked_at:,} looked at, {first_letters:,} letters",
                    flush=True,
                )
            else:
                load_s = first_s = math.nan
                first_looked_at, first_letters = kept
                print(f"  kept registry and first run ({first_letters:,} letters)", flush=True)
            settle(engine)
            with engine.connect() as connection:
                open_skips = connection.scalar(
                    text("SELECT count(DISTINCT document_id) FROM decision WHERE NOT final")
                )
            night = request_for(settings, NIGHT, dry_run=True)
            warm_up, timings, cpu, server_cpu, summary = timed_nights(engine, night, repeat)
            print(
                f"  night {NIGHT} (dry run): first {warm_up * 1000:.0f} ms, then "
                + ", ".join(f"{t:.0f}" for t in timings)
                + f" ms; CPU here {statistics.median(cpu):.0f} ms"
                + (f", in the backend {server_cpu:.0f} ms" if server_cpu else ""),
                flush=True,
            )
            reference = full_pass_ms(engine, max(3, repeat // 2))
            if profile:
                profiled(engine, night)
        finally:
            engine.dispose()
    result = Result(
        engine_name,
        documents,
        load_s,
        first_s,
        first_letters,
        first_looked_at,
        statistics.median(timings),
        min(timings),
        statistics.median(cpu),
        server_cpu,
        looked_at(summary),
        summary.letters,
        int(open_skips or 0),
        reference,
    )
    return result, load_rss


_IN_LIST = re.compile(r"\((?:\s*(?:\?|%\(\w+\)s(?:::\w+)?)\s*,?)+\)")
_CATEGORIES = (  # where a profiled function's own time goes, by the file it is in
    ("database driver and engine", ("sqlite3.", "psycopg")),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("dateutil (month offsets)", ("dateutil", "calendar.py")),
    ("reminders", ("/reminders/",)),
)


def profiled(engine: Engine, request: RunRequest) -> None:
    """Where one dry run's time goes: its SQL replayed alone, then the run under cProfile by
    package, then the plan of each distinct statement."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        run_ms = timed_run(engine, request)[0] * 1000
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    selects = [(s, p) for s, p in captured if s.lstrip().upper().startswith("SELECT")]
    by_statement: dict[str, list[float]] = defaultdict(list)
    with engine.connect() as connection:
        for attempt in range(2):  # the first warms the caches; the second is timed
            for statement, parameters in selects:
                started = time.perf_counter()
                connection.exec_driver_sql(statement, parameters).all()
                if attempt:
                    by_statement[_IN_LIST.sub("(...)", " ".join(statement.split()))].append(
                        (time.perf_counter() - started) * 1000
                    )
    sql_ms = sum(sum(times) for times in by_statement.values())
    print(f"  profile: the dry run took {run_ms:.1f} ms; its {len(selects)} SELECTs replayed "
          f"alone (execute + fetch all rows, no ORM) take {sql_ms:.1f} ms")  # fmt: skip
    for statement, times in sorted(by_statement.items(), key=lambda item: -sum(item[1])):
        print(f"    {len(times):4d} x {sum(times):7.1f} ms  {statement[:140]}")
    profiler = cProfile.Profile()
    profiler.enable()
    timed_run(engine, request)
    profiler.disable()
    stats = pstats.Stats(profiler)
    own: dict[str, float] = defaultdict(float)
    entries = cast(dict[tuple[str, int, str], tuple[Any, ...]], stats.stats)  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, tottime, *_) in entries.items():
        where = f"{filename}:{function}"
        category = next(
            (name for name, marks in _CATEGORIES if any(mark in where for mark in marks)),
            "other Python",
        )
        own[category] += tottime * 1000
    total = sum(own.values())
    print(f"  cProfile (inflates Python calls): {total:.0f} ms of own time by package: "
          + ", ".join(f"{name} {ms:.0f} ms ({ms / total:.0%})" for name, ms in
                      sorted(own.items(), key=lambda item: -item[1])))  # fmt: skip
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print("\n".join("    " + line for line in out.getvalue().splitlines()[6:] if line.strip()))
    sqlite = engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    seen: set[str] = set()
    with engine.connect() as connection:
        for statement, parameters in selects:
            key = _IN_LIST.sub("(...)", " ".join(statement.split()))
            if key in seen:
                continue
            seen.add(key)
            print("\n  " + key[:400])
            rows = connection.exec_driver_sql(explain + statement, parameters).all()
            for row in rows:
                print("    " + (str(row[-1]) if sqlite else str(row[0])))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--documents", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=7, help="timed dry runs per night")
    parser.add_argument("--profile", action="store_true", help="profile one dry run each")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the registries (SQLite files in DIR, PostgreSQL databases in place) and "
        "reuse those a run with the same --keep, size and span left",
    )
    parser.add_argument(
        "--same-due",
        action="store_true",
        help="the same number of documents due per night at every size: smaller registries "
        "spread their expiry dates over a proportionally shorter span than ten years",
    )
    parser.add_argument(
        "--span-days",
        type=int,
        help="spread every registry's expiry dates over this many days instead (365 for 1 "
        "million documents gives as many due per night as 10 million over ten years)",
    )
    args = parser.parse_args()
    engines = [name for value in args.engines for name in value.split(",") if name]
    unknown = set(engines) - set(DIALECTS)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    settings = load_settings(REPO / "config.toml", environ={})
    began = time.perf_counter()
    results: list[Result] = []
    load_peak = 0
    largest = max(args.documents)
    for documents in sorted(args.documents):
        span = round(SPAN_DAYS * documents / largest) if args.same_due else SPAN_DAYS
        span = args.span_days or span
        for engine_name in engines:
            print(f"{engine_name}, {documents:,} documents over {span:,} days:", flush=True)
            result, load_rss = measure(
                engine_name, documents, span, settings, args.repeat, args.profile, args.keep
            )
            results.append(result)
            load_peak = max(load_peak, load_rss)
    print_table(results, same_due=args.same_due, span_days=args.span_days)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\npeak RSS: {peak:,} MiB in this process (the runs); {load_peak:,} MiB in the loader")
    print(f"whole bench: {time.perf_counter() - began:.0f} s")


def _seconds(value: float) -> str:
    return "kept" if math.isnan(value) else f"{value:.1f}"


def print_table(results: list[Result], *, same_due: bool, span_days: int | None) -> None:
    print()
    days = span_days or SPAN_DAYS
    spread = (
        "expiry dates uniform over a span proportional to the registry (ten years for the "
        "largest), so the same number expire per day at every size"
        if same_due and not span_days
        else f"expiry dates uniform over {days:,} days, so documents / {days:,} expire per day"
    )
    print(f"night: {NIGHT} (dry run, warm; first run for the night before); {spread}")
    print()
    print(
        "| engine | documents | load s | first run s | first run letters | night ms "
        "(median / min) | CPU ms (client + server) | looked at | letters | open no_address "
        "| µs per look | full pass ms | full pass / night |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        per_look = r.night_ms * 1000 / r.looked_at if r.looked_at else 0.0
        print(
            f"| {r.engine} | {r.documents:,} | {_seconds(r.load_s)} | {_seconds(r.first_s)} | "
            f"{r.first_letters:,} | {r.night_ms:.0f} / {r.night_min_ms:.0f} | "
            f"{r.client_cpu_ms:.0f} + {r.server_cpu_ms:.0f} | "
            f"{r.looked_at:,} | {r.letters:,} | {r.open_skips:,} | {per_look:.0f} | "
            f"{r.full_pass_ms:,.0f} | {r.full_pass_ms / r.night_ms:.1f} |"
        )
    print()
    by_engine: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_engine[r.engine].append(r)
    for engine_name, rows in by_engine.items():
        largest = max(rows, key=lambda r: r.documents)
        verdict = "met" if largest.night_ms < 100 else "NOT met"
        line = (
            f"{engine_name}: night at {largest.documents:,} = {largest.night_ms:.0f} ms "
            f"(goal < 100 ms: {verdict})"
        )
        smallest = min(rows, key=lambda r: r.documents)
        if smallest is not largest:
            ratio = largest.night_ms / smallest.night_ms
            line += (
                f"; night({largest.documents:,}) / night({smallest.documents:,}) = "
                f"{ratio:.1f}x (goal < 2x: {'met' if ratio < 2 else 'NOT met'}; "
                f"looked at {largest.looked_at / smallest.looked_at:.1f}x as many)"
            )
        print(line)


if __name__ == "__main__":
    main()
