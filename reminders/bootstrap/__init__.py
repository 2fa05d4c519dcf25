"""Composition root: Settings → engine, stores and clock for the use cases."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from reminders import __version__
from reminders.adapters.crypto.signing_key import (
    CheckpointSigners,
    SigningKey,
    load_signing_key,
    load_verifier_key,
)
from reminders.adapters.db.backup import back_up_sqlite, sqlite_path, write_note
from reminders.adapters.db.console_store import ConsoleStore
from reminders.adapters.db.dispatch_log_store import DispatchLogStore
from reminders.adapters.db.engine import make_engine, write_locked_transaction
from reminders.adapters.db.run_lock import RunLocks
from reminders.adapters.db.schema import current_revision, require_current_schema
from reminders.adapters.db.unit_of_work import SqlUnitOfWork
from reminders.adapters.printing.log_folder import LogFolders
from reminders.adapters.private_files import OWNER_ONLY, FileModes
from reminders.adapters.registry.registry_files import RegistryFile
from reminders.config import Municipality, PrintOptions, Settings
from reminders.domain.checkpoint import KeyRing, VerifierKey, log_origin
from reminders.domain.letter_language import possible_letter_languages
from reminders.domain.letters import LetterSpec
from reminders.domain.model import DocumentKind, Language, RegistryKind
from reminders.domain.policy import Offset, ReminderPolicy, Stage
from reminders.domain.registry_rows import REGISTRY_FORMATS
from reminders.errors import ConfigError, RemindersError
from reminders.services.audit import ReportedMunicipality, record_verdicts, verify_logs
from reminders.services.complete_run import Printing
from reminders.services.import_registry import ImportReport, Progress, import_registry
from reminders.services.nightly_run import NightOutcome, RunRequest, run_night
from reminders.services.ports import (
    ConsoleTransaction,
    LoginTransaction,
    Rendering,
    UnitOfWork,
)
from reminders.services.recover_log import RecoverProgress, Recovery, recover
from reminders.services.run_control import RunControl, StopSignal

if TYPE_CHECKING:
    from reminders.adapters.printing.text import LetterTemplates

# The printing adapters (ReportLab, pypdf, the letter templates, the render pool) and e-mail
# are imported by the functions that use them: a command that prints nothing (the console's
# signer for each release or reveal, status, audit, recover) starts without them, in about
# half the time.


class DatabaseUnavailableError(RemindersError):
    """The database cannot be reached or opened."""


def utc_now() -> datetime:
    """The current time, aware, in UTC: every stored ``*_at`` is UTC (domain.md §7.1)."""
    return datetime.now(UTC)


@cache
def iso_country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from CLDR via babel (no hand-kept list to go stale)."""
    not_countries = {"ZZ", "QO", "EU", "EZ", "UN"}  # CLDR's groupings and "unknown region"
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(
        code for code in codes if len(code) == 2 and code.isalpha() and code not in not_countries
    )


def output_modes(settings: Settings) -> FileModes:
    """How the output folder's files are written: owner-only, or readable by the print
    operator's group (``[print] group``)."""
    return FileModes.shared_with(settings.print_options.group, settings.path)


def open_engine(url: str, *, require_schema: bool = True) -> Engine:
    """An engine on ``url``; by default also checks that `reminders init` has run."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        database = Path(parsed.database)
        OWNER_ONLY.make_folders(database.parent)
        if not database.exists():  # SQLite takes an empty file for an empty database, and
            OWNER_ONLY.write_bytes(database, b"")  # gives its -wal and -shm the file's mode
    engine = make_engine(url)
    try:
        if require_schema:
            require_current_schema(engine)
        else:
            engine.connect().close()
    except OperationalError as err:
        engine.dispose()
        where = parsed.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(f"cannot open the database {where}: {err.orig}") from err
    except BaseException:
        engine.dispose()
        raise
    return engine


def import_registry_file(
    kind: RegistryKind,
    path: Path,
    engine: Engine,
    *,
    progress: Progress | None = None,
    now: Callable[[], datetime] = utc_now,
) -> ImportReport:
    """Open a registry extract with its kind's columns and import it into ``engine``."""
    columns, required = REGISTRY_FORMATS[kind]
    with RegistryFile(path, columns, required) as source:
        return import_registry(
            kind,
            source,
            unit_of_work(engine),
            countries=iso_country_codes(),
            now=now,
            progress=progress,
        )


