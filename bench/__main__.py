"""The benchmarks as one harness: `python -m bench <name> [options]`, or `python -m bench all`.

Each benchmark prints its figures next to a peer measured in the same run (bench/README.md);
none asserts anything. `all` runs them one after the other, each in a process of its own, with
the sizes the README's table was taken at, and keeps the whole output in
bench/out/report-<date>.md as well.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHES = {
    "import": ("bench.import_bench", "registry import, rows/s, against a plain bulk load"),
    "scan": ("bench.scan_bench", "one night's decision at 1 and 10 million documents"),
    "render": ("bench.render", "rendering letters/s, 1 and 2 processes, against WeasyPrint"),
    "log": ("bench.log_bench", "sealing the dispatch log, against plain inserts"),
    "run": ("bench.run_bench", "a whole run, start to sealed log, letters/s and peak memory"),
    "recover": ("bench.recover_bench", "recover of a 1,000,000-entry published log"),
    "email": ("bench.email_bench", "e-mails handed to a loopback relay/s, beside letters/s"),
}
# The modules of the peers a bench measures against (the bench extra), by bench.
PEERS = {"render": ("weasyprint",), "run": ("weasyprint",)}
# The sizes of the README's table (`all`); each bench alone takes its own defaults.
REPORT = {
    "import": ["--persons", "1000000"],
    "scan": ["--documents", "1000000", "10000000", "--same-due"],
    "render": [],
    "log": ["--entries", "100000"],
    "run": [],
    "recover": [],
    "email": [],
}


def _missing(*names: str) -> str | None:
    """What these benches' peers need and this environment lacks, said as what to install."""
    lacking = sorted({m for n in names for m in PEERS.get(n, ()) if find_spec(m) is None})
    if not lacking:
        return None
    return (
        f"python -m bench {' '.join(names) if len(names) == 1 else 'all'} measures against "
        f"{', '.join(lacking)}, which is not installed here: install the bench extra, "
        "`.venv/bin/pip install -e '.[bench]'`, then run it again"
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in {*BENCHES, "all"}:
        print(__doc__)
        for name, (_, what) in BENCHES.items():
            print(f"  {name:<7} {what}")
        print("  all     every one of them, as in the README's table")
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    name, options = argv[0], argv[1:]
    if name == "all" and options:
        print("all takes no options: it runs every bench at the README's sizes")
        return 2
    missing = _missing(*(BENCHES if name == "all" else [name]))
    if missing:
        print(missing)
        return 2
    if name != "all":
        module = importlib.import_module(BENCHES[name][0])
        sys.argv = [f"python -m bench {name}", *options]
        module.main()
        return 0
    report = REPO / "bench" / "out" / f"report-{datetime.now(UTC):%Y-%m-%dT%H%M}.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with report.open("w", encoding="utf-8") as out:
        for bench in BENCHES:
            command = [sys.executable, "-m", "bench", bench, *REPORT[bench]]
            heading = f"\n## python -m bench {' '.join(command[3:])}\n"
            print(heading, flush=True)
            out.write(heading)
            process = subprocess.Popen(  # noqa: S603 - this interpreter, our own benches
                command, cwd=REPO, stdout=subprocess.PIPE, text=True
            )
            assert process.stdout is not None  # noqa: S101 - asked for above
            for line in process.stdout:
                print(line, end="", flush=True)
                out.write(line)
            if process.wait() != 0:
                print(f"{bench} failed with exit status {process.returncode}")
                return 1
    print(f"\nall benches: {time.perf_counter() - started:.0f} s; output kept in {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
