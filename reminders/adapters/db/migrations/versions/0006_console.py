"""console

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 01:00:00.000000

Issue 9, the web console: its users (passwords hashed with Argon2id), their roles per
municipality, their sessions (only a hash of each session token is stored), and the console's
own activity log. Like the dispatch log, the activity log refuses UPDATE and DELETE (and
TRUNCATE on PostgreSQL): what someone did in the console stays written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REFUSAL = "the console activity log is append-only"


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_user")),
        sa.UniqueConstraint("username", name=op.f("uq_console_user_username")),
    )
    op.create_table(
        "console_grant",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("may_reveal", sa.Boolean(create_constraint=False), nullable=False),
        sa.CheckConstraint("role IN ('staff', 'auditor')", name=op.f("ck_console_grant_role")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_user.id"], name=op.f("fk_console_grant_user_id_console_user")
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "municipality_nis", "role", name=op.f("pk_console_grant")
        ),
    )
    op.create_table(
        "console_session",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_user.id"], name=op.f("fk_console_session_user_id_console_user")
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_console_session")),
    )
    op.create_table(
        "console_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_action")),
    )
    with op.batch_alter_table("console_action", schema=None) as batch_op:
        batch_op.create_index("ix_console_action_municipality", ["municipality_nis", "at"])
        batch_op.create_index("ix_console_action_user", ["username", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION console_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END $$"
        )
        op.execute(
            "CREATE TRIGGER console_action_append_only BEFORE UPDATE OR DELETE ON console_action "
            "FOR EACH ROW EXECUTE FUNCTION console_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER console_action_no_truncate BEFORE TRUNCATE ON console_action "
            "FOR EACH STATEMENT EXECUTE FUNCTION console_refuse_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER console_action_no_{operation.lower()} BEFORE {operation} "
                f"ON console_action BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {operation} "
                "refused'); END"
            )


def downgrade() -> None:
    with op.batch_alter_table("console_action", schema=None) as batch_op:
        batch_op.drop_index("ix_console_action_user")
        batch_op.drop_index("ix_console_action_municipality")
    op.drop_table("console_action")
    op.drop_table("console_session")
    op.drop_table("console_grant")
    op.drop_table("console_user")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION console_refuse_change()")
