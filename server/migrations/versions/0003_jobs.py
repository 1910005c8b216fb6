"""jobs: durable queue for work after a stored submission (entities, duplicate checks)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("submission_def_id", sa.Integer(), nullable=True),
        sa.Column("payload", Json, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("run_after", Timestamp, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", Timestamp, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", Timestamp, nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_def_id"],
            ["submission_defs.id"],
            name=op.f("fk_jobs_submission_def_id_submission_defs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_done_at"), "jobs", ["done_at", "id"])
    op.create_index(op.f("ix_jobs_submission_def_id"), "jobs", ["submission_def_id"])


def downgrade():
    op.drop_index(op.f("ix_jobs_submission_def_id"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_done_at"), table_name="jobs")
    op.drop_table("jobs")