def checked_templates(
    settings: Settings, municipalities: Sequence[Municipality] | None = None
) -> LetterTemplates:
    """The templates, after checking every one the municipalities' letters may need, and
    their letterheads (logo, contact blocks): a run stops here, before anything is decided
    or printed, rather than halfway through."""
    from reminders.adapters.printing.text import LetterTemplates, lint_templates

    templates = LetterTemplates(settings.template_folders)
    chosen = settings.municipalities if municipalities is None else municipalities
    problems = lint_templates(templates, chosen, settings.policies, template_samples())
    for campaign in settings.campaigns:  # <kind>/<campaign id>.<lang>.txt.j2, like a stage
        covered = [m for m in chosen if campaign.covers(m.nis_code)]
        letter = {
            campaign.kind: ReminderPolicy(campaign.kind, (Stage(campaign.id, Offset(0, "days")),))
        }
        problems += lint_templates(templates, covered, letter, template_samples())
    checked_letterheads(settings, chosen)
    if problems:
        if len(problems) == 1:
            raise problems[0]
        listed = "\n  ".join(problem.message for problem in problems)
        raise ConfigError(
            settings.templates_dir or templates.shipped,
            f"{len(problems)} letter templates cannot be used:\n  {listed}",
        )
    return templates


def checked_letterheads(settings: Settings, municipalities: Sequence[Municipality]) -> None:
    """Each municipality's logo read and placed, and its contact blocks fitted, on the
    configured envelope stock: a logo that cannot be read, or that no room is left for beside
    the window, stops a run before it decides anything."""
    from reminders.adapters.printing.pdf import LetterLayout

    layout = LetterLayout(settings.print_options.window)
    for municipality in municipalities:
        problems = layout.letterhead_problems(municipality)
        if problems:
            index = settings.municipalities.index(municipality)
            raise ConfigError(
                settings.path,
                "; ".join(problems),
                key=f"municipalities[{index}].letterhead",
            )


def letters_used(
    settings: Settings, municipality: Municipality
) -> list[tuple[DocumentKind, str, Language]]:
    """Every letter template a municipality's letters may need: each stage of each policy
    and each campaign that covers it, in each language its letters can be written in."""
    languages = possible_letter_languages(municipality.letter_language, municipality.languages)
    stages = [(policy.kind, stage.name) for policy in settings.policies.values()
              for stage in policy.stages]  # fmt: skip
    stages += [(c.kind, c.id) for c in settings.campaigns if c.covers(municipality.nis_code)]
    return [(kind, stage, language) for kind, stage in stages for language in languages]


def template_samples() -> tuple[LetterSpec, ...]:
    """Letters the template check renders each template with, one for every branch a template
    may take: to an adult or to the parents, before or after the expiry date, the last
    reminder or not (synthetic names and addresses)."""
    base = LetterSpec(
        reference="00000-000000-000000",
        municipality_nis="00000",
        document_kind=DocumentKind.EID,
        stage="",
        stage_due_on=date(2027, 4, 1),
        is_final_stage=False,
        expires_on=date(2027, 6, 1),
        letter_date=date(2027, 4, 1),
        languages=(Language.NL,),
        given_names="Sample",
        family_name="Citizen",
        to_parents=False,
        address_lines=("Sample Citizen", "Samplestreet 1", "1000 SAMPLE"),
    )
    return tuple(
        replace(base, to_parents=parents, letter_date=day, is_final_stage=final)
        for parents in (False, True)
        for day in (date(2027, 4, 1), date(2027, 7, 1))
        for final in (False, True)
    )


