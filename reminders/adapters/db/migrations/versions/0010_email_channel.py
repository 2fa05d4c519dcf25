"""e-mail channel

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:30:00.000000

Issue 25: a person's e-mail address and consent (the address is kept only with consent), the
e-mailed letters (`email_message`: Message-ID, state with the relay, queue id, hashes) and two
new dispatch-log events, `emailed` (an e-mail the relay accepted) and `email_failed` (one it
refused, or that bounced, before its letter goes on paper). The events' CHECK widens as in
0008: swapped on PostgreSQL, its text edited in SQLite's schema (no row changes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_EVENTS_BEFORE = ("run", "skip", "volume", "letter", "sealed", "revealed", "recut", "released",
                  "cancelled", "reprinted", "returned")  # fmt: skip
_EVENTS = (*_EVENTS_BEFORE, "emailed", "email_failed")
_STATES = ("sending", "accepted", "deferred", "refused", "bounced")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _swap_event_check(*, widen: bool) -> None:
    table, name = "audit_entry", "ck_audit_entry_event"
    before, after = _in("event", _EVENTS_BEFORE), _in("event", _EVENTS)
    old, new = (before, after) if widen else (after, before)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({new})")
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar_one()
        clause = f"CONSTRAINT {name} CHECK ({old})"
        if clause not in sql:
            raise RuntimeError(
                f"{table}: constraint {name} is not as the migrations before this one left it"
            )
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (sql.replace(clause, f"CONSTRAINT {name} CHECK ({new})"), table),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _swap_event_check(widen=True)
    with op.batch_alter_table("person", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("email_consent", sa.Boolean(create_constraint=False),
                                      server_default="0", nullable=False))  # fmt: skip
    op.create_table(
        "email_message",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("templates", sa.String(length=200), nullable=False),
        sa.Column("template_sha256", sa.String(length=64), nullable=False),
        sa.Column("message_sha256", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.String(length=200), nullable=True),
        sa.Column("reply", sa.String(length=300), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fallback_run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_in("state", _STATES), name=op.f("ck_email_message_state")),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"],
                                name=op.f("fk_email_message_decision_id_decision")),
        sa.ForeignKeyConstraint(["run_id"], ["nightly_run.id"],
                                name=op.f("fk_email_message_run_id_nightly_run")),
        sa.ForeignKeyConstraint(["fallback_run_id"], ["nightly_run.id"],
                                name=op.f("fk_email_message_fallback_run_id_nightly_run")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_email_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_message_message_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_email_message_reference")),
    )  # fmt: skip
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_message_run_id"), ["run_id"])
        batch_op.create_index("ix_email_message_state", ["state", "municipality_nis"])


def downgrade() -> None:
    op.drop_table("email_message")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("email_consent")
        batch_op.drop_column("email")
    _swap_event_check(widen=False)
