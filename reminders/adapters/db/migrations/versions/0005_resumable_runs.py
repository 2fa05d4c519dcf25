"""resumable runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00.000000

Issue 7: a run is a series of steps (decide, print, seal, publish), each committed on its own,
so a run stopped at any moment is resumed where it stood. Each attempt at a run is kept; so
is each verification of the dispatch log. The scheduler's job store lives in the same database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STEPS = "step IN ('started', 'decided', 'printed', 'sealed', 'published')"


def upgrade() -> None:
    with op.batch_alter_table("nightly_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("step", sa.String(length=16), nullable=False, server_default="started")
        )
        batch_op.add_column(sa.Column("missed_nights", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("tally", sa.Text(), nullable=True))
        batch_op.create_check_constraint("step", STEPS)
    # Runs before this version were one transaction: a success had everything published.
    op.execute("UPDATE nightly_run SET step = 'published' WHERE outcome = 'succeeded'")

    op.create_table(
        "run_attempt",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_by", sa.String(length=40), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('running', 'succeeded', 'failed')", name=op.f("ck_run_attempt_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["nightly_run.id"], name=op.f("fk_run_attempt_run_id_nightly_run")
        ),
        sa.PrimaryKeyConstraint("run_id", "attempt", name=op.f("pk_run_attempt")),
    )
    op.create_table(
        "audit_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_nis", sa.String(length=5), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_by", sa.String(length=40), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=True),
        sa.Column("intact", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verification")),
    )
    with op.batch_alter_table("audit_verification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_verification_latest", ["municipality_nis", "verified_at"], unique=False
        )
    # APScheduler's SQLAlchemyJobStore table, as it would create it, so the schema still
    # comes only from migrations.
    op.create_table(
        "scheduler_job",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_job")),
    )
    with op.batch_alter_table("scheduler_job", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduler_job_next_run_time"), ["next_run_time"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scheduler_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduler_job_next_run_time"))
    op.drop_table("scheduler_job")
    with op.batch_alter_table("audit_verification", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_verification_latest")
    op.drop_table("audit_verification")
    op.drop_table("run_attempt")
    with op.batch_alter_table("nightly_run", schema=None) as batch_op:
        batch_op.drop_constraint("step", type_="check")
        batch_op.drop_column("tally")
        batch_op.drop_column("missed_nights")
        batch_op.drop_column("step")