def printing(settings: Settings) -> Printing:
    """How `run` prints and seals: checked templates, the envelope's layout, the output
    directory, the dispatch log's signing key."""
    from reminders.adapters.printing.print_volume import VolumeFolder
    from reminders.adapters.printing.volume_render import print_options_key

    options = settings.print_options
    templates = checked_templates(settings)
    return Printing(
        municipalities=settings.municipalities,
        texts=templates,
        shop=VolumeFolder(settings.output_dir, options.pickup_dir, output_modes(settings)),
        rendering=_rendering(templates, options),
        signer=checkpoint_signers(settings, now=utc_now()),
        logs=LogFolders(settings.output_dir, output_modes(settings)),
        keys=key_ring(settings),
        split_by_language=options.split_by_language,
        volume_max_letters=options.volume_max_letters,
        print_options=print_options_key(options),
        duplex=options.duplex,
    )


def checkpoint_signers(
    settings: Settings,
    *,
    now: datetime,
    municipalities: Sequence[Municipality] | None = None,
) -> CheckpointSigners:
    """The keys that sign each municipality's checkpoints: its own key in use at ``now`` and
    any that takes over later (older keys are not read: they sign nothing any more), or the
    installation's. Each private key is checked against its configured public half, so a
    run never signs what its auditors' keys cannot verify."""
    chosen = settings.municipalities if municipalities is None else municipalities
    own: dict[str, list[tuple[datetime | None, SigningKey | None, str]]] = {}
    installation = None
    for municipality in chosen:
        if not municipality.keys:
            if installation is None:
                installation = load_signing_key(settings.audit.signing_key, settings.audit.key_name)
            continue
        name = log_origin(municipality.nis_code)
        in_use = max(
            (
                i
                for i, k in enumerate(municipality.keys)
                if k.valid_from is None or k.valid_from <= now
            ),
            default=0,
        )
        keys = own[municipality.nis_code] = []
        for index, key in enumerate(municipality.keys):
            signer = None
            if index >= in_use and key.signing_key is not None:
                signer = load_signing_key(key.signing_key, name)
                public = load_verifier_key(key.public_key, name).public_key
                if _raw(public) != _raw(signer.public_key):
                    raise ConfigError(
                        key.public_key,
                        f"is not the public half of {key.signing_key} ({municipality.nis_code})",
                    )
            keys.append((key.valid_from, signer, str(key.public_key)))
    return CheckpointSigners(installation, own)


def key_ring(settings: Settings, public_keys: Sequence[Path] = ()) -> KeyRing:
    """The public keys to verify with: the files given (an auditor's own), or every key the
    configuration names: the installation's (if its file is there, or needed) and each
    municipality's, each valid until the next of that municipality took over."""
    if public_keys:
        return KeyRing(
            tuple(load_verifier_key(path, settings.audit.key_name) for path in public_keys)
        )
    keys: list[VerifierKey] = []
    needed = any(not m.keys for m in settings.municipalities)
    if needed or settings.audit.public_key.exists():
        keys.append(load_verifier_key(settings.audit.public_key, settings.audit.key_name))
    for municipality in settings.municipalities:
        name = log_origin(municipality.nis_code)
        own = municipality.keys
        for index, key in enumerate(own):
            until = own[index + 1].valid_from if index + 1 < len(own) else None
            verifier = load_verifier_key(
                key.public_key, name, valid_from=key.valid_from, valid_until=until
            )
            if verifier.name != name:
                raise ConfigError(key.public_key, f"is the key named {verifier.name}, not {name}'s")
            keys.append(verifier)
    return KeyRing(tuple(keys))


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _rendering(templates: LetterTemplates, options: PrintOptions) -> Rendering:
    """Processes on this machine, or render workers on others when [print.queue] says so."""
    if options.queue is None:
        from reminders.adapters.printing.render_pool import LocalRendering

        return LocalRendering(templates, options, options.workers)
    from reminders.adapters.printing.render_queue import QueueRendering  # Celery: the `queue` extra

    return QueueRendering(options.queue)


