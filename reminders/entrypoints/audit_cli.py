"""`reminders audit ...`: the dispatch log for auditors (verify, prove, check a proof, export,
report, checkpoint). Verification failures exit 1 and name the first broken entry."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from reminders.adapters.crypto.signing_key import load_verifier_key
from reminders.adapters.printing.log_folder import LogFolders, published_logs_in
from reminders.adapters.private_files import OWNER_ONLY
from reminders.adapters.spreadsheet_csv import SpreadsheetCsv
from reminders.bootstrap import (
    checkpoint_signers,
    key_ring,
    open_engine,
    reported_municipalities,
    unit_of_work,
    utc_now,
)
from reminders.config import Settings, load_settings
from reminders.config.audit import INSTALLATION_KEY_NAME
from reminders.domain.checkpoint import KeyRing
from reminders.domain.dispatch_log import LogVerdict
from reminders.entrypoints.options import (
    ReportingGroup,
    checked_record_number,
    config_option,
    writing,
)
from reminders.errors import UsageError
from reminders.services.audit import (
    EXPORT_FIELDS,
    check_proof,
    export_rows,
    outside_checkpoint,
    prove_letter,
    record_reveal,
    record_verdicts,
    run_report,
    verification_statement,
    verify_logs,
)
from reminders.services.ports import DispatchLogStore
from reminders.services.verify_published import (
    KeptCheckpoint,
    published_statement,
    verify_published,
)


@click.group(cls=ReportingGroup)
def audit() -> None:
    """The dispatch log: verify it, prove a letter is in it, export it, report on a run."""


@contextmanager
def _log_store(settings: Settings) -> Iterator[DispatchLogStore]:
    engine = open_engine(settings.database_url)
    try:
        with unit_of_work(engine) as uow:
            store = uow.dispatch_log
            yield store
    finally:
        engine.dispose()


def _chosen(settings: Settings, nis_code: str | None) -> list[str] | None:
    """``--municipality``: that one (an unknown NIS code is bad usage, exit 2, not an empty
    log), or None for every municipality in the log."""
    if nis_code is None:
        return None
    return [settings.municipality(nis_code).nis_code]


def _public_key_option(command: Any) -> Any:
    return click.option(
        "--public-key",
        "public_key_paths",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        help="A public key to verify with, PEM or signed-note verifier key (repeatable; "
        "default: every key config.toml names, with the moments each was in use).",
    )(command)


@audit.command()
@config_option
@click.option("--municipality", "nis_code", default=None, help="Only this NIS code's log.")
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A checkpoint file kept outside the database (repeatable): finds a truncated log.",
)
@_public_key_option
@click.option(
    "--from",
    "from_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Verify the log published in this folder (a log's folder, or the output folder with "
    "one per municipality) with the public key alone: no database.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as one JSON object.")
def verify(
    config_path: Path,
    nis_code: str | None,
    checkpoint_files: tuple[Path, ...],
    public_key_paths: tuple[Path, ...],
    from_dir: Path | None,
    as_json: bool,
) -> None:
    """Recompute the dispatch log and check it against its signed checkpoints, and the log
    published in the output folder; exit 1 and the first broken entry when it was altered.
    With --from, the published log alone."""
    kept = [
        (path.name, path.read_text(encoding="utf-8", errors="replace")) for path in checkpoint_files
    ]
    if from_dir is not None:
        if public_key_paths:  # no configuration needed: an auditor's own keys
            ring = KeyRing(
                tuple(load_verifier_key(path, INSTALLATION_KEY_NAME) for path in public_key_paths)
            )
        else:  # every key the configuration names
            ring = key_ring(load_settings(config_path))
        verdicts = _verified_folder(from_dir, ring, kept, nis_code)
        _report_verdicts(verdicts, as_json, statement=published_statement)
        return
    settings = load_settings(config_path)
    keys = key_ring(settings, public_key_paths)
    outside = [outside_checkpoint(name, text) for name, text in kept]
    with _log_store(settings) as store:
        verdicts = verify_logs(
            store,
            keys,
            municipalities=_chosen(settings, nis_code),
            outside=outside,
            published=LogFolders(settings.output_dir),
            configured=[m.nis_code for m in settings.municipalities],
        )
        record_verdicts(store, verdicts, verified_at=utc_now(), verified_by="cli")
    _report_verdicts(verdicts, as_json)


def _verified_folder(
    folder: Path,
    keys: KeyRing,
    kept: list[tuple[str, str]],
    nis_code: str | None,
) -> list[LogVerdict]:
    """The logs published in ``folder``: one log's folder, or an output folder holding one
    per municipality (``<NIS>/log``), each checked with the checkpoint files beside its
    volumes and those given."""
    logs = published_logs_in(folder)
    if nis_code is not None:
        logs = [found for found in logs if found.municipality_nis in (None, nis_code)]
    if not logs:
        raise UsageError(
            f"{folder}: no published dispatch log here (neither a checkpoint file nor "
            "<NIS>/log/checkpoint folders)"
        )
    files = [KeptCheckpoint(name, text) for name, text in kept]
    return [
        verify_published(
            found.log,
            keys,
            municipality_nis=found.municipality_nis,
            kept=[*files, *(KeptCheckpoint(p, t) for p, t in found.run_checkpoints)],
        )
        for found in logs
    ]


def _report_verdicts(
    verdicts: list[LogVerdict],
    as_json: bool,
    *,
    statement: Callable[[LogVerdict], tuple[str, ...]] = verification_statement,
) -> None:
    if as_json:
        click.echo(json.dumps({"logs": [_verdict_json(v) for v in verdicts]}))
    else:
        for verdict in verdicts:
            _echo_verdict(verdict, statement)
        if not verdicts:
            click.echo("The dispatch log is empty: no run has been sealed yet.")
    if not all(verdict.intact for verdict in verdicts):
        sys.exit(1)


def _echo_verdict(verdict: LogVerdict, statement: Callable[[LogVerdict], tuple[str, ...]]) -> None:
    status = "intact" if verdict.intact else "BROKEN"
    click.echo(f"{verdict.municipality_nis}: {status}")
    for line in statement(verdict):
        click.echo(f"  {line}")


def _verdict_json(verdict: LogVerdict) -> dict[str, Any]:
    first = verdict.first_problem
    latest = verdict.latest.checkpoint if verdict.latest else None
    return {
        "municipality_nis": verdict.municipality_nis,
        "intact": verdict.intact,
        "entries": verdict.entries,
        "checkpoints": verdict.checkpoints,
        "latest_checkpoint": (
            {"tree_size": latest.tree_size, "root_hash": latest.root_hash.hex()} if latest else None
        ),
        "first_broken_entry": first.seq if first else None,
        "problems": [problem.message for problem in verdict.problems],
        "signed_by": verdict.signers,  # "name+keyid": the sizes of the checkpoints it signed
    }


@audit.command(name="keys")
@config_option
def keys_command(config_path: Path) -> None:
    """The dispatch log's keys per municipality: which key signs its checkpoints now, from
    when each key signs (rotation), where each private key is read from (never the key),
    and each public key as a signed-note verifier key to give to auditors."""
    settings = load_settings(config_path)
    ring = key_ring(settings)
    by_source = {key.source: key for key in ring.keys}
    now = utc_now()
    for municipality in settings.municipalities:
        click.echo(f"{municipality.nis_code} {municipality.name}:")
        if not municipality.keys:
            key = by_source[str(settings.audit.public_key)]
            click.echo(f"  {key.label}  the installation's key, signs now")
            click.echo(f"    private: {settings.audit.signing_key}")
            click.echo(f"    public: {settings.audit.public_key}")
            click.echo(f"    verifier key: {key.vkey()}")
            continue
        own = municipality.keys
        for index, configured in enumerate(own):
            key = by_source[str(configured.public_key)]
            start, until = configured.valid_from, key.valid_until
            if start is not None and start > now:
                state = f"signs from {start.isoformat()}"
            elif until is not None and until <= now:
                state = f"signed from {start.isoformat() if start else 'the start'} until "
                state += f"{until.isoformat()} (replaced)"
            else:
                state = f"signs now (since {start.isoformat() if start else 'the start'})"
            click.echo(f"  {key.label}  key {index + 1} of {len(own)}, {state}")
            click.echo(f"    private: {configured.signing_key or 'not on this machine'}")
            click.echo(f"    public: {configured.public_key}")
            click.echo(f"    verifier key: {key.vkey()}")


@audit.command()
@config_option
@click.option("--letter", "reference", required=True, help="The letter's reference.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    default=None,
    help="Write the proof here (default: standard output).",
)
def prove(config_path: Path, reference: str, out: Path | None) -> None:
    """An inclusion proof that a letter is in the dispatch log, checkable with the public key
    alone (`reminders audit check-proof`)."""
    settings = load_settings(config_path)
    with _log_store(settings) as store:
        proof = prove_letter(store, reference.strip())
    text = json.dumps(proof.as_json(), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        with writing(out):
            OWNER_ONLY.write_text(out, text)
        click.echo(f"Wrote the proof for {reference} to {out}.", err=True)


@audit.command(name="check-proof")
@click.argument("proof_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--public-key",
    "public_key_paths",
    required=True,
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A public key: a signed-note verifier key (.vkey, with its name) or the "
    "installation's PEM (repeatable: every key the log was signed with).",
)
def check_proof_command(proof_file: Path, public_key_paths: tuple[Path, ...]) -> None:
    """Check an inclusion proof with public keys alone (no database, no configuration);
    exit 1 when it does not hold."""
    keys = KeyRing(
        tuple(load_verifier_key(path, INSTALLATION_KEY_NAME) for path in public_key_paths)
    )
    try:
        text = proof_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{proof_file}: not a readable proof (UTF-8 JSON): {err}") from err
    result = check_proof(text, keys)
    entry = result.entry
    what = f"{entry.get('reference')} ({entry.get('document_kind')} {entry.get('stage')})"
    if result.valid and result.checkpoint is not None:
        checkpoint = result.checkpoint.checkpoint
        click.echo(
            f"Valid: letter {what} is entry {entry.get('seq')} of the dispatch log of "
            f"{checkpoint.municipality_nis}, under the checkpoint of {checkpoint.tree_size} "
            f"entries signed at {checkpoint.signed_at:%Y-%m-%d %H:%M:%S} UTC by {result.signer}."
        )
        return
    click.echo(f"INVALID proof for letter {what}:")
    for problem in result.problems:
        click.echo(f"  {problem}")
    sys.exit(1)


@audit.command()
@config_option
@click.option(
    "--run",
    "run_id",
    default=None,
    metavar="ID",
    callback=checked_record_number,
    help="Only this run's entries.",
)
@click.option("--municipality", "nis_code", default=None, help="Only this NIS code's log.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--reveal",
    is_flag=True,
    help="Show national numbers in full (the reveal itself is written to the log).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    default=None,
    help="Write here (default: standard output).",
)
def export(
    config_path: Path,
    run_id: int | None,
    nis_code: str | None,
    fmt: str,
    reveal: bool,
    out: Path | None,
) -> None:
    """The dispatch log, one line per letter or skip; national numbers masked to their check
    digits unless --reveal."""
    settings = load_settings(config_path)
    with _log_store(settings) as store:
        municipalities = _chosen(settings, nis_code) or store.municipalities()
        if reveal:
            _log_reveal(settings, store, municipalities, run_id, fmt)
        with _output(out) as stream:
            rows = export_rows(
                store,
                municipalities,
                run_id=run_id,
                reveal=reveal,
                output_dir=settings.output_dir.resolve(),
            )
            if fmt == "jsonl":
                for row in rows:
                    stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                writer = SpreadsheetCsv(stream, EXPORT_FIELDS)
                writer.header()
                writer.records(rows)


def _log_reveal(
    settings: Settings,
    store: DispatchLogStore,
    municipalities: list[str],
    run_id: int | None,
    fmt: str,
) -> None:
    """Record who saw national numbers in full, and of what, before showing them."""
    record_reveal(
        store,
        checkpoint_signers(
            settings,
            now=utc_now(),
            municipalities=[m for m in settings.municipalities if m.nis_code in municipalities],
        ),
        municipalities,
        by=getpass.getuser(),
        what={"run_id": run_id, "format": fmt, "command": "audit export"},
        now=utc_now,
    )


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
        return
    with writing(out):
        stream = OWNER_ONLY.open_text(out)
    with stream:
        yield stream


@audit.command()
@config_option
@click.option(
    "--run",
    "run_id",
    required=True,
    metavar="ID",
    callback=checked_record_number,
    help="The run to report on.",
)
@click.option("--municipality", "nis_code", default=None, help="Only this NIS code.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Where to write the PDF.",
)
def report(config_path: Path, run_id: int, nis_code: str | None, out: Path) -> None:
    """The auditor's report on one run (PDF): counts per stage, language and skip reason,
    volumes with their hashes, the signed checkpoint, and a verification statement."""
    from reminders.adapters.printing.audit_report_pdf import (
        audit_report_pdf,  # ReportLab: only here
    )

    settings = load_settings(config_path)
    _chosen(settings, nis_code)  # an unknown NIS code exits 2 before anything is read
    keys = key_ring(settings)
    with _log_store(settings) as store:
        result = run_report(
            store, keys, run_id, reported_municipalities(settings), only=nis_code,
            now=utc_now,
        )  # fmt: skip
    with writing(out):
        OWNER_ONLY.write_bytes(out, audit_report_pdf(result))
    verified = all(section.verified for section in result.municipalities)
    click.echo(
        f"Wrote {out}: run {run_id}, {len(result.municipalities)} municipalities, "
        f"log {'verified' if verified else 'BROKEN'}."
    )
    if not verified:
        sys.exit(1)


@audit.command()
@config_option
@click.option("--municipality", "nis_code", default=None, help="Only this NIS code's log.")
def checkpoint(config_path: Path, nis_code: str | None) -> None:
    """Print the newest signed checkpoint of each log, to keep outside the database."""
    settings = load_settings(config_path)
    with _log_store(settings) as store:
        municipalities = _chosen(settings, nis_code) or store.municipalities()
        notes = [store.head(nis).checkpoint_note for nis in municipalities]
    for note in notes:
        if note is not None:
            click.echo(note)
