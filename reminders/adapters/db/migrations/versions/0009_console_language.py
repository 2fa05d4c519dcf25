"""console language

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:40:00.000000

Issue 23: the language each console user chose (nl, fr, de, en), kept per user; empty until
they choose one, when the browser's Accept-Language decides.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_user") as batch:
        batch.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_user") as batch:
        batch.drop_column("language")
