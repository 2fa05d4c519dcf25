"""Benchmark: the dispatch log's cost, sealing and verifying, against writing the same rows
without hashing them.

Run: .venv/bin/python bench/log_bench.py [--entries 100000] [--engines sqlite postgresql]

For each engine, a scratch schema made by the shipped migrations gets ``--entries`` letter
entries appended in one transaction the way a run seals them (canonical JSON, two SHA-256 per
entry, a salted commitment per holder, batched inserts of entries and holders, a signed
checkpoint), then the whole log is verified as `reminders audit verify` does (read back in
key order, every entry, link, holder and root recomputed, the signature checked). The peer,
timed in the same run on the same rows, inserts identical rows with the hashing left out:
the ratio is what tamper evidence costs on top of writing the log at all. Figures are
printed, not asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reminders.adapters.crypto.signing_key import SigningKey  # noqa: E402
from reminders.adapters.db.dispatch_log_store import DispatchLogStore  # noqa: E402
from reminders.adapters.db.engine import make_engine  # noqa: E402 - after the path set-up
from reminders.adapters.db.schema import upgrade_schema  # noqa: E402
from reminders.domain.checkpoint import KeyRing, VerifierKey  # noqa: E402
from reminders.domain.dispatch_log import LogEntry, LogEvent, NewEntry  # noqa: E402
from reminders.services.audit import verify_logs  # noqa: E402
from reminders.services.seal_log import append_and_seal  # noqa: E402

PG_ADMIN = os.environ.get("REMINDERS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_DATABASE = "reminders_log_bench"
NIS = "44021"
NOW = datetime(2027, 3, 1, 0, 30, tzinfo=UTC)


def letters(count: int) -> list[NewEntry]:
    """Letter entries as a run would log them (synthetic numbers, never real ones)."""
    return [
        NewEntry(
            1, LogEvent.LETTER, "2027-03-01T00:30:00.000000Z",
            {
                "volume": f"/srv/reminders/out/{NIS}/2027-03-01-run-000001/volume-"
                          f"{n // 1000 + 1:03d}.pdf",
                "page": n % 1000 + 1, "pages": 1,
                "templates": "eid/first.nl.txt.j2", "template_sha256": "a" * 64,
                "address_sha256": f"{n:064x}", "expires_on": "2027-05-01",
                "citizen_language": "nl", "document_import_id": 2, "person_import_id": 1,
            },
            document_kind="eid", document_number=f"59{n:010d}", stage="first",
            language="nl", reference=f"{NIS}-000001-{n + 1:06d}",
            holder=f"{85000000000 + n:011d}",
        )
        for n in range(count)
    ]  # fmt: skip


def engines(names: list[str], folder: Path) -> list[tuple[str, Engine]]:
    found = []
    for name in names:
        if name == "sqlite":
            found.append(("SQLite", make_engine(f"sqlite:///{folder / 'log.sqlite3'}")))
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
                admin.execute(f"CREATE DATABASE {PG_DATABASE}")
            url = PG_ADMIN.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0]
            found.append(("PostgreSQL", make_engine(f"{url}/{PG_DATABASE}")))
    return found


def measure(label: str, engine: Engine, entries: list[NewEntry]) -> None:
    upgrade_schema(engine)
    signer = SigningKey(Ed25519PrivateKey.generate(), "reminders")

    # The peer: the same rows, inserted without any hashing (hashes and holders left empty).
    with engine.begin() as connection:
        store = DispatchLogStore(connection)
        started = time.perf_counter()
        batch = []
        for seq, new in enumerate(entries):
            batch.append(
                (LogEntry("99999", seq, new.run_id, new.event.value, new.recorded_at,
                          new.document_kind, new.document_number, new.stage, new.reason,
                          new.language, new.reference, str(new.details), "", ""), None)
            )  # fmt: skip
            if len(batch) == 2_000:
                store.append(batch)
                batch = []
        store.append(batch)
        plain = time.perf_counter() - started

    with engine.begin() as connection:
        store = DispatchLogStore(connection)
        started = time.perf_counter()
        append_and_seal(NIS, [entries], store, signer, now=lambda: NOW)
        sealed = time.perf_counter() - started

    with engine.begin() as connection:
        started = time.perf_counter()
        log = DispatchLogStore(connection)
        ring = KeyRing((VerifierKey(signer.key_name, signer.public_key),))
        (verdict,) = verify_logs(log, ring, municipalities=[NIS])
        verified = time.perf_counter() - started
    assert verdict.intact, verdict.problems  # noqa: S101 - a broken bench is no figure

    count = len(entries)
    print(
        f"{label:<11} {count:>9,} entries | plain insert {count / plain:>9,.0f}/s | "
        f"sealed {count / sealed:>9,.0f}/s ({sealed / plain:.2f}x the plain insert) | "
        f"verified {count / verified:>9,.0f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument(
        "--engines", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    entries = letters(args.entries)
    with tempfile.TemporaryDirectory() as folder:
        for label, engine in engines(args.engines, Path(folder)):
            try:
                measure(label, engine, entries)
            finally:
                engine.dispose()
    if "postgresql" in args.engines:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (the {args.entries:,} new entries are held in memory)")


if __name__ == "__main__":
    main()
