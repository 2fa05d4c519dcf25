"""console login attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:00:00.000000

Issue 18: the console's login lockout counts attempts in a table of their own. An attempt is
written (pending) before its password is checked, in a transaction that admits one attempt per
user name at a time, so parallel requests cannot all read the same count of failures.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('pending', 'failed', 'ok')",
            name=op.f("ck_console_login_attempt_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_login_attempt")),
    )
    with op.batch_alter_table("console_login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_console_login_attempt_user", ["username", "attempted_at"])


def downgrade() -> None:
    with op.batch_alter_table("console_login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_console_login_attempt_user")
    op.drop_table("console_login_attempt")
