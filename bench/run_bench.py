"""Benchmark: a whole `reminders run`, from start to sealed log, on SQLite and PostgreSQL.

Run: .venv/bin/python -m bench run [--persons 1700000] [--engines sqlite,postgresql]
     [--workers 1,2] [--peer-letters 200] [--no-publish-peer]

A synthetic registry (the generator of `reminders demo`, three municipalities of config.toml)
is imported once per engine with the real `reminders import`, untimed. Each measurement then
gets a fresh copy of that database (SQLite's backup API; PostgreSQL's CREATE DATABASE ...
TEMPLATE) and runs `reminders run --date` as a subprocess with `[print] workers` set: its first
night decides every stage under way, prints every letter into volumes (fsynced, recorded one
transaction each), seals the dispatch log with a signed checkpoint per municipality and
publishes the files. The wall time runs from the start of the process to its exit; the peak
memory of each process (the run's own and each render worker) is its VmHWM, read from /proc
every 20 ms while it runs.

The peer, timed in the same bench, is WeasyPrint rendering a sample of the very letters the
run printed (rebuilt from the database the way the print step builds them: facts, spec, the
templates' texts) in its fastest mode, one document (see bench/render.py). It renders only,
with no database, log or files of a run: the ratio flatters the peer.

What publishing the dispatch log costs (issue 20) is measured in the same bench: each run is
made a second time on a fresh copy with the publishing left out (bench/run_unpublished.py: no
tiles staged by the seal, no log published), and the table gives both times and the
difference (`--no-publish-peer` skips it).
Figures are printed, not asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.import_bench import PG_ADMIN, registry  # noqa: E402
from bench.render import Letter, machine, run_peer  # noqa: E402
from reminders.adapters.db.letter_store import LetterStore  # noqa: E402
from reminders.adapters.db.orm import LetterRow  # noqa: E402
from reminders.adapters.printing.text import LetterTemplates  # noqa: E402
from reminders.config import load_settings  # noqa: E402
from reminders.domain.letters import letter_spec  # noqa: E402

OUT = REPO / "bench" / "out"
AS_OF = date(2026, 11, 24)  # the registry's date and the night run
PG_BASE, PG_RUN = "reminders_bench_run_base", "reminders_bench_run"
MB = 1_000_000


@dataclass(slots=True)
class Peaks:
    """The peak RSS of each process of a run's process tree, in bytes, by pid."""

    root: int
    by_pid: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)  # user + system seconds, last seen

    def watch(self, done: threading.Event) -> None:
        while not done.wait(0.02):
            for pid in self._tree(self.root):
                peak = _vm_hwm(pid)
                if peak:
                    self.by_pid[pid] = max(self.by_pid.get(pid, 0), peak)
                    self.names.setdefault(pid, _command(pid))
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_seconds(pid))

    def _tree(self, pid: int) -> list[int]:
        found, stack = [], [pid]
        while stack:
            current = stack.pop()
            found.append(current)
            try:
                children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            except OSError:
                continue
            stack.extend(int(child) for child in children)
        return found

    @property
    def run(self) -> int:
        return self.by_pid.get(self.root, 0)

    @property
    def workers(self) -> list[int]:
        return [peak for pid, peak in self.by_pid.items() if self._is_worker(pid)]

    @property
    def workers_cpu(self) -> float:
        return sum(seconds for pid, seconds in self.cpu.items() if self._is_worker(pid))

    def _is_worker(self, pid: int) -> bool:
        return "spawn_main" in self.names[pid] and "resource_tracker" not in self.names[pid]


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class RunFigures:
    engine: str
    workers: int
    letters: int
    volumes: int
    seconds: float
    run_peak: int
    worker_peak: int
    run_cpu: float  # seconds of CPU of the run's own process (as last seen, 20 ms before exit)
    workers_cpu: float  # of all its render workers together
    published: bool = True  # False: the peer, without the dispatch log's publishing
    seal_s: float = 0.0  # from the run's own log (-v): printed → sealed
    publish_s: float = 0.0  # sealed → published (the logs, the volumes' final names)

    @property
    def rate(self) -> float:
        return self.letters / self.seconds


