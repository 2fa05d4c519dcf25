"""Verifying the dispatch log and proving a letter (services/audit.py) on an in-memory log:
an intact log verifies, an altered entry is found at its place, a checkpoint by another key
or a log emptied after its runs were sealed is broken, and a letter's inclusion proof checks
with nothing but the public key. The same on real databases: tests/e2e/test_dispatch_log.py."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from reminders.domain.dispatch_log import LogEvent, NewEntry
from reminders.services.audit import (
    NotInLogError,
    check_proof,
    prove_letter,
    record_verdicts,
    verify_logs,
)
from reminders.services.seal_log import append_and_seal
from tests.fakes import FakeDispatchLog, FakeSigner

NOW = datetime(2027, 3, 1, 1, 30, tzinfo=UTC)
GENT, BRUSSELS = "44021", "21004"
STAMP = "2027-03-01T01:30:00Z"


def letters(nis: str, first: int, count: int) -> list[NewEntry]:
    """Letter entries of a run, with synthetic document numbers and references."""
    return [
        NewEntry(
            1,
            LogEvent.LETTER,
            STAMP,
            {"page": n},
            document_kind="eid",
            document_number=f"E{n:03d}",
            stage="first",
            language="nl",
            reference=f"{nis}-000001-{n:06d}",
        )
        for n in range(first, first + count)
    ]


def sealed_log(signer: FakeSigner) -> FakeDispatchLog:
    """Gent's log sealed twice (4 entries, then 3 more) and Brussels' once (2 entries)."""
    log = FakeDispatchLog()
    append_and_seal(GENT, [letters(GENT, 1, 4)], log, signer, now=lambda: NOW)
    append_and_seal(GENT, [letters(GENT, 5, 3)], log, signer, now=lambda: NOW)
    append_and_seal(BRUSSELS, [letters(BRUSSELS, 1, 2)], log, signer, now=lambda: NOW)
    return log


def test_an_intact_log_verifies_and_its_verdict_is_kept() -> None:
    """Each municipality's log recomputed against its stored checkpoints: intact, with its
    size and newest checkpoint; the verdicts are kept for `reminders status`."""
    signer = FakeSigner()
    log = sealed_log(signer)
    verdicts = verify_logs(log, signer.keys)
    assert [(v.municipality_nis, v.entries, v.intact) for v in verdicts] == [
        (BRUSSELS, 2, True),
        (GENT, 7, True),
    ]
    assert verdicts[1].latest is not None
    assert verdicts[1].latest.checkpoint.tree_size == 7
    record_verdicts(log, verdicts, verified_at=NOW, verified_by="test")
    assert [(v["municipality_nis"], v["tree_size"], v["intact"]) for v in log.verifications] == [
        (BRUSSELS, 2, True),
        (GENT, 7, True),
    ]


@pytest.mark.parametrize("seq", [0, 3, 6])
def test_an_altered_entry_is_found_at_its_place(seq: int) -> None:
    """An entry changed after it was logged (here its document number) breaks the log from
    that entry on: the first problem names it, and only its municipality's log is broken."""
    signer = FakeSigner()
    log = sealed_log(signer)
    entry, subject = log.logs[GENT][seq]
    log.logs[GENT][seq] = (replace(entry, document_number="E999"), subject)
    verdicts = {v.municipality_nis: v for v in verify_logs(log, signer.keys)}
    assert verdicts[BRUSSELS].intact
    problem = verdicts[GENT].first_problem
    assert problem is not None
    assert problem.seq == seq
    record_verdicts(log, list(verdicts.values()), verified_at=NOW, verified_by="test")
    assert [v["intact"] for v in log.verifications] == [True, False]


def test_checkpoints_signed_by_a_key_the_auditor_does_not_hold_are_not_valid() -> None:
    """The same log checked with another installation's key: its checkpoints are refused."""
    log = sealed_log(FakeSigner())
    (verdict,) = verify_logs(log, FakeSigner().keys, municipalities=[GENT])
    assert not verdict.intact
    assert verdict.latest is None


def test_a_log_emptied_after_its_runs_were_sealed_is_broken() -> None:
    """A configured municipality whose runs were sealed but whose log has no entries (and no
    checkpoints) was emptied; one not configured here is not this installation's to judge."""
    signer = FakeSigner()
    log = FakeDispatchLog()
    log.sealed = {GENT: 3}
    (verdict,) = verify_logs(log, signer.keys, configured=[GENT])
    assert not verdict.intact
    assert verdict.first_problem is not None
    assert "emptied" in verdict.first_problem.message
    assert verify_logs(log, signer.keys, configured=[BRUSSELS]) == []


def test_a_letter_s_inclusion_proof_checks_with_the_public_key_alone() -> None:
    """The proof of a letter under its log's newest checkpoint checks with the public key;
    with another key, or once its entry is altered, it does not."""
    signer = FakeSigner()
    log = sealed_log(signer)
    proof = prove_letter(log, f"{GENT}-000001-000003").as_json()
    assert (proof["leaf_index"], proof["tree_size"]) == (2, 7)
    text = json.dumps(proof)
    assert check_proof(text, signer.keys).valid
    assert not check_proof(text, FakeSigner().keys).valid
    altered = json.dumps({**proof, "entry": proof["entry"].replace("E003", "E004")})
    assert not check_proof(altered, signer.keys).valid
    with pytest.raises(NotInLogError):
        prove_letter(log, f"{GENT}-000001-000099")
