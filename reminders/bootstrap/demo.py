"""`reminders demo`: a synthetic registry, imported through the real import, on SQLite,
tonight's letters decided, printed and sealed into the dispatch log by the real nightly run,
and the log verified with an auditor's report on the run.

The demo never touches the configured database or signing key: it builds its own SQLite file
and key pair under the output directory, so a newcomer can run it anywhere and run it again.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta

from reminders.adapters.crypto.signing_key import create_key_pair
from reminders.adapters.db.registry_overview import MunicipalityOverview, registry_overview
from reminders.adapters.db.schema import upgrade_schema
from reminders.adapters.printing.audit_report_pdf import audit_report_pdf
from reminders.adapters.private_files import OWNER_ONLY
from reminders.bootstrap import (
    import_registry_file,
    key_ring,
    open_engine,
    printing,
    reported_municipalities,
    run_request,
    unit_of_work,
    utc_now,
)
from reminders.config import AuditOptions, KeySource, Settings
from reminders.domain.dispatch_log import LogVerdict
from reminders.domain.model import RegistryKind
from reminders.errors import UsageError
from reminders.services.audit import export_rows, run_report, verify_logs
from reminders.services.import_registry import ImportReport, Rejected, rejected_rows
from reminders.services.nightly_run import run_night
from reminders.services.run_summary import RunSummary
from reminders.synthetic import (
    EARLIEST_AS_OF_YEAR,
    KNOWN_POSTAL_AREAS,
    SyntheticMunicipality,
    SyntheticSpec,
    write_synthetic_registry,
)

DEMO_FAULTY_ROWS = 5  # a few bad rows per file, so the demo shows how rejections look
DEMO_EMAIL_SHARE = 0.2  # persons who chose e-mail (issue 25): address and consent in persons.csv


@dataclass(frozen=True, slots=True)
class DemoResult:
    """Where the demo put things and what the registry holds."""

    directory: Path
    database_url: str
    persons_csv: Path
    documents_csv: Path
    imports: tuple[ImportReport, ...]
    rejections: tuple[tuple[Rejected, ...], ...]  # per import; the demo has only a few
    as_of: date
    overview: dict[str, MunicipalityOverview]
    run: RunSummary  # tonight's decisions on the demo registry, and its print volumes
    verdicts: tuple[LogVerdict, ...]  # the dispatch log, verified after the run
    public_key: Path  # the demo's own key, to verify with
    audit_report: Path  # the auditor's report on the run (PDF)
    sample_letter: str | None  # a letter's reference, to show `audit prove` with


def demo_directory(settings: Settings) -> Path:
    """The demo's own folder under the configured output directory."""
    return settings.output_dir / "demo"


def run_demo(
    settings: Settings,
    *,
    as_of: date,
    persons: int,
    seed: int,
    progress: Callable[[str], None] = lambda _message: None,
) -> DemoResult:
    """Make a fresh demo registry and import it; returns what was done, for printing."""
    if as_of.year < EARLIEST_AS_OF_YEAR:  # its persons are born from 1926 on
        raise UsageError(f"the demo's date must be in {EARLIEST_AS_OF_YEAR} or later, got {as_of}")
    directory = demo_directory(settings)
    OWNER_ONLY.make_folders(directory)
    database = directory / "reminders.sqlite3"
    # A fresh registry every time (the demo is reproducible): the database and SQLite's own
    # files beside it, but not the folder of run locks (<database>.locks) that a run, say one
    # started from the console, leaves there: a lock file is never removed, or a run still
    # holding it would no longer keep another out.
    for suffix in ("", "-wal", "-shm", "-journal"):
        directory.joinpath(database.name + suffix).unlink(missing_ok=True)
    persons_csv, documents_csv = directory / "persons.csv", directory / "documents.csv"
    volumes, keys = directory / "volumes", directory / "keys"
    for stale_directory in (volumes, keys):  # run ids and the log restart with the database
        shutil.rmtree(stale_directory, ignore_errors=True)
    audit = AuditOptions(
        KeySource(path=keys / "dispatch-log.key"),
        keys / "dispatch-log.pub",
        settings.audit.key_name,
    )
    create_key_pair(keys / "dispatch-log.key", audit.public_key, audit.key_name)
    # The demo's own key signs every municipality's log: never a municipality's real keys.
    own = tuple(replace(m, keys=()) for m in settings.municipalities)
    demo_settings = replace(settings, output_dir=volumes, audit=audit, municipalities=own)
    prints = printing(demo_settings)  # checks the templates first

    progress(f"Writing a synthetic registry of {persons:,} persons (seed {seed})")
    municipalities = tuple(
        SyntheticMunicipality(
            m.nis_code,
            m.name,
            tuple(str(lang) for lang in m.languages),
            # Municipalities without built-in postal areas use the sender's own.
            KNOWN_POSTAL_AREAS.get(m.nis_code, ((m.sender.postal_code, m.sender.locality),)),
        )
        for m in settings.municipalities
    )
    write_synthetic_registry(
        SyntheticSpec(
            persons=persons,
            seed=seed,
            as_of=as_of,
            municipalities=municipalities,
            faulty_rows=DEMO_FAULTY_ROWS,
            email_share=DEMO_EMAIL_SHARE,
        ),
        persons_csv,
        documents_csv,
    )

    url = f"sqlite:///{database}"
    engine = open_engine(url, require_schema=False)
    try:
        progress("Creating the database schema (migrations)")
        upgrade_schema(engine)
        reports = []
        for kind, path in (
            (RegistryKind.PERSONS, persons_csv),
            (RegistryKind.DOCUMENTS, documents_csv),
        ):
            progress(f"Importing {path.name}")
            reports.append(import_registry_file(kind, path, engine))
        rejections = tuple(
            tuple(rejected_rows(report.import_id, unit_of_work(engine))) for report in reports
        )
        with engine.connect() as connection:
            overview = registry_overview(
                connection,
                expiring_from=as_of,
                expiring_until=as_of + relativedelta(months=3),
            )
        progress(f"Deciding and printing tonight's letters ({as_of:%Y-%m-%d})")
        request = run_request(settings, as_of=as_of, nis_codes=None, started_by="demo")
        # The demo's own database, which nothing else runs on: no run lock.
        summary = run_night(request, unit_of_work(engine), now=utc_now, printing=prints).summary
        assert summary is not None  # noqa: S101 - not skip_if_done
        progress("Verifying the dispatch log and writing the auditor's report")
        ring = key_ring(demo_settings)
        with unit_of_work(engine) as uow:
            store = uow.dispatch_log
            verdicts = verify_logs(store, ring)
            run_id = summary.run_id
            assert run_id is not None  # noqa: S101 - not a dry run
            report = directory / f"audit-report-run-{run_id:06d}.pdf"
            reported = run_report(
                store, ring, run_id, reported_municipalities(settings), now=utc_now
            )
            OWNER_ONLY.write_bytes(report, audit_report_pdf(reported))
            letters = export_rows(store, [v.municipality_nis for v in verdicts], run_id=run_id)
            sample = next((row["reference"] for row in letters if row["event"] == "letter"), None)
    finally:
        engine.dispose()
    return DemoResult(
        directory=directory,
        database_url=url,
        persons_csv=persons_csv,
        documents_csv=documents_csv,
        imports=tuple(reports),
        rejections=rejections,
        as_of=as_of,
        overview=overview,
        run=summary,
        verdicts=tuple(verdicts),
        public_key=audit.public_key,
        audit_report=report,
        sample_letter=sample,
    )