def write_config(folder: Path, workers: int) -> Path:
    """The repository's config.toml with its own output folder and keys."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    replacements = (("workers = 0 ", f"workers = {workers} "),)
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"config.toml no longer has {old!r}: update bench/run_bench.py")
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def reminders(config: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "reminders"), *args, "--config", str(config)]
    return subprocess.run(  # noqa: S603 - our own command line
        command,
        env={**os.environ, "REMINDERS_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
        cwd=config.parent,
    )


def base_database(engine: str, persons: int, folder: Path) -> str:
    """The imported registry, once per engine and size (reused by later benches)."""
    persons_csv, documents_csv = registry(persons)
    config = write_config(folder / "import", 1)
    if engine == "sqlite":
        database = OUT / f"run-base-{persons}.sqlite3"
        url = f"sqlite:///{database}"
        if database.exists():
            return url
        partial = database.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        partial_url = f"sqlite:///{partial}"
    else:
        url = _pg_url(f"{PG_BASE}_{persons}")
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            found = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (f"{PG_BASE}_{persons}",)
            ).fetchone()
            if found:
                return url
            admin.execute(f"CREATE DATABASE {PG_BASE}_{persons}_partial")
        partial_url = _pg_url(f"{PG_BASE}_{persons}_partial")
    print(f"  importing {persons:,} persons into {engine} (untimed) ...", flush=True)
    reminders(config, partial_url, "init")
    reminders(config, partial_url, "import", "persons", str(persons_csv))
    reminders(config, partial_url, "import", "documents", str(documents_csv))
    if engine == "sqlite":
        partial.rename(database)
    else:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                f"ALTER DATABASE {PG_BASE}_{persons}_partial RENAME TO {PG_BASE}_{persons}"
            )
    return url


def _pg_url(database: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + (
        f"/{database}"
    )


def fresh_copy(engine: str, base_url: str, folder: Path) -> str:
    if engine == "sqlite":
        target = folder / "run.sqlite3"
        origin, copy = sqlite3.connect(base_url.removeprefix("sqlite:///")), sqlite3.connect(target)
        try:
            origin.backup(copy)
        finally:
            origin.close()
            copy.close()
        return f"sqlite:///{target}"
    base = base_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_RUN} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_RUN} TEMPLATE {base}")
    return _pg_url(PG_RUN)


def timed_run(
    engine: str, base_url: str, workers: int, folder: Path, *, published: bool = True
) -> tuple[RunFigures, str]:
    config = write_config(folder, workers)
    url = fresh_copy(engine, base_url, folder)
    reminders(config, url, "init")  # the signing key of this installation
    program = (
        [str(Path(sys.executable).parent / "reminders")]
        if published
        else [sys.executable, str(REPO / "bench" / "run_unpublished.py")]
    )
    command = [*program, "-v", "run", "--date", AS_OF.isoformat(), "--json", "--config",
               str(config)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command,
        env={**os.environ, "REMINDERS_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,
    )
    peaks, done = Peaks(process.pid), threading.Event()
    watcher = threading.Thread(target=peaks.watch, args=(done,), daemon=True)
    watcher.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"reminders run exited {process.returncode}:\n{stderr}")
    summary = json.loads(stdout)
    letters, volumes = summary["letters"], len(summary["volumes"])
    figures = RunFigures(
        engine,
        workers,
        letters,
        volumes,
        seconds,
        peaks.run,
        max(peaks.workers, default=0),
        peaks.cpu.get(process.pid, 0.0),
        peaks.workers_cpu,
        published,
        *_step_seconds(stderr),
    )
    return figures, url


def _step_seconds(log: str) -> tuple[float, float]:
    """The seal's and the publish step's seconds, from the run's own log lines (-v)."""
    moments = {}
    for line in log.splitlines():
        for mark in ("letters printed", "sealed into", "volumes published"):
            if mark in line:
                # The log's local wall clock, read as UTC: only differences are used.
                moments[mark] = datetime.strptime(line[:23] + "+0000", "%Y-%m-%d %H:%M:%S,%f%z")
    if len(moments) < 3:
        return 0.0, 0.0
    seal = moments["sealed into"] - moments["letters printed"]
    publish = moments["volumes published"] - moments["sealed into"]
    return seal.total_seconds(), publish.total_seconds()


