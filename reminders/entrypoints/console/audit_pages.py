"""The pages for auditors: the dispatch log searched, its verification and newest signed
checkpoint, its export, the auditor's report per run, and the console's own activity.

National numbers are masked to their check digits. An auditor whose grant allows it may
reveal them, by a POST that first writes the reveal to the dispatch log (as `audit export
--reveal` does) and to the console's activity log.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from reminders.adapters.db.console_store import ConsoleStore
from reminders.adapters.db.status_store import municipality_states
from reminders.adapters.spreadsheet_csv import SpreadsheetCsv
from reminders.bootstrap import (
    key_ring,
    reported_municipalities,
    unit_of_work,
)
from reminders.domain.console_access import Role
from reminders.domain.dispatch_log import LogEvent, LogQuery, log_timestamp
from reminders.entrypoints.console.i18n import _
from reminders.entrypoints.console.web import Call, page
from reminders.errors import UsageError
from reminders.services.audit import (
    EXPORT_FIELDS,
    export_rows,
    record_verdicts,
    run_report,
    search_log,
    verification_statement,
    verify_logs,
)

PAGE_SIZE = 100
ACTIVITY_SHOWN = 200


def _query(call: Call) -> LogQuery:
    """The search form, read; times are local days of the installation's time zone."""
    event = call.param("event")
    if event is not None and event not in {e.value for e in LogEvent}:
        call.error("event", _("Choose an event from the list."))
        event = None
    number = call.param("document")
    run_id = call.record_number("run")
    day_from, day_to = call.day("from"), call.day("to")
    if day_from and day_to and day_to < day_from:
        call.error("to", _("The end date must be on or after the start date."))
    return LogQuery(
        document_number=number.upper() if number else None,
        stage=call.param("stage"),
        reason=call.param("reason"),
        event=LogEvent(event) if event else None,
        run_id=run_id,
        recorded_from=_day_start(call, day_from, 0),
        recorded_before=_day_start(call, day_to, 1),
    )


def _day_start(call: Call, day: date | None, days_after: int) -> str | None:
    """The log time stamp (UTC) at which the local ``day`` (plus ``days_after``) begins."""
    if day is None:
        return None
    day += timedelta(days=days_after)  # a supported date: cannot overflow
    zone = call.console.settings.timezone
    return log_timestamp(datetime.combine(day, time(), tzinfo=zone))


def _search(call: Call, *, reveal: bool) -> Response:
    query = _query(call)
    before_seq = call.record_number("before", smallest=0)
    if call.errors:  # no results: never results that ignore what was typed
        return _log_page(call, rows=[], query=query, more=False, reveal=False)
    if reveal:  # sealed into the log by the signer process before anything is shown
        what = {"command": "console log search", "query": _described_query(query)}
        call.console.signer.ask(
            "reveal", call.nis, call.console.now(), by=call.session.user.actor, what=what
        )
    with unit_of_work(call.console.engine) as uow:
        store = uow.dispatch_log
        rows = search_log(
            store, call.nis, query, reveal=reveal, limit=PAGE_SIZE + 1, before_seq=before_seq
        )
    if reveal:
        call.note("national_numbers_revealed", query=_described_query(query))
    more = len(rows) > PAGE_SIZE
    return _log_page(call, rows=rows[:PAGE_SIZE], query=query, more=more, reveal=reveal)


def _log_page(
    call: Call, *, rows: list[dict[str, Any]], query: LogQuery, more: bool, reveal: bool
) -> Response:
    params = {k: v for k, v in call.request.query_params.items() if k != "before"}
    return call.form_page(
        "log.html",
        "_log_rows.html",
        rows=rows,
        query=query,
        form=params if call.form is None else {k: str(v) for k, v in call.form.items()},
        next_before=rows[-1]["seq"] if more and rows else None,
        next_params=params,
        revealed=reveal,
        may_reveal=call.session.user.may_reveal(call.nis),
        events=[e.value for e in LogEvent],
    )


def _described_query(query: LogQuery) -> dict[str, Any]:
    fields = {
        "document_number": query.document_number,
        "stage": query.stage,
        "reason": query.reason,
        "event": query.event.value if query.event else None,
        "run_id": query.run_id,
        "recorded_from": query.recorded_from,
        "recorded_before": query.recorded_before,
    }
    return {name: value for name, value in fields.items() if value is not None}


@page(Role.AUDITOR)
def log_page(call: Call) -> Response:
    """The dispatch log, newest first, searched; national numbers masked."""
    return _search(call, reveal=False)


@page(Role.AUDITOR)
def log_revealed(call: Call) -> Response:
    """The same search with national numbers in full, for an auditor allowed to see them."""
    if not _may_reveal(call, "national_numbers_revealed"):
        return _reveal_refused(call)
    return _search(call, reveal=True)


@page(Role.AUDITOR)
def verification_page(call: Call) -> Response:
    """The last verification of the log and its newest signed checkpoint."""
    return _verification(call, statement=None, intact=None)


@page(Role.AUDITOR)
def verify_now(call: Call) -> Response:
    """Verify the municipality's log now (the verdict is kept, as `audit verify` keeps it)."""
    keys = key_ring(call.console.settings)
    with unit_of_work(call.console.engine) as uow:
        store = uow.dispatch_log
        verdicts = verify_logs(store, keys, municipalities=[call.nis])
        record_verdicts(
            store, verdicts, verified_at=call.console.now(), verified_by=call.session.user.actor
        )
    verdict = verdicts[0]
    call.note(
        "log_verified",
        "ok" if verdict.intact else "failed",
        entries=verdict.entries,
        first_broken_entry=verdict.first_problem.seq if verdict.first_problem else None,
    )
    return _verification(call, statement=verification_statement(verdict), intact=verdict.intact)


