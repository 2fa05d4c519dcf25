"""registry: persons, documents, imports, rejected rows

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 11:12:44.175308
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "registry_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('persons', 'documents')", name=op.f("ck_registry_import_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_import")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("national_number", sa.String(length=11), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("given_names", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("house_number", sa.String(length=16), nullable=True),
        sa.Column("box", sa.String(length=16), nullable=True),
        sa.Column("postal_code", sa.String(length=12), nullable=True),
        sa.Column("locality", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=True),
        sa.Column("guardian_national_number", sa.String(length=11), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "language IS NULL OR language IN ('nl', 'fr', 'de')", name=op.f("ck_person_language")
        ),
        sa.CheckConstraint(
            "status IN ('resident', 'emigrated', 'deceased', 'struck_off')",
            name=op.f("ck_person_status"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["registry_import.id"], name=op.f("fk_person_import_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("national_number", name=op.f("uq_person_national_number")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_municipality_nis"), ["municipality_nis"], unique=False
        )

    op.create_table(
        "rejected_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["registry_import.id"], name=op.f("fk_rejected_row_import_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_row")),
    )
    with op.batch_alter_table("rejected_row", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejected_row_import_id"), ["import_id"], unique=False)

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('driving_licence', 'eid', 'kids_id', 'residence_card', 'passport')",
            name=op.f("ck_document_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'renewed', 'revoked', 'lost', 'stolen')",
            name=op.f("ck_document_status"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["registry_import.id"], name=op.f("fk_document_import_id")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_document_person_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("kind", "number", name=op.f("uq_document_kind_number")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index("ix_document_kind_expires_on", ["kind", "expires_on"], unique=False)
        batch_op.create_index("ix_document_person_id_kind", ["person_id", "kind"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_person_id_kind")
        batch_op.drop_index("ix_document_kind_expires_on")

    op.drop_table("document")
    with op.batch_alter_table("rejected_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_row_import_id"))

    op.drop_table("rejected_row")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_municipality_nis"))

    op.drop_table("person")
    op.drop_table("registry_import")
