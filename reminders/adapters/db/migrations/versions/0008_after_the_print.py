"""after the print

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00.000000

Issue 21: the release gate, cancelled letters, reprints and returned mail. Print volumes get
their state towards the print shop (held, released, ...), their kind (a run's, a re-cut, a
reprint) and when they reached the pick-up folder; new tables keep cancellations, reprints
and returned letters (and the lists of returns read). Three CHECK constraints widen: the
dispatch log's events, the decisions' skip reasons (`returned_mail`, `cancelled`) and the
console's roles (`approver`).

Widening a CHECK changes no row. On PostgreSQL the constraint is swapped. SQLite has no ALTER
for it, and copying `audit_entry` or `decision` would drop the log's append-only triggers and
fail on the foreign keys other tables hold to them; so the constraint's text is edited in the
schema, the procedure SQLite documents for such changes (lang_altertable.html, "Making Other
Kinds Of Table Schema Changes"): the rows already satisfy the wider rule.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_EVENTS_BEFORE = ("run", "skip", "volume", "letter", "sealed", "revealed")
_EVENTS = (*_EVENTS_BEFORE, "recut", "released", "cancelled", "reprinted", "returned")
_REASONS_BEFORE = ("deceased", "emigrated", "struck_off", "moved_out", "renewed",
                   "inactive_document", "no_address", "superseded", "too_late")  # fmt: skip
_REASONS = ("deceased", "emigrated", "struck_off", "moved_out", "renewed", "inactive_document",
            "no_address", "returned_mail", "superseded", "too_late", "cancelled")  # fmt: skip
_ROLES_BEFORE = ("staff", "auditor")
_ROLES = ("staff", "auditor", "approver")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


# (table, constraint, the check before, the check after)
_CHECKS = (
    ("audit_entry", "ck_audit_entry_event", _in("event", _EVENTS_BEFORE), _in("event", _EVENTS)),
    ("decision", "ck_decision_reason", "reason IS NULL OR " + _in("reason", _REASONS_BEFORE),
     "reason IS NULL OR " + _in("reason", _REASONS)),
    ("console_grant", "ck_console_grant_role", _in("role", _ROLES_BEFORE), _in("role", _ROLES)),
)  # fmt: skip


def _swap_checks(*, widen: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table, name, before, after in _CHECKS:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({after if widen else before})"
            )
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table, name, before, after in _CHECKS:
            old, new = (before, after) if widen else (after, before)
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
    _swap_checks(widen=True)
    with op.batch_alter_table("print_volume", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="auto",
                                      nullable=False))  # fmt: skip
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="run",
                                      nullable=False))  # fmt: skip
        batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("requested_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("released_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    # Volumes written before: published to the output folder, which was the print shop's.
    # Marked delivered, so that a pick-up folder configured later never gets them again.
    op.execute("UPDATE print_volume SET delivered_at = written_at")
    op.create_table(
        "letter_cancellation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("document_kind", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("volume_id", sa.Integer(), nullable=False),
        sa.Column("redecide", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("cancelled_by", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"],
                                name=op.f("fk_letter_cancellation_decision_id_decision")),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"],
                                name=op.f("fk_letter_cancellation_document_id_document")),
        sa.ForeignKeyConstraint(["volume_id"], ["print_volume.id"],
                                name=op.f("fk_letter_cancellation_volume_id_print_volume")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_cancellation")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_letter_cancellation_decision_id")),
    )  # fmt: skip
    with op.batch_alter_table("letter_cancellation", schema=None) as batch_op:
        batch_op.create_index("ix_letter_cancellation_redecide", ["municipality_nis", "redecide"])
    op.create_table(
        "reprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("original", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("volume_id", sa.Integer(), nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("template_sha256", sa.String(length=64), nullable=False),
        sa.Column("address_sha256", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"],
                                name=op.f("fk_reprint_decision_id_decision")),
        sa.ForeignKeyConstraint(["volume_id"], ["print_volume.id"],
                                name=op.f("fk_reprint_volume_id_print_volume")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reprint")),
        sa.UniqueConstraint("original", "number", name=op.f("uq_reprint_original_number")),
        sa.UniqueConstraint("reference", name=op.f("uq_reprint_reference")),
    )  # fmt: skip
    with op.batch_alter_table("reprint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reprint_decision_id"), ["decision_id"], unique=False)
    op.create_table(
        "returns_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.String(length=40), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines_read", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns_import")),
    )
    op.create_table(
        "returns_rejection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("problem", sa.String(length=300), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["returns_import.id"],
                                name=op.f("fk_returns_rejection_import_id_returns_import")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns_rejection")),
    )  # fmt: skip
    with op.batch_alter_table("returns_rejection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_rejection_import_id"), ["import_id"])
    op.create_table(
        "returned_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("original", sa.String(length=40), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('moved', 'unknown', 'address_incomplete', 'refused', 'deceased')",
            name=op.f("ck_returned_letter_reason"),
        ),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"],
                                name=op.f("fk_returned_letter_decision_id_decision")),
        sa.ForeignKeyConstraint(["import_id"], ["returns_import.id"],
                                name=op.f("fk_returned_letter_import_id_returns_import")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_returned_letter_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returned_letter")),
        sa.UniqueConstraint("reference", name=op.f("uq_returned_letter_reference")),
    )  # fmt: skip
    with op.batch_alter_table("returned_letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returned_letter_person_id"), ["person_id"])


def downgrade() -> None:
    for table in ("returned_letter", "returns_rejection", "returns_import", "reprint",
                  "letter_cancellation"):  # fmt: skip
        op.drop_table(table)
    with op.batch_alter_table("print_volume", schema=None) as batch_op:
        for column in ("delivered_at", "released_by", "released_at", "requested_by",
                       "replaces_id", "kind", "state"):  # fmt: skip
            batch_op.drop_column(column)
    _swap_checks(widen=False)
