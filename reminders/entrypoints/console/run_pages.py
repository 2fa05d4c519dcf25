"""The runs of a municipality: the list, one run followed as it goes (its step and counts
from its own records, and how it ended), and starting one (tonight's night or a missed past
night; a night already run is shown as done; an unfinished run is offered to resume first).

Runs the console started that never got a record of their own (refused because another run
held the municipality, or stopped before recording anything) are shown from the console's
activity log, with their reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reminders.adapters.db.console_reads import (
    RunRecord,
    channels_of_runs,
    describe_documents,
    run_of,
    runs_of,
)
from reminders.adapters.db.console_store import ConsoleStore
from reminders.adapters.db.status_store import run_alive
from reminders.bootstrap import run_request, unit_of_work
from reminders.domain.console_access import Role
from reminders.domain.due import Decision
from reminders.domain.model import DocumentKind
from reminders.domain.night_choice import KnownRun, NightChoice, night_choice
from reminders.entrypoints.console.i18n import _
from reminders.entrypoints.console.run_launcher import BUSY_EXIT, RunAlreadyGoingError
from reminders.entrypoints.console.web import Call, is_htmx, page
from reminders.errors import Reason
from reminders.services.nightly_run import run_night

RUNS_SHOWN = 30
SAMPLES = 3  # letters shown as pictures before a run starts
ACTIONS_READ = 200  # the newest console actions read for launches that never got a record


@dataclass(frozen=True, slots=True)
class ShownRun:
    record: RunRecord
    known: KnownRun

    @property
    def state(self) -> str:
        return self.known.state


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """A run the console started that has no record: why, from the activity log."""

    at: datetime
    by: str
    as_of: str
    outcome: str  # refused, failed
    exit_status: int | None
    error: str | None
    reason: Reason | None  # the error as a code and values, when it had one

    @property
    def refused(self) -> bool:
        return self.outcome == "refused" or self.exit_status == BUSY_EXIT


def _shown(connection: Connection, records: list[RunRecord]) -> list[ShownRun]:
    return [
        ShownRun(
            record,
            KnownRun(
                record.run_id,
                record.as_of,
                record.outcome,
                record.step,
                run_alive(connection, record.run_id) if record.outcome == "running" else None,
            ),
        )
        for record in records
    ]


def known_runs(call: Call, limit: int = RUNS_SHOWN) -> list[ShownRun]:
    with call.console.engine.connect() as connection:
        return _shown(connection, runs_of(connection, call.nis, limit=limit))


def _unrecorded(call: Call) -> list[Unrecorded]:
    with call.console.engine.connect() as connection:
        actions = ConsoleStore(connection).actions(call.nis, limit=ACTIONS_READ)
    return [
        Unrecorded(
            action.at,
            action.details.get("by", action.username),
            str(action.details.get("date", "")),
            action.outcome,
            action.details.get("exit_status"),
            action.details.get("error"),
            Reason.from_json(action.details.get("reason")),
        )
        for action in actions
        if action.action == "run_ended"
        and action.outcome != "ok"
        and action.details.get("run_id") is None
    ][:10]


@page()
def runs_page(call: Call) -> Response:
    """The municipality's runs with their volumes (staff) and reports (auditors)."""
    runs = known_runs(call)
    going = call.console.launcher.going(call.nis)
    polling = going is not None or any(run.state == "going" for run in runs)
    return call.page(
        "_runs.html" if is_htmx(call) else "runs.html",
        runs=runs,
        unrecorded=_unrecorded(call),
        going=going,
        polling=polling,
        today=call.console.today().isoformat(),
    )


@page()
def run_page(call: Call) -> Response:
    """One run followed: its step, its counts for this municipality, and how it ended."""
    run_id = call.path_number("run_id")
    with call.console.engine.connect() as connection:
        record = None if run_id is None else run_of(connection, call.nis, run_id)
        shown = _shown(connection, [record])[0] if record is not None else None
        channels = (
            channels_of_runs(connection, call.nis, [record.run_id])[record.run_id]
            if record is not None
            else None
        )
    if shown is None:
        return call.page("problem.html", 404, message=_("There is no such run."))
    return call.page(
        "_run_progress.html" if is_htmx(call) else "run.html",
        run=shown,
        polling=shown.state == "going",
        channels=channels,
        postage=postage_per_letter(call),
    )


