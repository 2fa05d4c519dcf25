"""The e-mailed letters' rows (issue 25): what is still to go to the relay, what the relay
answered, and which failed e-mails a run prints on paper. In the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, exists, func, insert, select, update

from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    EmailMessageRow,
    LetterRow,
    NightlyRunRow,
    PersonRow,
)
from reminders.domain.channels import Contact, EmailState, RelayAnswer
from reminders.domain.email_records import NewEmail, StoredEmail

_email = cast(Table, EmailMessageRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_letter = cast(Table, LetterRow.__table__)
_run = cast(Table, NightlyRunRow.__table__)

FALLBACK_STATES = tuple(state.value for state in EmailState if state.falls_back_to_paper)
UNSENT_STATES = (EmailState.SENDING.value, EmailState.DEFERRED.value)


def emailed(decision_id: Any) -> Any:
    """SQL: the decision has an e-mail row (it is not printed by its own run)."""
    return exists().where(_email.c.decision_id == decision_id)


def paper_fallback_of(run_id: int, decision_id: Any) -> Any:
    """SQL: the decision is a failed e-mail that the run prints on paper (an IN on the key,
    so that an OR with the run's own letters still reads both by index)."""
    return decision_id.in_(select(_email.c.decision_id).where(_email.c.fallback_run_id == run_id))


def taken_over_for_paper(run_id: int) -> Any:
    """SQL: the decision is an earlier run's letter whose failed e-mail the run took over for
    paper. Where it is a skip now, the run's re-check stopped it: the run logs that skip and
    counts it among its own (the decision stays the earlier run's)."""
    return and_(_decision.c.run_id != run_id, paper_fallback_of(run_id, _decision.c.id))


class EmailStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def unsent(self, municipality_nis: str) -> list[StoredEmail]:
        rows = self.connection.execute(
            select(
                _email.c.decision_id, _email.c.run_id, _run.c.as_of, _email.c.reference,
                _email.c.message_id, _email.c.attempts,
            )
            .select_from(
                _email.join(_decision, _decision.c.id == _email.c.decision_id).join(
                    _run, _run.c.id == _decision.c.run_id
                )
            )
            .where(_email.c.municipality_nis == municipality_nis,
                   _email.c.state.in_(UNSENT_STATES))
            .order_by(_email.c.decision_id)
        )  # fmt: skip
        return [StoredEmail(*row) for row in rows]

    def claim_fallbacks(self, run_id: int, municipality_nis: str) -> int:
        """The failed e-mails of earlier runs, for this run's paper: those whose decision is
        still a letter and not printed."""
        still_a_letter = exists().where(
            _decision.c.id == _email.c.decision_id,
            _decision.c.reason.is_(None),
            _decision.c.run_id != run_id,
        )
        printed = exists().where(_letter.c.decision_id == _email.c.decision_id)
        claimed = self.connection.execute(
            update(_email)
            .where(
                _email.c.municipality_nis == municipality_nis,
                _email.c.state.in_(FALLBACK_STATES),
                _email.c.fallback_run_id.is_(None),
                still_a_letter,
                ~printed,
            )
            .values(fallback_run_id=run_id),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        return int(claimed)

    def new_letters(self, run_id: int, municipality_nis: str) -> list[int]:
        printed = exists().where(_letter.c.decision_id == _decision.c.id)
        return list(
            self.connection.scalars(
                select(_decision.c.id)
                .where(
                    _decision.c.run_id == run_id,
                    _decision.c.municipality_nis == municipality_nis,
                    _decision.c.reason.is_(None),
                    ~emailed(_decision.c.id),
                    ~printed,
                )
                .order_by(_decision.c.id)
            )
        )

    def contacts(self, decision_ids: Sequence[int]) -> dict[int, Contact]:
        failed = exists().where(
            _email.c.decision_id == _decision.c.id, _email.c.state.in_(FALLBACK_STATES)
        )
        rows = self.connection.execute(
            select(_decision.c.id, _person.c.email, _person.c.email_consent, failed)
            .select_from(
                _decision.join(_document, _document.c.id == _decision.c.document_id).join(
                    _person, _person.c.id == _document.c.person_id
                )
            )
            .where(_decision.c.id.in_(decision_ids))
        )
        return {
            decision_id: Contact(email, bool(consent), bool(has_failed))
            for decision_id, email, consent, has_failed in rows
        }

    def count(self, run_id: int, municipality_nis: str) -> int:
        prefix = f"{municipality_nis}-{run_id:06d}-M"
        return int(
            self.connection.scalar(
                select(func.count()).where(_email.c.reference.startswith(prefix, autoescape=True))
            )
            or 0
        )

    def record_sending(self, email: NewEmail) -> None:
        self.connection.execute(
            insert(_email).values(
                decision_id=email.decision_id, run_id=email.run_id,
                municipality_nis=email.municipality_nis, reference=email.reference,
                message_id=email.message_id, state=EmailState.SENDING.value,
                templates=email.templates[:200], template_sha256=email.template_sha256,
                message_sha256=email.message_sha256, attempts=0, recorded_at=email.recorded_at,
            )
        )  # fmt: skip

    def resending(self, decision_id: int, run_id: int, message_sha256: str) -> None:
        self.connection.execute(
            update(_email)
            .where(_email.c.decision_id == decision_id)
            .values(run_id=run_id, message_sha256=message_sha256, state=EmailState.SENDING.value)
        )

    def record_answer(
        self, decision_id: int, state: EmailState, *, attempts: int, answer: RelayAnswer,
        at: datetime,
    ) -> None:  # fmt: skip
        values: dict[str, Any] = {
            "state": state.value, "attempts": attempts, "reply": answer.reply[:300],
        }  # fmt: skip
        if state is EmailState.ACCEPTED:
            values.update(queue_id=answer.queue_id, accepted_at=at)
        self.connection.execute(
            update(_email).where(_email.c.decision_id == decision_id).values(values)
        )

    def bounced(self, reference_or_message_id: str, reply: str) -> str | None:
        """Mark an accepted e-mail bounced; returns its state before (None: unknown)."""
        row = self.connection.execute(
            select(_email.c.decision_id, _email.c.state).where(
                and_(
                    (_email.c.reference == reference_or_message_id)
                    | (_email.c.message_id == reference_or_message_id)
                )
            )
        ).first()
        if row is None:
            return None
        if row.state == EmailState.ACCEPTED.value:
            self.connection.execute(
                update(_email)
                .where(_email.c.decision_id == row.decision_id)
                .values(state=EmailState.BOUNCED.value, reply=reply[:300])
            )
        return str(row.state)

    def accepted_counts(self, run_id: int) -> dict[str, int]:
        """Per municipality, the e-mails the relay accepted in the run (bounced since too)."""
        rows = self.connection.execute(
            select(_email.c.municipality_nis, func.count())
            .where(_email.c.run_id == run_id, _email.c.state.in_(("accepted", "bounced")))
            .group_by(_email.c.municipality_nis)
        )
        return {nis: int(count) for nis, count in rows}
