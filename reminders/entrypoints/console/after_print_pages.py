"""The console's pages after the print (issue 21): held volumes to release or cancel letters
in (approvers), reprints and returned letters (staff), and a letter's life (any role in the
municipality). Release, delivery, cancellation and reprint sign the dispatch log: they are done
by the console's signer process (signer_child.py, `reminders console-signer`), with the same
services as `reminders release`, `cancel` and `reprint`, under the municipality's run lock, so
the console's own process never reads the log's private key; each change goes to the activity
log.

Four eyes hold here as on the command line: an approver cannot release the volumes of a run
they started from the console, nor a reprint they asked for.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from reminders.adapters.spreadsheet_csv import SpreadsheetCsv
from reminders.bootstrap import unit_of_work
from reminders.domain.console_access import Role
from reminders.domain.letter_life import letter_life
from reminders.domain.letter_reference import parsed_reference
from reminders.domain.national_number import masked_national_number
from reminders.domain.print_records import ReturnedListing
from reminders.domain.release import VolumeState, four_eyes_refusal
from reminders.entrypoints.console.i18n import _, ngettext, number
from reminders.entrypoints.console.web import Call, page
from reminders.errors import UsageError

RETURNED_SHOWN = 500
RETURNED_FIELDS = (
    "reference", "returned_on", "reason", "document_kind", "document_number", "family_name",
    "given_names", "national_number", "street", "house_number", "box", "postal_code",
    "locality", "country", "still_at_address",
)  # fmt: skip


def _signed(call: Call, action: str, **request: object) -> dict[str, Any]:
    """Do ``action`` in the console's signer process (it holds the log's key, under the
    municipality's run lock), in the name of this session's user."""
    return call.console.signer.ask(
        action, call.nis, call.console.now(), user=call.session.user.username, **request
    )


@page(Role.APPROVER)
def release_page(call: Call) -> Response:
    """The municipality's held volumes, their letters, and what an approver may do."""
    number = (call.param("number") or "").upper()
    with unit_of_work(call.console.engine) as uow:
        volumes = uow.after_print
        undelivered = volumes.undelivered(call.nis)
        held = [
            (volume, volumes.volume_letters(volume.volume_id))
            for volume in volumes.volumes(call.nis, [VolumeState.HELD])
        ]
    if number:
        held = [
            (volume, [letter for letter in letters if letter.document_number == number])
            for volume, letters in held
        ]
        held = [(volume, letters) for volume, letters in held if letters]
    me = call.session.user.username
    return call.page(
        "release.html",
        held=held,
        number=number,
        undelivered=undelivered,
        mine={  # what four eyes keep this approver from (the service refuses it too)
            volume.volume_id
            for volume, _ in held
            if four_eyes_refusal(
                volume.requested_by if volume.kind == "reprint" else volume.run_started_by, me
            )
        },
        done=_done(call),
    )


def _done(call: Call) -> str | None:
    """What the approver just did, in their language (from the redirect's query)."""
    done, file_name = call.param("done"), call.param("file") or ""
    count = int(text) if (text := call.param("count") or "0").isdigit() and len(text) < 7 else 0
    if done == "released":
        return _("%(file)s was released to the print shop.") % {"file": file_name}
    if done == "delivered":
        return ngettext(
            "%(num)s volume was delivered to the pick-up folder.",
            "%(num)s volumes were delivered to the pick-up folder.",
            count,
        ) % {"num": number(count)}
    if done == "cancelled":
        return ngettext(
            "%(num)s letter of %(file)s was cancelled.",
            "%(num)s letters of %(file)s were cancelled.",
            count,
        ) % {"num": number(count), "file": file_name}
    return None


@page(Role.APPROVER)
def release_post(call: Call) -> Response:
    """Release one held volume (re-cut first without its cancelled letters)."""
    volume_id = call.path_number("volume_id")
    if volume_id is None:
        return call.page("problem.html", 404, message=_("There is no such volume."))
    released = _signed(call, "release", volume_id=volume_id)
    volume = released["volume"]
    call.note("volume_released", volume=volume["file_name"], run_id=volume["run_id"],
              sha256=volume["sha256"], recut=released["recut"])  # fmt: skip
    done = urlencode({"done": "released", "file": volume["file_name"]})
    return RedirectResponse(f"/m/{call.nis}/release?{done}", status_code=303)


@page(Role.APPROVER)
def deliver_post(call: Call) -> Response:
    """Deliver volumes released earlier whose files a stop kept from the pick-up folder."""
    delivered = _signed(call, "deliver")["volumes"]
    call.note("volumes_delivered", volumes=delivered)
    done = urlencode({"done": "delivered", "count": len(delivered)})
    return RedirectResponse(f"/m/{call.nis}/release?{done}", status_code=303)


