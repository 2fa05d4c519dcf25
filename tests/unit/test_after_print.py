"""The pure rules after the print (issue 21): references and their reprint suffix, four eyes,
what a person's reason may say, bpost's return reasons in three languages, the address key,
and a letter's life read from log entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from reminders.domain.dispatch_log import LogEntry, LogEvent, canonical_json
from reminders.domain.letter_life import LetterState, letter_life
from reminders.domain.letter_reference import parsed_reference, reprint_reference, run_reference
from reminders.domain.release import checked_note, four_eyes_refusal, person_of
from reminders.domain.returned_mail import ReturnReason, address_key, parsed_return_reason
from reminders.errors import UsageError

REF = "44021-000012-000003"


def test_references_read_back_with_their_reprint_suffix() -> None:
    assert run_reference("44021", 12, 3) == REF
    assert reprint_reference(REF, 2) == f"{REF}-R2"
    parsed = parsed_reference(f" {REF.lower()}-r12 ")
    assert parsed is not None
    assert (parsed.original, parsed.reprint, parsed.municipality_nis, parsed.run_id) == (
        REF, 12, "44021", 12,
    )  # fmt: skip
    assert parsed.text == f"{REF}-R12"
    for bad in ("", "44021-12-3", f"{REF}-R0", f"{REF}-R", f"{REF}-X1", f"{REF}1"):
        assert parsed_reference(bad) is None, bad


@pytest.mark.parametrize(
    ("started_by", "approver", "refused"),
    [
        ("console:an", "an", True),
        ("cli:an", "an", True),
        ("console:an", "bert", False),
        ("scheduler:nightly", "an", False),  # started by nobody
        ("cli", "an", False),  # `reminders run`: no console user
        ("demo", "an", False),
        (None, "an", False),
    ],
)
def test_four_eyes(started_by: str | None, approver: str, refused: bool) -> None:
    """The console user who started a run (or asked for a reprint) cannot release it; runs
    the scheduler or the command line started were started by nobody."""
    assert (four_eyes_refusal(started_by, approver) is not None) is refused
    assert person_of("console:") is None


@pytest.mark.parametrize(
    ("note", "problem"),
    [
        ("no", "at least 3 characters"),
        ("x" * 201, "at most 200"),
        ("holder 85.07.30-033.28 renewed", "no national numbers"),
        ("holder 85073003328 renewed", "no national numbers"),
        ("mail jan.peeters@example.be", "e-mail"),
    ],
)
def test_a_reason_kept_in_the_log_holds_no_personal_data(note: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        checked_note(note)
    assert checked_note("  renewed at the\\ncounter  ".replace("\\n", "\n")) == (
        "renewed at the counter"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("moved", ReturnReason.MOVED), ("Verhuisd", ReturnReason.MOVED),
        ("Déménagé", ReturnReason.MOVED), ("verzogen", ReturnReason.MOVED),
        ("onbekend", ReturnReason.UNKNOWN), ("Inconnu", ReturnReason.UNKNOWN),
        ("unbekannt", ReturnReason.UNKNOWN),
        ("address_incomplete", ReturnReason.ADDRESS_INCOMPLETE),
        ("Adres onvolledig", ReturnReason.ADDRESS_INCOMPLETE),
        ("adresse incomplète", ReturnReason.ADDRESS_INCOMPLETE),
        ("Adresse unvollständig", ReturnReason.ADDRESS_INCOMPLETE),
        ("geweigerd", ReturnReason.REFUSED), ("Refusé", ReturnReason.REFUSED),
        ("Annahme verweigert", ReturnReason.REFUSED),
        ("overleden", ReturnReason.DECEASED), ("décédé", ReturnReason.DECEASED),
        ("verstorben", ReturnReason.DECEASED),
        ("lost", None), ("", None),
    ],
)  # fmt: skip
def test_bpost_return_reasons_in_three_languages(text: str, reason: ReturnReason | None) -> None:
    assert parsed_return_reason(text) is reason


def test_the_address_key_ignores_case_and_spaces_but_not_the_address() -> None:
    key = address_key("Kerkstraat", "12", None, "9000", "Gent", "BE")
    assert key == address_key(" kerkstraat", "12", "", "9000", "GENT ", "be")
    assert key != address_key("Kerkstraat", "12", "1", "9000", "Gent", "BE")
    assert key != address_key("Kerkstraat", "14", None, "9000", "Gent", "BE")


def _entries(*specs: tuple[str, dict[str, Any], str | None]) -> list[LogEntry]:
    """Log entries of run 12 in the order given: (event, details, reference)."""
    return [
        LogEntry(
            "44021",
            seq,
            12,
            event,
            f"2027-03-0{1 + seq // 4}T00:30:00.000000Z",
            "eid",
            "E01",
            "first",
            None,
            None,
            reference,
            canonical_json(details),
            "0",
            "0",
        )
        for seq, (event, details, reference) in enumerate(specs)
    ]


RUN = (LogEvent.RUN, {"as_of": "2027-03-01", "started_by": "scheduler:nightly"}, None)
VOLUME = "/out/44021/2027-03-01-run-000012/volume-001.pdf"
RECUT = "/out/44021/2027-03-01-run-000012/volume-001-recut1.pdf"


def _states(entries: Sequence[LogEntry], reference: str = REF) -> list[LetterState]:
    life = letter_life(reference, entries)
    assert life is not None
    return [event.state for event in life.events]


def test_a_held_letter_re_cut_released_reprinted_and_returned() -> None:
    entries = _entries(
        RUN,
        (LogEvent.VOLUME, {"path": VOLUME, "release": "approval"}, None),
        (LogEvent.LETTER, {"volume": VOLUME, "page": 2, "pages": 1}, REF),
        (LogEvent.LETTER, {"volume": VOLUME, "page": 3, "pages": 1}, "44021-000012-000004"),
        (LogEvent.SEALED, {}, None),
        (LogEvent.CANCELLED, {"by": "cli:an", "note": "renewed"}, "44021-000012-000004"),
        (LogEvent.RECUT, {"volume": RECUT, "replaces": {"volume": VOLUME},
                          "left_out": 1, "by": "cli:bert"}, None),
        (LogEvent.RELEASED, {"volume": RECUT, "by": "cli:bert"}, None),
        (LogEvent.REPRINTED, {"volume": "/out/reprint.pdf", "by": "console:cleo",
                              "note": "lost", "release": "approval"}, f"{REF}-R1"),
        (LogEvent.RELEASED, {"volume": "/out/reprint.pdf", "by": "console:bert"}, None),
        (LogEvent.RETURNED, {"returned_on": "2027-03-09", "return_reason": "moved",
                             "by": "cli:clerk"}, f"{REF}-R1"),
    )  # fmt: skip
    assert _states(entries) == [
        LetterState.DECIDED, LetterState.PRINTED, LetterState.HELD, LetterState.RECUT,
        LetterState.RELEASED, LetterState.REPRINTED, LetterState.RELEASED, LetterState.RETURNED,
    ]  # fmt: skip
    assert _states(entries, "44021-000012-000004") == [
        LetterState.DECIDED, LetterState.PRINTED, LetterState.HELD, LetterState.CANCELLED,
    ]  # fmt: skip
    life = letter_life(REF, entries)
    assert life is not None
    assert [e.by for e in life.events][:4] == ["scheduler:nightly", None, None, "cli:bert"]
    assert life.as_json()["events"][-1]["reference"] == f"{REF}-R1"
    assert letter_life("44021-000012-000099", entries) is None


def test_a_letter_released_with_its_run() -> None:
    entries = _entries(
        RUN,
        (LogEvent.VOLUME, {"path": VOLUME}, None),
        (LogEvent.LETTER, {"volume": VOLUME, "page": 2, "pages": 2}, REF),
        (LogEvent.SEALED, {}, None),
    )
    assert _states(entries) == [LetterState.DECIDED, LetterState.PRINTED, LetterState.RELEASED]