def peer_sample(config: Path, url: str, count: int) -> list[Letter]:
    """``count`` of the letters the run printed, spread evenly, rebuilt as the print step
    builds them (the registry is unchanged since, so the facts are the same)."""
    settings = load_settings(config, environ={"REMINDERS_DATABASE_URL": url})
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(LetterRow)) or 0
            step = max(1, total // count)
            rows = connection.execute(
                select(LetterRow.decision_id, LetterRow.reference)
                .order_by(LetterRow.decision_id)
                .where((LetterRow.decision_id % step) == 0)
                .limit(count)
            ).all()
            facts = LetterStore(connection).letter_facts([row[0] for row in rows])
    finally:
        engine.dispose()
    templates = LetterTemplates(settings.template_folders)
    chosen = []
    for (_, reference), letter in zip(rows, facts, strict=True):
        municipality = settings.municipality(reference.split("-")[0])
        address = letter.address
        assert address is not None  # noqa: S101 - it was printed
        spec = letter_spec(
            letter,
            settings.policies[letter.document.kind],
            reference=reference,
            municipality_nis=municipality.nis_code,
            letter_date=AS_OF,
            country_name=templates.country_name(address.country, letter.languages[0])
            if address.is_foreign
            else None,
        )
        chosen.append(Letter(municipality, spec, letter.decision_id, "", address.postal_code or ""))
    return chosen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--persons", type=int, default=1_700_000, help="1.7 million give about 100,000 letters"
    )
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2", help="[print] workers to compare")
    parser.add_argument("--peer-letters", type=int, default=200)
    parser.add_argument(
        "--no-publish-peer", action="store_true", help="skip the runs without publishing"
    )
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(machine())
    started = time.perf_counter()
    rows: list[RunFigures] = []
    sample: list[Letter] = []
    work = OUT / "run-bench"
    for engine in args.engines.split(","):
        folder = work / engine
        base = base_database(engine, args.persons, folder)
        for workers in (int(w) for w in args.workers.split(",")):
            shutil.rmtree(folder / f"workers-{workers}", ignore_errors=True)
            print(f"  {engine}, [print] workers = {workers} ...", flush=True)
            figures, url = timed_run(engine, base, workers, folder / f"workers-{workers}")
            rows.append(figures)
            print(f"    {figures.letters:,} letters in {figures.seconds:.1f} s", flush=True)
            if not sample and args.peer_letters:
                config = folder / f"workers-{workers}" / "config.toml"
                sample = peer_sample(config, url, args.peer_letters)
            if not args.no_publish_peer:
                shutil.rmtree(folder / f"unpublished-{workers}", ignore_errors=True)
                print(f"  {engine}, [print] workers = {workers}, without publishing ...",
                      flush=True)  # fmt: skip
                peer_run, _ = timed_run(engine, base, workers, folder / f"unpublished-{workers}",
                                        published=False)  # fmt: skip
                rows.append(peer_run)
                print(f"    {peer_run.letters:,} letters in {peer_run.seconds:.1f} s", flush=True)
    peer = run_peer("one document", sample) if sample else None
    peer_rate = peer.letters / peer.seconds if peer else 0.0
    print()
    print("| engine | workers | letters | volumes | s, start to sealed log | letters/s "
          "| vs 1 worker | vs WeasyPrint | peak RSS run MB | peak RSS per worker MB "
          "| CPU µs/letter run | CPU µs/letter workers |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in (r for r in rows if r.published):
        single = next((r for r in rows if r.engine == row.engine and r.workers == 1), row)
        versus = f"{row.rate / peer_rate:,.0f}x" if peer_rate else "-"
        print(f"| {row.engine} | {row.workers} | {row.letters:,} | {row.volumes} | "
              f"{row.seconds:.1f} | {row.rate:,.0f} | {row.rate / single.rate:.2f}x | {versus} | "
              f"{row.run_peak / MB:,.0f} | {row.worker_peak / MB:,.0f} | "
              f"{row.run_cpu / row.letters * 1e6:,.0f} | "
              f"{row.workers_cpu / row.letters * 1e6:,.0f} |")  # fmt: skip
    peers = [r for r in rows if not r.published]
    if peers:
        print("\nWhat publishing the dispatch log costs (the same run without it):\n")
        print("| engine | workers | s with publishing | s without | difference | CPU s of "
              "the run's process, with / without | seal s, with / without | publish step s, "
              "with / without |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for peer_run in peers:
        row = next(r for r in rows if r.published and (r.engine, r.workers) == (
            peer_run.engine, peer_run.workers))  # fmt: skip
        print(f"| {row.engine} | {row.workers} | {row.seconds:.1f} | {peer_run.seconds:.1f} | "
              f"{(row.seconds / peer_run.seconds - 1) * 100:+.1f} % | "
              f"{row.run_cpu:.1f} / {peer_run.run_cpu:.1f} | "
              f"{row.seal_s:.1f} / {peer_run.seal_s:.1f} | "
              f"{row.publish_s:.1f} / {peer_run.publish_s:.1f} |")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if peer:
        print(f"\npeer: WeasyPrint, one document, {peer.letters} of the run's letters: "
              f"{peer.seconds:.1f} s, {peer_rate:.1f} letters/s, "
              f"peak {peer.peak_rss / MB:,.0f} MB")  # fmt: skip
    print(f"\nwhole bench: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
