"""`reminders console-signer` (hidden): what the web console asks of the dispatch log's
private key, done in a process of its own so the console's process never reads the key
(issue 18). The console starts it for each such action, the way it starts runs
(entrypoints/console/run_launcher.py): a reveal sealed into the log, a release, a delivery, a
cancellation, a reprint. The request comes as one JSON object on standard input (never on the
command line, where other users could read it), the outcome as one on standard output; an
error is the command's usual message and exit status (2 bad input, 1 refused, 3 busy).

The console checks the user's session, role and form before it asks; this command trusts the
console user named in the request, as it trusts the account that runs it: whoever may run it
with the installation's configuration may read the key anyway.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from reminders.adapters.db.run_lock import RunLocks
from reminders.bootstrap import (
    checkpoint_signers,
    open_engine,
    unit_of_work,
)
from reminders.bootstrap.after_print import after_print_of
from reminders.config import Settings, load_settings
from reminders.domain.print_records import StoredVolume
from reminders.entrypoints.options import config_option
from reminders.errors import Reason, ReasonCode, UsageError
from reminders.services.after_print import Actor
from reminders.services.audit import record_reveal
from reminders.services.release_volumes import (
    cancel_letter,
    cancel_volume,
    deliver_pending,
    release_volume,
)
from reminders.services.reprint_letter import reprint_letter
from reminders.services.run_control import RunControl

ACTIONS = ("reveal", "release", "deliver", "cancel", "reprint")


@click.command(name="console-signer", hidden=True)
@config_option
def console_signer(config_path: Path) -> None:
    """For the web console only: one action that signs the dispatch log (JSON on stdin)."""
    try:
        request = json.loads(sys.stdin.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"console-signer: expected one JSON object on stdin: {err}") from err
    if not isinstance(request, dict) or request.get("action") not in ACTIONS:
        raise UsageError(f"console-signer: expected an action among {', '.join(ACTIONS)}")
    settings = load_settings(config_path)
    nis = settings.municipality(_text(request, "nis")).nis_code
    try:
        moment = datetime.fromisoformat(_text(request, "now"))
    except ValueError as err:
        raise UsageError(f"console-signer: now: expected an ISO moment: {err}") from err
    if moment.tzinfo is None:
        raise UsageError("console-signer: now: expected a moment with its UTC offset")
    engine = open_engine(settings.database_url)
    try:
        outcome = _ACTIONS[request["action"]](settings, engine, nis, request, lambda: moment)
    finally:
        engine.dispose()
    click.echo(json.dumps(outcome))


def _text(request: dict[str, Any], name: str, *, empty: bool = False) -> str:
    value = request.get(name)
    if not isinstance(value, str) or not (value or empty):
        raise UsageError(f"console-signer: {name}: expected text")
    return value


def _number(request: dict[str, Any], name: str) -> int:
    value = request.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**31 - 1:
        raise UsageError(f"console-signer: {name}: expected a record number")
    return value


Action = Callable[[Settings, Engine, str, dict[str, Any], Callable[[], datetime]], dict[str, Any]]


def _reveal(
    settings: Settings,
    engine: Engine,
    nis: str,
    request: dict[str, Any],
    now: Callable[[], datetime],
) -> dict[str, Any]:
    with unit_of_work(engine) as uow:
        store = uow.dispatch_log
        signer = checkpoint_signers(
            settings, now=now(), municipalities=[settings.municipality(nis)]
        )
        what = request.get("what")
        if not isinstance(what, dict):
            raise UsageError("console-signer: what: expected an object")
        record_reveal(store, signer, [nis], by=_text(request, "by"), what=what, now=now)
    return {}


def _volume(volume: StoredVolume) -> dict[str, Any]:
    return {"file_name": volume.file_name, "state": volume.state, "run_id": volume.run_id,
            "sha256": volume.sha256}  # fmt: skip


def _own_volume(engine: Engine, nis: str, volume_id: int) -> int:
    """A volume of this municipality, or the same answer as for one that does not exist."""
    with unit_of_work(engine) as uow:
        volume = uow.after_print.volume(volume_id)
    if volume is None or volume.municipality_nis != nis:
        raise UsageError(
            f"there is no print volume {volume_id}",
            reason=Reason(ReasonCode.NO_SUCH_VOLUME, {"volume": volume_id}),
        )
    return volume_id


def _release(
    settings: Settings,
    engine: Engine,
    nis: str,
    request: dict[str, Any],
    now: Callable[[], datetime],
) -> dict[str, Any]:
    after = after_print_of(settings)
    with RunLocks(engine)([nis]):
        volume_id = _own_volume(engine, nis, _number(request, "volume_id"))
        released = release_volume(volume_id, Actor(_text(request, "user"), "console"), after,
                                  unit_of_work(engine), now=now,
                                  control=RunControl())  # fmt: skip
    return {"volume": _volume(released.volume), "recut": released.recut_from is not None}


def _deliver(
    settings: Settings,
    engine: Engine,
    nis: str,
    request: dict[str, Any],
    now: Callable[[], datetime],
) -> dict[str, Any]:
    after = after_print_of(settings)
    with RunLocks(engine)([nis]):
        delivered = deliver_pending(after, unit_of_work(engine), municipality_nis=nis,
                                    now=now, control=RunControl())  # fmt: skip
    return {"volumes": [volume.file_name for volume in delivered]}


def _cancel(
    settings: Settings,
    engine: Engine,
    nis: str,
    request: dict[str, Any],
    now: Callable[[], datetime],
) -> dict[str, Any]:
    after = after_print_of(settings)
    actor, note = Actor(_text(request, "user"), "console"), _text(request, "note", empty=True)
    decide_again = request.get("decide_again") is True
    uow = unit_of_work(engine)
    with RunLocks(engine)([nis]):
        if request.get("reference") is not None:
            done = cancel_letter(_text(request, "reference"), actor, note, after, uow,
                                 decide_again=decide_again, now=now,
                                 control=RunControl())  # fmt: skip
        else:
            volume_id = _own_volume(engine, nis, _number(request, "volume_id"))
            done = cancel_volume(volume_id, actor, note, after, uow,
                                 decide_again=decide_again, now=now,
                                 control=RunControl())  # fmt: skip
    return {"references": list(done.references), "volume": _volume(done.volume)}


def _reprint(
    settings: Settings,
    engine: Engine,
    nis: str,
    request: dict[str, Any],
    now: Callable[[], datetime],
) -> dict[str, Any]:
    after = after_print_of(settings)
    with RunLocks(engine)([nis]):
        actor, note = Actor(_text(request, "user"), "console"), _text(request, "note", empty=True)
        done = reprint_letter(_text(request, "reference"), actor, note, after,
                              unit_of_work(engine), now=now,
                              control=RunControl())  # fmt: skip
    return {"reference": done.reference, "original": done.original,
            "volume": _volume(done.volume), "address_changed": done.address_changed}  # fmt: skip


_ACTIONS: dict[str, Action] = {
    "reveal": _reveal,
    "release": _release,
    "deliver": _deliver,
    "cancel": _cancel,
    "reprint": _reprint,
}
