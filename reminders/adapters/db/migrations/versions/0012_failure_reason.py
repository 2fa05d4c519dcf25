"""failure reason

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00.000000

Issue 23: why a run failed as a code and its values (JSON {"code": ..., "values": {...}},
errors.Reason), beside the English `failure` the command line and `status` print, so that the
web console says it in the clerk's language; empty for runs before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nightly_run") as batch:
        batch.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nightly_run") as batch:
        batch.drop_column("failure_reason")