def console_transaction(engine: Engine) -> ConsoleTransaction:
    """One transaction per call on the console's users, sessions and activity log."""

    @contextmanager
    def transaction() -> Iterator[ConsoleStore]:
        with engine.begin() as connection:
            yield ConsoleStore(connection)

    return transaction


def login_transaction(engine: Engine) -> LoginTransaction:
    """A transaction for counting login attempts: SQLite's write lock from its start; on
    PostgreSQL the store's per-name advisory lock (``lock_logins_of``) does the same."""

    @contextmanager
    def transaction() -> Iterator[ConsoleStore]:
        with write_locked_transaction(engine) as connection:
            yield ConsoleStore(connection)

    return transaction


def unit_of_work(engine: Engine, *, write_locked: bool = False) -> UnitOfWork:
    """The use cases' way into the database on ``engine``: each ``with`` block one
    transaction, the repositories on it (services/ports.py); ``write_locked``: each holding
    SQLite's write lock from its start (`reminders recover`: new rows take ids past the
    largest)."""
    return SqlUnitOfWork(engine, write_locked=write_locked)


def recover_job(
    settings: Settings,
    *,
    nis_codes: Sequence[str] | None,
    progress: RecoverProgress | None = None,
) -> Recovery:
    """`reminders recover`: the published logs of these municipalities (all configured ones
    when None) brought back into the database, holding every municipality's run lock, so no
    run starts meanwhile. ``REMINDERS_KILL_AT`` (crash tests) is read here."""
    from reminders.adapters.printing.print_volume import VolumeFolder

    control = RunControl.from_environment(os.environ)
    keys = key_ring(settings)
    chosen = list(nis_codes) if nis_codes else [m.nis_code for m in settings.municipalities]
    engine = open_engine(settings.database_url)
    try:
        with RunLocks(engine)([m.nis_code for m in settings.municipalities]):
            return recover(
                chosen,
                unit_of_work(engine, write_locked=True),
                LogFolders(settings.output_dir, output_modes(settings)),
                keys,
                VolumeFolder(
                    settings.output_dir, settings.print_options.pickup_dir, output_modes(settings)
                ),
                now=utc_now,
                control=control,
                worker=worker_name(),
                progress=progress,
            )
    finally:
        engine.dispose()


def backup_job(settings: Settings, target: Path) -> str:
    """`reminders backup`: a consistent copy of the SQLite database at ``target`` and, beside
    it, a note of what belongs with it; returns the note."""
    target = target.resolve()
    back_up_sqlite(sqlite_path(settings.database_url), target)
    copy = open_engine(f"sqlite:///{target}")
    try:
        revision = current_revision(copy)
        with copy.connect() as connection:
            store = DispatchLogStore(connection)
            heads = {nis: store.head(nis) for nis in store.municipalities()}
    finally:
        copy.dispose()
    try:
        ring = key_ring(settings)
        verifiers = [f"  public key    {key.source} ({key.label})" for key in ring.keys]
    except ConfigError as err:
        verifiers = [f"  public keys   unreadable: {err.message}"]
    signing = [f"  signing key   {settings.audit.signing_key} (the installation's)"]
    signing += [
        f"  signing key   {key.signing_key} ({municipality.nis_code}'s, from "
        f"{key.valid_from.isoformat() if key.valid_from else 'the start'})"
        for municipality in settings.municipalities
        for key in municipality.keys
        if key.signing_key is not None
    ]
    lines = [
        f"reminders backup of {settings.database_url}",
        f"taken {utc_now():%Y-%m-%dT%H:%M:%SZ} by reminders {__version__}, schema revision "
        f"{revision}",
        "",
        "Keep it together with (a restore needs all of them; a new signing key would not",
        "continue the logs: their checkpoints would not verify against the old public keys):",
        *signing,
        *verifiers,
        f"  config.toml   {settings.path} (SHA-256 {settings.sha256})",
        f"  output folder {settings.output_dir}: the volumes and the published dispatch logs",
        "",
        "After restoring this file, run `reminders recover` before any run: it restores from",
        "the output folder what ran after this backup, and no run starts until it has.",
        "",
        "Dispatch logs in this backup:",
    ]
    for nis, head in sorted(heads.items()):
        lines.append(f"  {nis}: {head.size:,} entries, checkpoint at {head.checkpoint_size or 0:,}")
    if not heads:
        lines.append("  none yet")
    note = "\n".join(lines) + "\n"
    write_note(target.with_name(f"{target.name}.txt"), note)
    return note


