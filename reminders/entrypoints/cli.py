"""The `reminders` command: parse input, call one use case, report the outcome.

Errors are translated once, here: a RemindersError becomes ``Error: <message>`` and its exit
status (2 for bad input or configuration, 1 when work ran but failed), never a traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import shlex
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from reminders import __version__
from reminders.adapters.private_files import OWNER_ONLY
from reminders.bootstrap import (
    checked_templates,
    import_registry_file,
    letters_used,
    nightly_job,
    open_engine,
    unit_of_work,
)
from reminders.bootstrap.installation import (
    OWN_TEMPLATES,
    create_installation,
    initialise,
    refuse_existing,
)
from reminders.config import Settings, load_settings
from reminders.domain.letter_language import language_label
from reminders.domain.model import DocumentKind, RegistryKind
from reminders.entrypoints.heap import set_up_objects_frozen
from reminders.entrypoints.init_answers import option_of, starter_answers
from reminders.entrypoints.options import (
    ReportingGroup,
    config_option,
    date_option,
    day_or_today,
    seconds_up_to,
    writing,
)
from reminders.entrypoints.run_watch import watching
from reminders.entrypoints.signals import stop_on_signals
from reminders.errors import UsageError
from reminders.services.import_registry import ImportReport, Rejected, rejected_rows
from reminders.services.run_summary import RunSummary

if TYPE_CHECKING:
    from reminders.bootstrap.demo import DemoResult  # imported by `demo` only: the generator

DEFAULT_DEMO_PERSONS = 5_000
DEFAULT_DEMO_SEED = 20261124
MAX_WAIT_SECONDS = 86_400  # a run that waits longer for another is better started again


# The commands of other modules, each imported when it runs (or when --help lists them), so
# that a process started for one command (the console's signer for each release, a render
# worker, the scheduler) imports neither the others nor their adapters.
COMMANDS_ELSEWHERE = {
    "audit": "audit_cli:audit",
    "backup": "recovery_cli:backup",
    "bounces": "email_cli:bounces",
    "campaign": "campaign_cli:campaign",
    "cancel": "after_print_cli:cancel",
    "console": "console_cli:console",
    "console-signer": "console_signer_cli:console_signer",
    "console-user": "console_cli:console_user",
    "letter": "after_print_cli:letter",
    "recover": "recovery_cli:recover",
    "release": "after_print_cli:release",
    "render-worker": "render_worker_cli:render_worker",
    "reprint": "after_print_cli:reprint",
    "returns": "after_print_cli:returns",
    "scheduler": "scheduler_cli:scheduler",
    "status": "status_cli:status",
    "templates": "templates_cli:templates",
}


class _Commands(ReportingGroup):
    """The `reminders` group: its own commands, and COMMANDS_ELSEWHERE imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS_ELSEWHERE})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS_ELSEWHERE.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        module, name = where.split(":")
        command: click.Command = getattr(
            importlib.import_module(f"reminders.entrypoints.{module}"), name
        )
        return command