def postage_per_letter(call: Call) -> float | None:
    """What a letter on paper costs to post, for the postage e-mail saves: the municipality's
    e-mail tariff (``email.postage_eur``, as the run's summary counts it), else the usage
    page's (``[console] postage_per_letter``); None when neither is configured."""
    email = call.here.email
    if email is not None and email.postage_eur is not None:
        return email.postage_eur
    return call.console.settings.console.postage_per_letter


def _choice(call: Call, night: date) -> NightChoice:
    runs = known_runs(call, limit=10_000)
    return night_choice(night, call.console.today(), [run.known for run in runs])


def _night_asked(call: Call) -> date | None:
    night = call.day("date")
    if night is None and not call.errors:
        return call.console.today()
    return night


@page(Role.STAFF)
def confirm_run(call: Call) -> Response:
    """What a run for the date would do (a dry run), and the button that starts it; or why
    no run may start for that date."""
    night = _night_asked(call)
    choice = None if night is None else _choice(call, night)
    if choice is not None and choice.verdict == "future":
        call.error("date", _("Choose tonight or a past night: a night to come cannot be run yet."))
    if call.errors or night is None or choice is None:
        return call.page(
            "runs.html",
            runs=known_runs(call),
            unrecorded=_unrecorded(call),
            going=call.console.launcher.going(call.nis),
            polling=False,
            today=call.console.today().isoformat(),
            asked=call.param("date") or "",
        )
    outcome, samples = None, []
    if choice.verdict == "open":
        request = run_request(
            call.console.settings,
            as_of=night,
            nis_codes=[call.nis],
            started_by=call.session.user.actor,
            dry_run=True,
        )
        picked: list[tuple[str, int]] = []  # (stage, document id) of the first letters

        def pick(_nis: str, _kind: DocumentKind, decisions: Sequence[Decision]) -> None:
            picked.extend((d.stage, d.document_id) for d in decisions if d.is_letter)

        summary = run_night(
            request, unit_of_work(call.console.engine), now=call.console.now, listing=pick
        ).summary
        assert summary is not None  # noqa: S101 - a dry run always decides
        outcome = summary.municipalities[call.nis].as_json(night)
        with call.console.engine.connect() as connection:
            described = describe_documents(connection, [i for _s, i in picked[:SAMPLES]])
        samples = [
            {"kind": described[i].kind.value, "number": described[i].number, "stage": stage}
            for stage, i in picked[:SAMPLES]
            if i in described
        ]
    return call.page(
        "run_confirm.html",
        as_of=night,
        choice=choice,
        outcome=outcome,
        samples=samples,
        going=call.console.launcher.going(call.nis),
    )


@page(Role.STAFF)
def start_run(call: Call) -> Response:
    """Start the run (confirmed on the page before), or resume the unfinished one; refused
    for a night that may not be run, and while a run is going."""
    night = _night_asked(call)
    if call.param("confirm") != "yes":
        call.error("confirm", _("The run was not confirmed."))
    if night is None or call.errors:
        return call.page("problem.html", 400, message=call.errors[0][1])
    choice = _choice(call, night)
    resuming = choice.verdict == "resume_first" and choice.run is not None
    if resuming and choice.run is not None:
        night = choice.run.as_of  # its own night: the run resumes it before anything else
    elif choice.verdict != "open":
        call.note("run_started", "refused", date=night.isoformat(), why=choice.verdict)
        return call.page("problem.html", 400, message=_refusal(choice))
    try:
        launched = call.console.launcher.start(call.nis, night, call.session.user.actor)
    except RunAlreadyGoingError:
        call.note("run_started", "refused", date=night.isoformat(), why="a run is going")
        return call.page("problem.html", 400, message=_refusal(NightChoice("going")))
    details = {"date": night.isoformat(), "pid": launched.process.pid}
    if resuming and choice.run is not None:
        details["resumes"] = choice.run.run_id
    call.note("run_started", "started", **details)
    return RedirectResponse(f"/m/{call.nis}/runs?started={night.isoformat()}", status_code=303)


def _refusal(choice: NightChoice) -> str:
    if choice.verdict == "going":
        return _("A run of this municipality is still going: wait for it to end.")
    if choice.verdict == "done":
        return _("This night has been run already: its letters went out.")
    return _("Choose tonight or a past night: a night to come cannot be run yet.")


routes = [
    Route("/m/{nis}/runs", runs_page),
    Route("/m/{nis}/runs/start", confirm_run, methods=["GET"]),
    Route("/m/{nis}/runs/start", start_run, methods=["POST"]),
    Route("/m/{nis}/runs/{run_id:int}", run_page),
]
