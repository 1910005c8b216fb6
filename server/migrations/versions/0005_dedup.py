"""dedup: blocking keys, scored pairs, reviewers' decisions, duplicate links

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade():
    op.create_table(
        "dedup_keys",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        _fk("dedup_keys", "submission_id", "submissions"),
        _fk("dedup_keys", "form_id", "forms"),
        sa.PrimaryKeyConstraint("submission_id", "key", name=op.f("pk_dedup_keys")),
    )
    op.create_index(op.f("ix_dedup_keys_form_id"), "dedup_keys", ["form_id", "key"])

    op.create_table(
        "dedup_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reasons", Json, nullable=False),
        sa.Column("rules", sa.String(length=32), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("a_id < b_id", name=op.f("ck_dedup_pairs_ordered")),
        _fk("dedup_pairs", "form_id", "forms"),
        _fk("dedup_pairs", "a_id", "submissions"),
        _fk("dedup_pairs", "b_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_pairs")),
        sa.UniqueConstraint("a_id", "b_id", name=op.f("uq_dedup_pairs_a_id_b_id")),
    )
    op.create_index(op.f("ix_dedup_pairs_form_id"), "dedup_pairs", ["form_id"])
    op.create_index(op.f("ix_dedup_pairs_b_id"), "dedup_pairs", ["b_id"])

    op.create_table(
        "dedup_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("primary_id", sa.Integer(), nullable=True),
        sa.Column("member_ids", Json, nullable=False),
        sa.Column("evidence", Json, nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("undone_at", Timestamp, nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        _fk("dedup_decisions", "project_id", "projects"),
        _fk("dedup_decisions", "form_id", "forms"),
        _fk("dedup_decisions", "primary_id", "submissions"),
        _fk("dedup_decisions", "actor_id", "actors"),
        _fk("dedup_decisions", "undone_by", "actors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_decisions")),
    )
    op.create_index(
        op.f("ix_dedup_decisions_project_id"), "dedup_decisions", ["project_id", "id"]
    )

    op.create_table(
        "dedup_links",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("primary_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        _fk("dedup_links", "submission_id", "submissions"),
        _fk("dedup_links", "primary_id", "submissions"),
        _fk("dedup_links", "decision_id", "dedup_decisions"),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_dedup_links")),
    )
    op.create_index(op.f("ix_dedup_links_primary_id"), "dedup_links", ["primary_id"])
    op.create_index(op.f("ix_dedup_links_decision_id"), "dedup_links", ["decision_id"])

    op.create_table(
        "dedup_never",
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        _fk("dedup_never", "a_id", "submissions"),
        _fk("dedup_never", "b_id", "submissions"),
        _fk("dedup_never", "decision_id", "dedup_decisions"),
        sa.PrimaryKeyConstraint("a_id", "b_id", name=op.f("pk_dedup_never")),
    )
    op.create_index(op.f("ix_dedup_never_decision_id"), "dedup_never", ["decision_id"])

    op.create_table(
        "dedup_forms",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("blocking", sa.String(length=32), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("scanned_at", Timestamp, nullable=True),
        _fk("dedup_forms", "form_id", "forms"),
        sa.PrimaryKeyConstraint("form_id", name=op.f("pk_dedup_forms")),
    )


def downgrade():
    op.drop_table("dedup_forms")
    op.drop_index(op.f("ix_dedup_never_decision_id"), table_name="dedup_never")
    op.drop_table("dedup_never")
    op.drop_index(op.f("ix_dedup_links_decision_id"), table_name="dedup_links")
    op.drop_index(op.f("ix_dedup_links_primary_id"), table_name="dedup_links")
    op.drop_table("dedup_links")
    op.drop_index(op.f("ix_dedup_decisions_project_id"), table_name="dedup_decisions")
    op.drop_table("dedup_decisions")
    op.drop_index(op.f("ix_dedup_pairs_b_id"), table_name="dedup_pairs")
    op.drop_index(op.f("ix_dedup_pairs_form_id"), table_name="dedup_pairs")
    op.drop_table("dedup_pairs")
    op.drop_index(op.f("ix_dedup_keys_form_id"), table_name="dedup_keys")
    op.drop_table("dedup_keys")