@click.group(cls=_Commands)
@click.version_option(__version__, prog_name="reminders")
@click.option("-v", "--verbose", is_flag=True, help="Log progress (never personal data).")
def main(verbose: bool) -> None:
    """Reminder letters for expiring documents, for Belgian municipalities."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@main.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path, file_okay=False))
@config_option
@click.option("--nis", "nis_code", help="With FOLDER: the municipality's NIS code (5 digits).")
@click.option("--name", help="With FOLDER: the municipality's name as letters print it.")
@click.option(
    "--languages", help="With FOLDER: official languages, e.g. nl or fr,nl (default: by NIS code)."
)
@click.option("--department", help="With FOLDER: the civil-affairs department letters come from.")
@click.option("--street", help="With FOLDER: the department's street.")
@click.option("--house-number", help="With FOLDER: its house number.")
@click.option("--postal-code", help="With FOLDER: its postal code.")
@click.option("--locality", help="With FOLDER: its locality.")
@click.option("--phone", help="With FOLDER: its phone number, printed in letters (optional).")
@click.option("--email", help="With FOLDER: its e-mail address, printed in letters (optional).")
@click.option("--database", help="With FOLDER: a database URL (default: SQLite in FOLDER/var).")
@click.pass_context
def init(
    ctx: click.Context, /, folder: Path | None, config_path: Path, **answers: str | None
) -> None:
    """Create or upgrade the database schema; make the dispatch log's signing key if none.

    With FOLDER: first make a new installation there for one municipality (config.toml,
    a folder for own letter templates, the scheduler's jobs), asking what it needs to know."""
    given = [name for name, value in answers.items() if value is not None]
    if folder is None:
        if given:
            raise UsageError(f"{option_of(given[0])} is only for `reminders init FOLDER`")
    else:
        if ctx.get_parameter_source("config_path") is not ParameterSource.DEFAULT:
            raise UsageError("give FOLDER or --config, not both (FOLDER/config.toml is made)")
        refuse_existing(folder)
        config_path = create_installation(folder, starter_answers(answers))
        click.echo(
            f"Made {config_path} and the folders {folder / OWN_TEMPLATES} (own letter "
            f"templates, empty: the shipped ones are used) and {folder / 'jobs'}."
        )
    settings = load_settings(config_path)
    done = initialise(settings)
    before, after = done.revision_before, done.revision_after
    if before == after:
        click.echo(f"Database schema is up to date (revision {after}).")
    else:
        click.echo(f"Database schema upgraded from {before or 'empty'} to revision {after}.")
    for pair in done.keys:
        if pair.made:
            click.echo(
                f"Made the dispatch log's signing key of {pair.owner} {pair.private} (keep it "
                f"private) and its public key {pair.public} (give it to your auditors)."
            )
        elif pair.in_file:
            click.echo(f"Dispatch log signing key of {pair.owner}: {pair.private} (kept).")
        else:
            click.echo(
                f"Dispatch log signing key of {pair.owner}: read from the {pair.private} when "
                f"a run signs (made in your vault; its public half belongs in {pair.public})."
            )
    if folder is not None:
        config = shlex.quote(str(config_path))
        click.echo(
            f"Next: check it (reminders check --config {config}), import your registry "
            f"extracts (reminders import persons persons.csv --config {config}, then "
            f"documents.csv) and see tonight's letters (reminders run --dry-run --config "
            f"{config})."
        )


@main.command(name="import")
@click.argument("kind", type=click.Choice([kind.value for kind in RegistryKind]))
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--report", is_flag=True, help="List every rejected row with its line and reason.")
@config_option
def import_command(kind: str, file: Path, report: bool, config_path: Path) -> None:
    """Import a registry extract (persons.csv or documents.csv)."""
    settings = load_settings(config_path)
    engine = open_engine(settings.database_url)
    try:
        with _progress_bar(file.name) as progress:
            result = import_registry_file(RegistryKind(kind), file, engine, progress=progress)
        for column in result.unknown_columns:
            click.echo(f"Warning: {file.name}: column {column!r} is not used; ignored.", err=True)
        listed = rejected_rows(result.import_id, unit_of_work(engine)) if report else None
        _echo_import(result, listed)
    finally:
        engine.dispose()


def _echo_import(result: ImportReport, rejections: Iterable[Rejected] | None) -> None:
    """The import's counts and, when given, its rejected rows."""
    imported = result.inserted + result.updated + result.unchanged
    click.echo(
        f"{result.file_name}: {result.rows_read:,} rows read; {imported:,} imported "
        f"({result.inserted:,} new, {result.updated:,} updated, {result.unchanged:,} unchanged); "
        f"{result.rejected:,} rejected."
    )
    if rejections is not None:
        for line, column, reason, subject in rejections:
            click.echo(f"  {result.file_name}:{line}: {column or '(row)'}: {reason} [{subject}]")
    elif result.rejected:
        click.echo("Run again with --report to list the rejected rows (they are kept).")


@contextmanager
def _progress_bar(name: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing when output goes to a file or a pipe."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(name, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@main.command()
@config_option
@date_option("The date to decide for (default: today in the configured time zone).")
@click.option("--municipality", "nis_code", default=None, help="Only this NIS code.")
@click.option("--dry-run", is_flag=True, help="Decide and print; record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--wait",
    "wait_seconds",
    type=str,  # checked and converted by the callback: click's float lets "nan" through
    default="0",
    show_default=True,
    callback=seconds_up_to(MAX_WAIT_SECONDS),
    help="Seconds to wait for a run holding a municipality (at most a day); then exit 3.",
)
@click.option("--started-by", "started_by", default="cli", hidden=True)  # the console's runs
def run(
    config_path: Path,
    as_of: date | None,
    nis_code: str | None,
    dry_run: bool,
    as_json: bool,
    wait_seconds: float,
    started_by: str,
) -> None:
    """The nightly job, once: decide which letters are due, record every decision, and print
    the letters into volumes (a dry run only decides). An unfinished earlier run of these
    municipalities is completed first. SIGTERM or Ctrl-C stops it at the next safe point."""
    settings = load_settings(config_path)
    nis_codes = [settings.municipality(nis_code).nis_code] if nis_code else None
    stop = threading.Event()
    quiet = as_json or dry_run  # a dry run writes nothing: no progress shown, no safe points
    with (
        nullcontext() if dry_run else stop_on_signals(stop),
        nullcontext() if quiet else watching(settings.database_url),
        set_up_objects_frozen(),
    ):
        outcome = nightly_job(
            settings,
            as_of=day_or_today(as_of, settings),
            nis_codes=nis_codes,
            started_by=started_by[:40],
            dry_run=dry_run,
            stop=stop,
            wait_seconds=wait_seconds,
        )
    if not as_json:
        for run_id in outcome.resumed:
            if outcome.summary is None or run_id != outcome.summary.run_id:
                click.echo(f"Run {run_id}, left unfinished earlier, was completed first.")
    assert outcome.summary is not None  # noqa: S101 - only skip_if_done leaves it out
    _report_run(outcome.summary, settings, as_json)


def _report_run(summary: RunSummary, settings: Settings, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        _echo_run(summary, settings)


def _echo_run(summary: RunSummary, settings: Settings) -> None:
    """The run's outcome for a person reading a terminal or a cron mail."""
    if summary.dry_run:
        click.echo(f"Dry run for {summary.as_of:%Y-%m-%d}: nothing was recorded.")
    elif summary.attempts > 1:
        click.echo(
            f"Run {summary.run_id} for {summary.as_of:%Y-%m-%d}: completed "
            f"in {summary.attempts} attempts (resumed where it had stopped)."
        )
    else:
        click.echo(f"Run {summary.run_id} for {summary.as_of:%Y-%m-%d}: decisions recorded.")
    names = {m.nis_code: m.name for m in settings.municipalities}
    verb = "would get" if summary.dry_run else "get"
    for nis_code, outcome in sorted(summary.municipalities.items()):
        details = outcome.as_json(summary.as_of)
        click.echo(f"  {nis_code} {names.get(nis_code, '')}:")
        by_stage = ", ".join(f"{n:,} {key}" for key, n in details["letters_by_stage"].items())
        by_language = ", ".join(f"{n:,} {key}" for key, n in details["letters_by_language"].items())
        click.echo(
            f"      {details['letters']:,} letters {verb} sent"
            + (f": {by_stage} (languages: {by_language})" if by_stage else "")
        )
        if outcome.emailed:
            saved = details.get("postage_saved_eur")
            click.echo(
                f"      {outcome.emailed:,} of them by e-mail"
                + (f" (postage saved: EUR {saved:,.2f})" if saved is not None else "")
            )
        skipped = ", ".join(f"{n:,} {reason}" for reason, n in details["skipped"].items())
        click.echo(f"      skipped: {skipped or 'none'}")
        since = [
            f"{kind} since {day}" if day else f"{kind}: first run, every document under way"
            for kind, day in details["decided_since"].items()
        ]
        click.echo(f"      looked at {outcome.looked_at:,} documents ({'; '.join(since)})")
        if details["missed_nights"]:
            first, last = details["missed_nights"]
            click.echo(f"      caught up on nights no run decided: {first} to {last}")
    skipped_total = sum(summary.skipped.values())
    click.echo(f"Total: {summary.letters:,} letters, {skipped_total:,} skips.")
    if summary.volumes:
        click.echo(f"Print volumes ({len(summary.volumes)}), each with its manifest and SHA-256:")
        for path in summary.volumes:
            click.echo(f"  {path}")
    for sealed in summary.sealed:
        size = sealed.checkpoint.checkpoint.tree_size
        click.echo(
            f"Dispatch log of {sealed.municipality_nis}: entries {sealed.first_seq}-{size - 1} "
            f"added, signed checkpoint {sealed.file or ''}"
        )


@main.command()
@config_option
@click.option(
    "--document",
    "document",
    required=True,
    metavar="KIND:NUMBER",
    help="The document, e.g. driving_licence:B1234567.",
)
@click.option("--stage", default=None, help="The stage (default: the current one on --date).")
@date_option("The letter's date (default: today in the configured time zone).")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the PDF.",
)
@click.option("--png", is_flag=True, help="Also write the first page as FILE.png.")
def preview(
    config_path: Path,
    document: str,
    stage: str | None,
    as_of: date | None,
    out: Path,
    png: bool,
) -> None:
    """One letter, rendered exactly as it would be printed; nothing is recorded."""
    from reminders.adapters.printing.pdf import LetterLayout
    from reminders.adapters.printing.print_volume import preview_pdf
    from reminders.services.preview_letter import preview_letter

    kind_text, _, number = document.partition(":")
    kinds = ", ".join(kind.value for kind in DocumentKind)
    if kind_text not in {kind.value for kind in DocumentKind} or not number:
        raise UsageError(f"--document: expected KIND:NUMBER with KIND one of {kinds}")
    settings = load_settings(config_path)
    templates = checked_templates(settings)
    layout = LetterLayout(settings.print_options.window)
    engine = open_engine(settings.database_url)
    try:
        with unit_of_work(engine) as uow:
            store = uow.letters
            result = preview_letter(
                DocumentKind(kind_text),
                number.strip().upper(),
                stage=stage,
                as_of=day_or_today(as_of, settings),
                municipalities=settings.municipalities,
                policies=settings.policies,
                store=store,
                texts=templates,
                render=lambda spec, texts, municipality: preview_pdf(
                    layout, spec, texts, municipality
                ),
            )
    finally:
        engine.dispose()
    with writing(out):
        OWNER_ONLY.write_bytes(out, result.pdf)
    click.echo(f"Wrote {out} ({result.spec.stage}, {language_label(result.spec.languages)}).")
    if png:
        from reminders.adapters.printing.pdf_image import first_page_png

        image = out.with_suffix(".png")
        with writing(image, "--png"):
            OWNER_ONLY.write_bytes(image, first_page_png(result.pdf))
        click.echo(f"Wrote {image}.")
    if result.would_skip is not None:
        click.echo(
            f"Note: tonight's run would not send this letter (skip: {result.would_skip}).",
            err=True,
        )


@main.command()
@config_option
def check(config_path: Path) -> None:
    """Check config.toml and every letter template each municipality may need."""
    settings = load_settings(config_path)
    templates = checked_templates(settings)
    needed = sum(len(policy.stages) for policy in settings.policies.values())
    click.echo(
        f"{config_path}: {len(settings.municipalities)} municipalities, "
        f"{len(settings.policies)} document policies ({needed} stages), "
        f"{len(settings.campaigns)} campaigns; every letter template renders."
    )
    used: set[Path] = set()
    for municipality in settings.municipalities:
        click.echo(f"{municipality.nis_code} {municipality.name}: letter templates")
        for kind, stage, language in letters_used(settings, municipality):
            source = templates.source(kind, stage, language, municipality.nis_code)
            used.add(source.path)
            where = f"own {source.path}" if source.own else "shipped"
            shared = f" (own {', '.join(source.shared_own)})" if source.shared_own else ""
            click.echo(f"  {source.name:<44} {source.sha256}  {where}{shared}")
    for municipality in settings.municipalities:
        for language in municipality.languages:
            for name in templates.source_shared(language, municipality.nis_code):
                used.add(name)
    for path in templates.own_files():
        if path not in used:
            click.echo(
                f"Warning: {path} is used by no letter (a name that matches no document kind, "
                "stage or language the configuration needs?)",
                err=True,
            )


@main.command()
@config_option
@click.option(
    "--persons",
    default=DEFAULT_DEMO_PERSONS,
    show_default=True,
    type=click.IntRange(100, 10_000_000),
    help="Size of the synthetic registry.",
)
@click.option(
    "--seed",
    default=DEFAULT_DEMO_SEED,
    show_default=True,
    type=int,
    help="Seed of the synthetic registry: the same seed gives the same registry.",
)
@date_option("The demo's 'today' (default: today in the configured time zone).")
def demo(config_path: Path, persons: int, seed: int, as_of: date | None) -> None:  # fmt: skip
    """Build a synthetic demo registry on SQLite through the real import, and show it."""
    from reminders.bootstrap.demo import run_demo  # the generator is only needed here

    settings = load_settings(config_path)
    today = day_or_today(as_of, settings)
    result = run_demo(
        settings,
        as_of=today,
        persons=persons,
        seed=seed,
        progress=lambda message: click.echo(f"- {message}", err=True),
    )
    for report, rejections in zip(result.imports, result.rejections, strict=True):
        _echo_import(report, rejections)  # the demo's few bad rows show what a rejection says
    click.echo(f"\nDemo registry on {today:%Y-%m-%d} ({result.database_url}):")
    names = {m.nis_code: m.name for m in settings.municipalities}
    for nis_code, overview in sorted(result.overview.items()):
        persons_total = sum(overview.persons_by_status.values())
        statuses = ", ".join(f"{n:,} {s}" for s, n in sorted(overview.persons_by_status.items()))
        documents = ", ".join(f"{n:,} {k}" for k, n in sorted(overview.documents_by_kind.items()))
        expiring = ", ".join(f"{n:,} {k}" for k, n in sorted(overview.expiring_by_kind.items()))
        click.echo(
            f"  {nis_code} {names.get(nis_code, '')}: {persons_total:,} persons ({statuses})"
        )
        click.echo(f"      documents: {documents or 'none'}")
        click.echo(f"      active, expiring in the next 3 months: {expiring or 'none'}")
    click.echo(f"\nTonight's letters on the demo registry ({today:%Y-%m-%d}):")
    _echo_run(result.run, settings)
    click.echo(f"\nRegistry extracts: {result.persons_csv} and {result.documents_csv}")
    click.echo(f"Demo database: {result.database_url} (the configured database is untouched)")
    if result.run.volumes:
        click.echo(f"Print volumes: {result.run.volumes[0].parent.parent.parent}")
    _echo_demo_log(result)


def _echo_demo_log(result: DemoResult) -> None:
    """The demo's dispatch log, verified, and how to look at it with the audit commands."""
    logs = ", ".join(
        f"{v.municipality_nis} {'intact' if v.intact else 'BROKEN'} ({v.entries:,} entries)"
        for v in result.verdicts
    )
    click.echo(f"\nDispatch log, verified after the run: {logs}")
    click.echo(f"Auditor's report on run {result.run.run_id}: {result.audit_report}")
    key = result.public_key
    click.echo("Inspect the log (the demo has its own database and signing key):")
    click.echo(f"  export REMINDERS_DATABASE_URL={result.database_url}")
    click.echo(f"  reminders audit verify --public-key {key}")
    click.echo(f"  reminders audit export --run {result.run.run_id} --format jsonl")
    if result.sample_letter:
        click.echo(f"  reminders audit prove --letter {result.sample_letter} --out proof.json")
        click.echo(f"  reminders audit check-proof proof.json --public-key {key}")
    if result.run.volumes:  # the log published beside the volumes: no database needed
        volumes = result.run.volumes[0].parent.parent.parent
        click.echo(f"  reminders audit verify --from {volumes} --public-key {key}")
