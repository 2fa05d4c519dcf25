"""planned volumes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:30:00.000000

Issue 23: how many print volumes a run plans for each municipality once its letters are
decided (JSON {NIS: count}), so that its page and `reminders run` can say "volume 3 of 7";
empty for runs before this revision and for runs rebuilt by `recover`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nightly_run") as batch:
        batch.add_column(sa.Column("planned_volumes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nightly_run") as batch:
        batch.drop_column("planned_volumes")
