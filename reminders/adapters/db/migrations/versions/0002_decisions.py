"""nightly runs, decisions, scan watermarks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:45:50.990586

The nightly decision (interfaces.md §3): runs, one decision per (document, stage) and reason,
and how far each municipality has been decided; indexes to find registry rows changed by imports
and to check renewals from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nightly_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("municipalities", sa.String(length=2000), nullable=False),
        sa.Column("started_by", sa.String(length=40), nullable=False),
        sa.Column("config_sha256", sa.String(length=64), nullable=False),
        sa.Column("code_version", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("skips", sa.Integer(), nullable=False),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('running', 'succeeded', 'failed')", name=op.f("ck_nightly_run_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nightly_run")),
    )
    op.create_table(
        "scan_watermark",
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("document_kind", sa.String(length=20), nullable=False),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("decided_through", sa.Date(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["nightly_run.id"], name=op.f("fk_scan_watermark_run_id")
        ),
        sa.PrimaryKeyConstraint(
            "municipality_nis", "document_kind", name=op.f("pk_scan_watermark")
        ),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("document_kind", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN ('deceased', 'emigrated', 'struck_off', 'moved_out', "
            "'renewed', 'inactive_document', 'no_address', 'superseded', 'too_late')",
            name=op.f("ck_decision_reason"),
        ),
        sa.CheckConstraint(
            "(reason IS NULL AND language IS NOT NULL) "
            "OR (reason IS NOT NULL AND language IS NULL)",
            name=op.f("ck_decision_letter_has_language"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_decision_document_id")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["nightly_run.id"], name=op.f("fk_decision_run_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
        sa.UniqueConstraint(
            "document_id", "stage", "final", name=op.f("uq_decision_document_id_stage_final")
        ),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_run_id"), ["run_id"], unique=False)

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_import_id"), ["import_id"], unique=False)
        # The scan and the renewal check read what they need from these indexes alone.
        batch_op.drop_index("ix_document_kind_expires_on")
        batch_op.create_index(
            "ix_document_scan", ["kind", "expires_on", "person_id", "status", "id"], unique=False
        )
        batch_op.drop_index("ix_document_person_id_kind")
        batch_op.create_index(
            "ix_document_renewal", ["person_id", "kind", "status", "expires_on"], unique=False
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_import_id"), ["import_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_import_id"))

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_renewal")
        batch_op.create_index("ix_document_person_id_kind", ["person_id", "kind"], unique=False)
        batch_op.drop_index("ix_document_scan")
        batch_op.create_index("ix_document_kind_expires_on", ["kind", "expires_on"], unique=False)
        batch_op.drop_index(batch_op.f("ix_document_import_id"))

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_run_id"))

    op.drop_table("decision")
    op.drop_table("scan_watermark")
    op.drop_table("nightly_run")
