"""letters and print volumes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:42:07.094928

Letters as printed (issue 5): each print volume of a run with its SHA-256, and for each letter
decision its reference, volume, pages and the hashes of the template sources and the address
block it was printed from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_volume",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["nightly_run.id"], name=op.f("fk_print_volume_run_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_volume")),
        sa.UniqueConstraint("path", name=op.f("uq_print_volume_path")),
    )
    with op.batch_alter_table("print_volume", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_print_volume_run_id"), ["run_id"], unique=False)

    op.create_table(
        "letter",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("volume_id", sa.Integer(), nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("templates", sa.String(length=200), nullable=False),
        sa.Column("template_sha256", sa.String(length=64), nullable=False),
        sa.Column("address_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_letter_decision_id")
        ),
        sa.ForeignKeyConstraint(
            ["volume_id"], ["print_volume.id"], name=op.f("fk_letter_volume_id")
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_letter")),
        sa.UniqueConstraint("reference", name=op.f("uq_letter_reference")),
    )
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_letter_volume_id"), ["volume_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_volume_id"))

    op.drop_table("letter")
    with op.batch_alter_table("print_volume", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_print_volume_run_id"))

    op.drop_table("print_volume")
