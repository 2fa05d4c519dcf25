"""The pages for civil-affairs staff: the configuration in force, the letters due tonight and
tomorrow, a letter's preview, past runs with their volumes, and starting a run."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from pathlib import Path

from sqlalchemy import Engine
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from reminders.adapters.db.console_reads import describe_documents, volume
from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.pdf_image import first_page_png
from reminders.adapters.printing.print_volume import preview_pdf
from reminders.bootstrap import (
    checked_templates,
    run_request,
    unit_of_work,
)
from reminders.domain.console_access import Role
from reminders.domain.due import SkipReason
from reminders.domain.model import DocumentKind, DueDocument
from reminders.entrypoints.console.i18n import _
from reminders.entrypoints.console.reasons import worded
from reminders.entrypoints.console.web import Call, FieldError, is_htmx, page
from reminders.errors import Reason, ReasonCode, UsageError
from reminders.services.letters_due import DueFilter, letters_due
from reminders.services.preview_letter import NotServedError, Preview, preview_letter

LISTED = 500  # rows of a night shown at once; the counts cover every one


@page(Role.STAFF)
def configuration(call: Call) -> Response:
    """The configuration as it is in force for the municipality: policies, languages, sender,
    printing, schedule, campaigns, and the letter templates with their SHA-256."""
    settings = call.console.settings
    templates = checked_templates(settings, [call.here])
    languages = call.here.languages
    letters = [
        (
            policy.kind,
            stage,
            language,
            templates.source(policy.kind, stage.name, language, call.nis),
        )
        for policy in settings.policies.values()
        for stage in policy.stages
        for language in languages
    ]
    return call.page(
        "configuration.html",
        settings=settings,
        policies=list(settings.policies.values()),
        campaigns=[c for c in settings.campaigns if c.covers(call.nis)],
        letters=letters,
    )


def _due_filter(call: Call) -> DueFilter:
    kind = call.param("kind")
    reason = call.param("reason")
    outcome = call.param("outcome")
    if kind is not None and kind not in {k.value for k in DocumentKind}:
        raise UsageError(_("Choose a kind of document from the list."))
    if reason is not None and reason not in {r.value for r in SkipReason}:
        raise UsageError(_("Choose a reason from the list."))
    if outcome not in (None, "letter", "skip"):
        raise UsageError(_("Choose letters or skips from the list."))
    number = call.param("number")
    return DueFilter(
        kind=DocumentKind(kind) if kind else None,
        stage=call.param("stage"),
        outcome=outcome,
        reason=reason,
        language=call.param("language"),
        number=number.upper() if number else None,
    )


@page(Role.STAFF)
def letters_due_page(call: Call) -> Response:
    """Tonight's letters and skips, and what tomorrow adds: a dry run, recorded nowhere."""
    wanted = _due_filter(call)
    settings = call.console.settings
    engine = call.console.engine
    actor = call.session.user.actor
    tonight, tomorrow = letters_due(
        lambda day: run_request(
            settings, as_of=day, nis_codes=[call.nis], started_by=actor, dry_run=True
        ),
        unit_of_work(engine),
        partial(_described, engine),
        tonight=call.console.today(),
        now=call.console.now,
    )
    nights = []
    for night in (tonight, tomorrow):
        shown = [item for item in night.items if wanted.matches(item)]
        nights.append((night, shown[:LISTED], len(shown)))
    return call.page(
        "_due_nights.html" if is_htmx(call) else "letters_due.html",
        nights=nights,
        wanted=wanted,
        listed=LISTED,
        kinds=list(settings.policies),
        stages=sorted(
            {s.name for p in settings.policies.values() for s in p.stages}
            | {c.id for c in settings.campaigns}
        ),
        reasons=[reason.value for reason in SkipReason],
    )


def _described(engine: Engine, ids: Collection[int]) -> dict[int, DueDocument]:
    with engine.connect() as connection:
        return describe_documents(connection, ids)