def _verification(
    call: Call, *, statement: tuple[str, ...] | None, intact: bool | None
) -> Response:
    with call.console.engine.connect() as connection:
        state = municipality_states(connection, [call.nis])[call.nis]
    with unit_of_work(call.console.engine) as uow:
        store = uow.dispatch_log
        note = store.head(call.nis).checkpoint_note
    return call.page(
        "verification.html", state=state, note=note, statement=statement, intact=intact
    )


@page(Role.AUDITOR)
def checkpoint_file(call: Call) -> Response:
    """The newest signed checkpoint, as a file to keep outside the database."""
    with unit_of_work(call.console.engine) as uow:
        store = uow.dispatch_log
        head = store.head(call.nis)
    if head.checkpoint_note is None:
        return call.page("problem.html", 404, message=_("The log has no checkpoint yet."))
    name = f"checkpoint-{call.nis}-{head.checkpoint_size}.txt"
    return Response(
        head.checkpoint_note,
        media_type="text/plain; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _export(call: Call, *, reveal: bool) -> Response:
    fmt = call.param("format") or "csv"
    if fmt not in ("csv", "jsonl"):
        raise UsageError(_("Choose CSV or JSON lines."))
    run_id = call.record_number("run")  # checked before anything is streamed
    if call.errors:
        return call.page("problem.html", 400, message=call.errors[0][1])
    engine, nis, settings = call.console.engine, call.nis, call.console.settings
    if reveal:  # sealed into the log by the signer process before anything is sent
        what = {"run_id": run_id, "format": fmt, "command": "console export"}
        call.console.signer.ask("reveal", nis, call.console.now(), by=call.session.user.actor,
                                what=what)  # fmt: skip
    details: dict[str, Any] = {"run_id": run_id, "format": fmt, "revealed": reveal}
    output_dir = settings.output_dir.resolve()

    def lines() -> Iterator[str]:  # read as it is sent: a year's log need not fit in memory
        try:
            with unit_of_work(engine) as uow:
                store = uow.dispatch_log
                rows = export_rows(
                    store, [nis], run_id=run_id, reveal=reveal, output_dir=output_dir
                )
                yield from _export_lines(rows, fmt)
        except Exception:
            call.note("log_exported", "failed", **details)
            raise
        # Only now: the server has taken every line. A download cut off (the browser
        # closed) or failed is not logged as an export done.
        call.note("log_exported", **details)

    suffix = f"-run-{run_id}" if run_id else ""
    name = f"dispatch-log-{nis}{suffix}.{fmt}"
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        lines(), media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'}
    )


def _export_lines(rows: Iterator[dict[str, Any]], fmt: str) -> Iterator[str]:
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = SpreadsheetCsv(buffer, EXPORT_FIELDS)
    writer.header()
    for row in rows:
        writer.record(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@page(Role.AUDITOR)
def export_file(call: Call) -> Response:
    """The log (or one run's entries) as the contract's export, national numbers masked."""
    return _export(call, reveal=False)


@page(Role.AUDITOR)
def export_revealed(call: Call) -> Response:
    """The export with national numbers in full, for an auditor allowed to see them."""
    if not _may_reveal(call, "log_exported"):
        return _reveal_refused(call)
    return _export(call, reveal=True)


def _may_reveal(call: Call, action: str) -> bool:
    """Whether the user's grant reveals national numbers here; a refusal is logged."""
    if call.session.user.may_reveal(call.nis):
        return True
    call.note(action, "refused", revealed=True)
    return False


def _reveal_refused(call: Call) -> Response:
    return call.page("problem.html", 403, message=_("Your role does not reveal national numbers."))


@page(Role.AUDITOR)
def report_file(call: Call) -> Response:
    """The auditor's report on one run, for this municipality (PDF), verified now."""
    from reminders.adapters.printing.audit_report_pdf import audit_report_pdf

    run_id = call.path_number("run_id")
    if run_id is None:
        return call.page("problem.html", 404, message=_("There is no such run."))
    settings = call.console.settings
    keys = key_ring(settings)
    with unit_of_work(call.console.engine) as uow:
        store = uow.dispatch_log
        report = run_report(
            store,
            keys,
            run_id,
            reported_municipalities(settings),
            only=call.nis,
            now=call.console.now,
        )
    call.note("report_made", run_id=run_id)
    name = f"audit-report-{call.nis}-run-{run_id}.pdf"
    return Response(
        audit_report_pdf(report),
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )


@page(Role.AUDITOR)
def activity_page(call: Call) -> Response:
    """What was done in the console (and to its roles) in this municipality."""
    with call.console.engine.connect() as connection:
        actions = ConsoleStore(connection).actions(call.nis, limit=ACTIVITY_SHOWN)
    return call.page("activity.html", actions=actions, shown=ACTIVITY_SHOWN)


routes = [
    Route("/m/{nis}/log", log_page, methods=["GET"]),
    Route("/m/{nis}/log", log_revealed, methods=["POST"]),
    Route("/m/{nis}/verification", verification_page, methods=["GET"]),
    Route("/m/{nis}/verification", verify_now, methods=["POST"]),
    Route("/m/{nis}/checkpoint.txt", checkpoint_file),
    Route("/m/{nis}/export", export_file, methods=["GET"]),
    Route("/m/{nis}/export", export_revealed, methods=["POST"]),
    Route("/m/{nis}/runs/{run_id}/report.pdf", report_file),  # any text: 404 if not a run
    Route("/m/{nis}/activity", activity_page),
]
