"""dispatch log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:12:00.000000

The dispatch log (issue 6): per municipality an append-only chain of entries, the holders
their commitments stand for, and signed checkpoints. The database itself refuses UPDATE and
DELETE on them (and TRUNCATE on PostgreSQL), so changing the log takes more than a stray
statement: it takes dropping a trigger, which verification then still sees in the hashes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LOG_TABLES = ("audit_entry", "audit_subject", "audit_checkpoint")
REFUSAL = "the dispatch log is append-only"


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.String(length=32), nullable=False),
        sa.Column("document_kind", sa.String(length=20), nullable=True),
        sa.Column("document_number", sa.String(length=40), nullable=True),
        sa.Column("stage", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "event IN ('run', 'skip', 'volume', 'letter', 'sealed', 'revealed')",
            name=op.f("ck_audit_entry_event"),
        ),
        sa.PrimaryKeyConstraint("municipality_nis", "seq", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entry_document", ["document_kind", "document_number"], unique=False
        )
        batch_op.create_index("ix_audit_entry_reference", ["reference"], unique=False)
        batch_op.create_index("ix_audit_entry_run", ["run_id", "municipality_nis"], unique=False)

    op.create_table(
        "audit_subject",
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("national_number", sa.String(length=11), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_nis", "seq"],
            ["audit_entry.municipality_nis", "audit_entry.seq"],
            name=op.f("fk_audit_subject_municipality_nis"),
        ),
        sa.PrimaryKeyConstraint("municipality_nis", "seq", name=op.f("pk_audit_subject")),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("municipality_nis", "tree_size", name=op.f("pk_audit_checkpoint")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in LOG_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
    else:
        for table in LOG_TABLES:  # SQLite has no TRUNCATE; DELETE without WHERE is caught
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {operation} on "
                    f"{table} refused'); END"
                )


def downgrade() -> None:
    # Dropping the tables drops their triggers on both engines.
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_subject")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_run")
        batch_op.drop_index("ix_audit_entry_reference")
        batch_op.drop_index("ix_audit_entry_document")
    op.drop_table("audit_entry")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_refuse_change()")