def reported_municipalities(settings: Settings) -> dict[str, ReportedMunicipality]:
    """What an auditor's report says of each configured municipality: its name, and its
    first official language, which the report is written in."""
    return {
        m.nis_code: ReportedMunicipality(m.name, m.languages[0]) for m in settings.municipalities
    }


def worker_name() -> str:
    """This process, as runs record who ran them: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_request(
    settings: Settings,
    *,
    as_of: date,
    nis_codes: Sequence[str] | None,
    started_by: str,
    dry_run: bool = False,
) -> RunRequest:
    """A run of ``as_of`` for those municipalities (all configured when None)."""
    municipalities = (
        tuple(settings.municipality(nis) for nis in nis_codes)
        if nis_codes
        else settings.municipalities
    )
    return RunRequest(
        as_of=as_of,
        municipalities=municipalities,
        policies=settings.policies,
        campaigns=settings.campaigns,
        dry_run=dry_run,
        started_by=started_by,
        worker=worker_name(),
        config_sha256=settings.sha256,
        code_version=__version__,
    )


def nightly_job(
    settings: Settings,
    *,
    as_of: date,
    nis_codes: Sequence[str] | None,
    started_by: str,
    dry_run: bool = False,
    stop: StopSignal | None = None,
    wait_seconds: float = 0.0,
    skip_if_done: bool = False,
) -> NightOutcome:
    """The night of ``as_of``, as `run` (and `run --dry-run`) and the scheduler start it:
    locked per municipality, unfinished runs resumed first; a dry run only decides, and
    needs neither the templates nor the key. ``REMINDERS_KILL_AT`` (crash tests) is read
    here."""
    control = RunControl.from_environment(os.environ, stop)
    # Checks every template and the key before anything else (not needed to decide).
    prints = None if dry_run else printing(settings)
    request = run_request(
        settings, as_of=as_of, nis_codes=nis_codes, started_by=started_by, dry_run=dry_run
    )
    engine = open_engine(settings.database_url)
    try:
        if prints is not None:
            from reminders.bootstrap.emailing import emailing

            prints = replace(prints, emailing=emailing(settings, engine, prints.texts))
        return run_night(
            request,
            unit_of_work(engine),
            now=utc_now,
            locks=RunLocks(engine, wait_seconds=wait_seconds),
            printing=prints,
            control=control,
            skip_if_done=skip_if_done,
        )
    finally:
        engine.dispose()


def verify_job(
    settings: Settings, *, nis_codes: Sequence[str] | None, verified_by: str
) -> dict[str, bool]:
    """Verify each municipality's dispatch log (every one logged, when None) and keep the
    verdicts; returns whether each is intact."""
    keys = key_ring(settings)
    engine = open_engine(settings.database_url)
    try:
        with unit_of_work(engine) as uow:
            verdicts = verify_logs(
                uow.dispatch_log, keys, municipalities=list(nis_codes) if nis_codes else None
            )
            record_verdicts(
                uow.dispatch_log, verdicts, verified_at=utc_now(), verified_by=verified_by
            )
    finally:
        engine.dispose()
    return {verdict.municipality_nis: verdict.intact for verdict in verdicts}