@page(Role.APPROVER)
def cancel_post(call: Call) -> Response:
    """Cancel one letter, or every letter of a volume, before release."""
    note = call.param("note") or ""
    decide_again = call.param("decide_again") == "yes"
    reference, volume = call.param("reference"), call.record_number("volume")
    if reference is not None:
        parsed = parsed_reference(reference)
        if parsed is None or parsed.municipality_nis != call.nis:
            raise UsageError(_not_ours(call, reference))
    elif volume is None:
        raise UsageError(_("Choose a letter or a volume to cancel."))
    done = _signed(call, "cancel", reference=reference, volume_id=volume, note=note,
                   decide_again=decide_again)  # fmt: skip
    file_name = done["volume"]["file_name"]
    call.note("letter_cancelled", letters=done["references"], volume=file_name,
              decide_again=decide_again)  # fmt: skip
    what = urlencode({"done": "cancelled", "count": len(done["references"]), "file": file_name})
    return RedirectResponse(f"/m/{call.nis}/release?{what}", status_code=303)


def _not_ours(call: Call, reference: str) -> str:
    return _("No letter of %(municipality)s has the reference %(reference)s.") % {
        "municipality": call.here.name,
        "reference": reference,
    }


@page(Role.STAFF)
def reprint_page(call: Call) -> Response:
    """The form to print a letter again."""
    return call.page("reprint.html", done=None, reference=call.param("reference") or "")


@page(Role.STAFF)
def reprint_post(call: Call) -> Response:
    reference = call.param("reference") or ""
    parsed = parsed_reference(reference)
    if parsed is None or parsed.municipality_nis != call.nis:
        raise UsageError(_not_ours(call, reference))
    done = _signed(call, "reprint", reference=reference, note=call.param("note") or "")
    call.note("letter_reprinted", letter=done["original"], reprint=done["reference"])
    return call.page("reprint.html", done=done, reference="")


@page(Role.STAFF)
def returned_page(call: Call) -> Response:
    """Letters bpost brought back, newest first, with the holder for an address check."""
    return call.page("returned.html", returned=_returned(call), shown=RETURNED_SHOWN)


def _returned(call: Call) -> list[ReturnedListing]:
    with unit_of_work(call.console.engine) as uow:
        return uow.after_print.returned_letters(call.nis, limit=RETURNED_SHOWN)


def returned_csv(returned: Iterable[ReturnedListing]) -> str:
    """The export: a header and a line per returned letter, national numbers masked and every
    cell neutralised against formula injection (adapters/spreadsheet_csv.py)."""
    buffer = io.StringIO()
    writer = SpreadsheetCsv(buffer, RETURNED_FIELDS)
    writer.header()
    for item in returned:
        writer.row(
            (
                item.reference, item.returned_on.isoformat(), item.reason, item.document_kind,
                item.document_number, item.family_name, item.given_names,
                masked_national_number(item.national_number), item.street, item.house_number,
                item.box, item.postal_code, item.locality, item.country,
                "yes" if item.still_at_address else "no",
            )
        )  # fmt: skip
    return buffer.getvalue()


@page(Role.STAFF)
def returned_export(call: Call) -> Response:
    """The returned letters as CSV (national numbers masked), for the address check."""
    returned = _returned(call)
    call.note("returned_exported", rows=len(returned))
    text = returned_csv(returned)
    name = f"returned-letters-{call.nis}.csv"
    return StreamingResponse(
        iter([text]),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@page()
def letter_page(call: Call) -> Response:
    """A letter's life from the dispatch log, by its reference."""
    reference = (call.param("reference") or "").upper()
    life = None
    if reference:
        parsed = parsed_reference(reference)
        if parsed is None or parsed.municipality_nis != call.nis:
            raise UsageError(_not_ours(call, reference))
        with unit_of_work(call.console.engine) as uow:
            store = uow.dispatch_log
            life = letter_life(parsed.original, store.letter_history(parsed.original))
        if life is None:
            raise UsageError(_not_ours(call, reference))
    return call.page("letter.html", life=life, reference=reference)


routes = [
    Route("/m/{nis}/release", release_page, methods=["GET"]),
    Route("/m/{nis}/release/{volume_id}", release_post, methods=["POST"]),  # any text: 404
    Route("/m/{nis}/cancel", cancel_post, methods=["POST"]),
    Route("/m/{nis}/deliver", deliver_post, methods=["POST"]),
    Route("/m/{nis}/reprint", reprint_page, methods=["GET"]),
    Route("/m/{nis}/reprint", reprint_post, methods=["POST"]),
    Route("/m/{nis}/returned", returned_page),
    Route("/m/{nis}/returned.csv", returned_export),
    Route("/m/{nis}/letter", letter_page),
]
