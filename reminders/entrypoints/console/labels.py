"""Words for the codes the records hold (document kinds, stages, skip reasons, log events,
console actions, run steps and outcomes), in the user's language; the code itself stays in a
tooltip (``title``), for auditors who match it against an export or the command line.

The words are marked with ``N_`` so that pybabel extracts them; they are translated when shown.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from reminders.entrypoints.console.i18n import N_, _

WORDS: dict[str, dict[str, str]] = {
    "kind": {
        "driving_licence": N_("driving licence"),
        "eid": N_("identity card"),
        "kids_id": N_("child's identity card"),
        "residence_card": N_("residence card"),
        "passport": N_("passport"),
    },
    "stage": {
        "first": N_("first reminder"),
        "second": N_("second reminder"),
        "expired": N_("expired"),
    },
    "reason": {
        "deceased": N_("deceased"),
        "emigrated": N_("emigrated"),
        "struck_off": N_("struck off the register"),
        "moved_out": N_("moved to another municipality"),
        "renewed": N_("already renewed"),
        "inactive_document": N_("document no longer valid"),
        "no_address": N_("no address"),
        "returned_mail": N_("earlier letter returned"),
        "superseded": N_("a later reminder is due"),
        "too_late": N_("too late"),
    },
    "event": {
        "run": N_("run began"),
        "skip": N_("no letter"),
        "volume": N_("print volume"),
        "letter": N_("letter"),
        "sealed": N_("sealed"),
        "revealed": N_("national numbers shown"),
        "recut": N_("volume cut again"),
        "released": N_("released to the print shop"),
        "cancelled": N_("cancelled"),
        "reprinted": N_("reprinted"),
        "returned": N_("returned by the post"),
    },
    "action": {
        "login": N_("logged in"),
        "logout": N_("logged out"),
        "preview": N_("previewed a letter"),
        "run_started": N_("started a run"),
        "run_ended": N_("a run ended"),
        "volume_downloaded": N_("downloaded a volume"),
        "log_exported": N_("exported the dispatch log"),
        "returned_exported": N_("exported returned letters"),
        "log_verified": N_("verified the dispatch log"),
        "national_numbers_revealed": N_("revealed national numbers"),
        "report_made": N_("made an auditor's report"),
        "volume_released": N_("released a volume"),
        "volumes_delivered": N_("marked volumes delivered"),
        "letter_cancelled": N_("cancelled a letter"),
        "letter_reprinted": N_("reprinted a letter"),
        "user_added": N_("user added"),
        "user_disabled": N_("user disabled"),
        "user_enabled": N_("user enabled"),
        "password_set": N_("password set"),
        "role_granted": N_("role granted"),
        "role_revoked": N_("role revoked"),
        "language_chosen": N_("chose a language"),
    },
    "outcome": {
        "ok": N_("done"),
        "started": N_("started"),
        "refused": N_("refused"),
        "failed": N_("failed"),
        "throttled": N_("refused (too many attempts)"),
        "running": N_("going"),
        "succeeded": N_("succeeded"),
    },
    "step": {
        "started": N_("deciding"),
        "decided": N_("printing"),
        "printed": N_("sealing into the dispatch log"),
        "sealed": N_("publishing the log"),
        "published": N_("finished"),
    },
    "state": {
        "decided": N_("decided"),
        "printed": N_("printed"),
        "held": N_("held for release"),
        "recut": N_("in a volume cut again"),
        "released": N_("released to the print shop"),
        "cancelled": N_("cancelled"),
        "reprinted": N_("reprinted"),
        "returned": N_("returned by the post"),
    },
    "role": {
        "staff": N_("staff"),
        "auditor": N_("auditor"),
        "approver": N_("approver"),
    },
}


def word(group: str, code: object) -> str:
    """The word for ``code`` in the current language (the code itself when it has none:
    a campaign's id, a stage a configuration added)."""
    text = str(code)
    found = WORDS.get(group, {}).get(text)
    return _(found) if found else text


def labelled(group: str, code: object) -> Markup:
    """The word, with the code in its tooltip."""
    if code is None or code == "":
        return Markup("")
    return Markup('<span class="code" title="{}">{}</span>').format(
        escape(str(code)), word(group, code)
    )


def document_number(kind: object, number: object) -> str:
    """A document number as it is printed on the document: the 12 digits of an identity card
    in three groups (591-1234567-89); any other number as it is stored."""
    text = "" if number is None else str(number)
    if str(kind) in ("eid", "kids_id") and len(text) == 12 and text.isdigit():
        return f"{text[:3]}-{text[3:10]}-{text[10:]}"
    return text