def _preview(call: Call, *, note: bool = True) -> Preview:
    kind_text, number = call.param("kind") or "", (call.param("number") or "").upper()
    if kind_text not in {kind.value for kind in DocumentKind} or not number:
        raise UsageError(_("Choose a kind of document and give its number."))
    document = f"{kind_text}:{number}"
    settings = call.console.settings
    asked = call.day("date")
    if call.errors:
        raise FieldError(*call.errors[0])
    as_of = asked or call.console.today()
    layout = LetterLayout(settings.print_options.window)
    with unit_of_work(call.console.engine) as uow:
        store = uow.letters
        try:
            result = preview_letter(
                DocumentKind(kind_text),
                number,
                stage=call.param("stage"),
                as_of=as_of,
                municipalities=[call.here],  # nobody previews another's letters
                policies=settings.policies,
                store=store,
                texts=checked_templates(settings, [call.here]),
                render=lambda spec, texts, municipality: preview_pdf(
                    layout, spec, texts, municipality
                ),
            )
        except UsageError as err:  # a holder elsewhere gets the answer of no such document
            reason = err.reason
            if isinstance(err, NotServedError) or (
                reason is not None and reason.code is ReasonCode.NO_SUCH_DOCUMENT
            ):
                where = {"document": document, "municipality": call.nis}
                reason = Reason(ReasonCode.NO_SUCH_DOCUMENT, where)
            # in the user's language; the command line's option names mean nothing here
            shown = worded(reason, call.console.names(), err.message) if reason else err.message
            raise UsageError(shown.removeprefix("--")) from None
    if note:  # the page and its PDF; not the picture the page shows (one preview, one line)
        call.note("preview", document=document, stage=result.spec.stage)
    return result


@page(Role.STAFF)
def preview_page(call: Call) -> Response:
    """The preview form and, once a document is given, its letter's first page as a picture."""
    shown = None
    if call.param("number"):
        try:
            result = _preview(call)
        except UsageError as err:  # the form again, with the error at its field
            name = err.name if isinstance(err, FieldError) else "number"
            if (name, err.message) not in call.errors:
                call.error(name, err.message)
            return call.page(
                "preview.html",
                shown=None,
                kinds=list(call.console.settings.policies),
                today=call.console.today().isoformat(),
            )
        shown = {
            "document": f"{result.spec.document_kind}:{(call.param('number') or '').upper()}",
            "stage": result.spec.stage,
            "date": result.spec.letter_date.isoformat(),
            "languages": "+".join(result.spec.languages),
            "would_skip": result.would_skip.value if result.would_skip else None,
            "query": str(call.request.query_params),
        }
    return call.page(
        "preview.html",
        shown=shown,
        kinds=list(call.console.settings.policies),
        today=call.console.today().isoformat(),
    )


@page(Role.STAFF)
def preview_pdf_file(call: Call) -> Response:
    """The letter as the PDF that would be printed."""
    result = _preview(call)
    name = f"preview-{result.spec.document_kind}-{result.spec.stage}.pdf"
    return Response(
        result.pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )


@page(Role.STAFF)
def preview_png_file(call: Call) -> Response:
    """The letter's first page, as the preview page shows it."""
    return Response(first_page_png(_preview(call, note=False).pdf), media_type="image/png")


@page(Role.STAFF)
def volume_file(call: Call) -> Response:
    """A print volume (PDF) of the municipality, as the run wrote it."""
    volume_id = call.path_number("volume_id")
    with call.console.engine.connect() as connection:
        found = None if volume_id is None else volume(connection, volume_id)
    if found is None or found.municipality_nis != call.nis:
        return call.page("problem.html", 404, message=_("There is no such volume."))
    path = Path(found.path)
    if not path.is_file():
        raise UsageError(
            _("%(file)s is no longer in the output folder: ask the administrator.")
            % {"file": path.name}
        )
    call.note("volume_downloaded", run_id=found.run_id, volume=path.name, sha256=found.sha256)
    return FileResponse(path, media_type="application/pdf", filename=path.name)


routes = [
    Route("/m/{nis}/configuration", configuration),
    Route("/m/{nis}/letters-due", letters_due_page),
    Route("/m/{nis}/preview", preview_page),
    Route("/m/{nis}/preview.pdf", preview_pdf_file),
    Route("/m/{nis}/preview.png", preview_png_file),
    Route("/m/{nis}/volumes/{volume_id}", volume_file),  # any text: the page answers 404
]
