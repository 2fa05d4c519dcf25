"""`reminders recover`'s e-mail rows (issue 25): what `emailed` and `email_failed` entries
record, written back so that a restored database neither sends an e-mail again nor forgets a
paper fallback. Keyed by the e-mail's reference, so restoring twice adds nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, update

from reminders.adapters.db.engine import column_values, insert_rows, rows_where_in
from reminders.adapters.db.orm import EmailMessageRow
from reminders.domain.channels import EmailState
from reminders.domain.log_records import EmailRecord

_email = cast(Table, EmailMessageRow.__table__)

# How far an e-mail got: a logged state is restored over a held row only if it is further.
_PROGRESS = {
    EmailState.SENDING: 0, EmailState.DEFERRED: 0, EmailState.ACCEPTED: 1,
    EmailState.REFUSED: 2, EmailState.BOUNCED: 2,
}  # fmt: skip
_COLUMNS = (
    "decision_id", "run_id", "municipality_nis", "reference", "message_id", "state",
    "templates", "template_sha256", "message_sha256", "attempts", "queue_id", "reply",
    "recorded_at", "accepted_at", "fallback_run_id",
)  # fmt: skip


class RecoveredEmails:
    """Writes the e-mail rows of published entries, on the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.stamp = column_values(connection, _email.c.recorded_at)

    def restore(self, emails: Sequence[tuple[EmailRecord, int]], conflicts: list[str]) -> None:
        """Each e-mail (with its decision's id) recorded, or brought up to what the log says
        of it: an e-mail the restored database had left sending or deferred is accepted, an
        accepted one bounced, and a failed one printed on paper by the run that logged it."""
        held = self._held([record.reference for record, _ in emails])
        other_rows = self._references([decision_id for _, decision_id in emails])
        new: list[tuple[Any, ...]] = []
        pending: set[str] = set()  # references in ``new``
        for record, decision_id in emails:
            found = held.get(record.reference)
            if found is None and other_rows.get(decision_id, record.reference) != record.reference:
                conflicts.append(
                    f"e-mail {record.reference}: the database e-mailed {record.document_kind} "
                    f"{record.document_number} {record.stage} as {other_rows[decision_id]}"
                )
                continue
            if found is None:
                new.append(self._row(record, decision_id))
                held[record.reference] = (decision_id, record.state.value, record.paper_in)
                pending.add(record.reference)
                continue
            if record.reference in pending:  # logged twice in one batch: the row first
                insert_rows(self.connection, "email_message", _COLUMNS, new)
                new, pending = [], set()
            held_decision, state, fallback = found
            if held_decision != decision_id:
                conflicts.append(
                    f"e-mail {record.reference}: of another letter in the database than "
                    f"{record.document_kind} {record.document_number} {record.stage}"
                )
                continue
            further = _PROGRESS[record.state] > _PROGRESS[EmailState(state)]
            values = self._progress(record) if further else {}
            if record.paper_in is not None and fallback is None:
                values["fallback_run_id"] = record.paper_in
            if values:
                self.connection.execute(
                    update(_email).where(_email.c.decision_id == decision_id).values(values)
                )
                held[record.reference] = (
                    decision_id, values.get("state", state),
                    values.get("fallback_run_id", fallback),
                )  # fmt: skip
        insert_rows(self.connection, "email_message", _COLUMNS, new)

    def _held(self, references: Sequence[str]) -> dict[str, tuple[int, str, int | None]]:
        """reference → (decision, state, fallback run) of the e-mails the database holds."""
        rows = rows_where_in(
            self.connection,
            "SELECT reference, decision_id, state, fallback_run_id FROM email_message "
            "WHERE reference",
            sorted(set(references)),
        )
        return {ref: (decision, state, fallback) for ref, decision, state, fallback in rows}

    def _references(self, decision_ids: Sequence[int]) -> dict[int, str]:
        """decision → reference of the e-mails the database holds for these decisions."""
        rows = rows_where_in(
            self.connection,
            "SELECT decision_id, reference FROM email_message WHERE decision_id",
            sorted(set(decision_ids)),
        )
        return dict(rows)

    def _row(self, record: EmailRecord, decision_id: int) -> tuple[Any, ...]:
        """A new row in _COLUMNS' order. The run of a failed e-mail's last try is not in
        the log: its deciding run (the reference's) stands for it. The log does not keep a
        successful relay's reply, and its entry's time stands for the moments."""
        at = self.stamp(record.recorded_at)
        accepted = record.state is not EmailState.REFUSED
        return (
            decision_id, record.decided_in if record.paper_in else record.run_id,
            record.municipality_nis, record.reference, record.message_id, record.state.value,
            record.templates[:200], record.template_sha256, record.message_sha256,
            record.attempts, record.queue_id, record.reply, at, at if accepted else None,
            record.paper_in,
        )  # fmt: skip

    @staticmethod
    def _progress(record: EmailRecord) -> dict[str, Any]:
        """What the log says of an e-mail that got further than the database knows."""
        values: dict[str, Any] = {
            "state": record.state.value, "attempts": record.attempts,
            "message_sha256": record.message_sha256,
        }  # fmt: skip
        if record.state is EmailState.ACCEPTED:
            values.update(run_id=record.run_id, queue_id=record.queue_id,
                          accepted_at=record.recorded_at)  # fmt: skip
        else:
            values.update(reply=record.reply)
        return values


def failed_emails(connection: Connection, decision_ids: Sequence[int]) -> Mapping[int, int]:
    """decision → the run that printed it on paper, of the failed e-mails among them."""
    failed = tuple(state.value for state in EmailState if state.falls_back_to_paper)
    rows = rows_where_in(
        connection,
        f"SELECT decision_id, fallback_run_id FROM email_message WHERE state IN {failed!r} "
        "AND fallback_run_id IS NOT NULL AND decision_id",
        sorted(set(decision_ids)),
    )
    return dict(rows)
