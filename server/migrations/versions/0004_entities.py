"""entities: datasets, entities and their versions, offline backlog, app-user communes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade():
    op.create_table(
        "app_user_communes",
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("commune", sa.String(length=16), nullable=False),
        _fk("app_user_communes", "actor_id", "actors"),
        sa.PrimaryKeyConstraint(
            "actor_id", "commune", name=op.f("pk_app_user_communes")
        ),
    )
    op.create_table(
        "datasets",
        _id(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("filter_property", sa.String(length=255), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("published_at", Timestamp, nullable=True),
        _fk("datasets", "project_id", "projects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint(
            "project_id", "name", name=op.f("uq_datasets_project_id_name")
        ),
    )
    op.create_table(
        "dataset_properties",
        _id(),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("published_at", Timestamp, nullable=False),
        _fk("dataset_properties", "dataset_id", "datasets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_properties")),
        sa.UniqueConstraint(
            "dataset_id", "name", name=op.f("uq_dataset_properties_dataset_id_name")
        ),
    )
    op.create_table(
        "dataset_form_defs",
        _id(),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("form_def_id", sa.Integer(), nullable=False),
        sa.Column("actions", Json, nullable=False),
        sa.Column("entity_path", sa.String(length=255), nullable=False),
        sa.Column("has_label", sa.Boolean(), nullable=False),
        sa.Column("properties", Json, nullable=False),
        _fk("dataset_form_defs", "dataset_id", "datasets"),
        _fk("dataset_form_defs", "form_def_id", "form_defs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_form_defs")),
        sa.UniqueConstraint(
            "dataset_id",
            "form_def_id",
            name=op.f("uq_dataset_form_defs_dataset_id_form_def_id"),
        ),
    )
    op.create_index(
        op.f("ix_dataset_form_defs_form_def_id"), "dataset_form_defs", ["form_def_id"]
    )
    op.create_table(
        "entities",
        _id(),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("conflict", sa.String(length=8), nullable=True),
        sa.Column("filter_value", sa.String(length=255), nullable=True),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=True),
        sa.Column("deleted_at", Timestamp, nullable=True),
        _fk("entities", "creator_id", "actors"),
        _fk("entities", "dataset_id", "datasets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint("uuid", name=op.f("uq_entities_uuid")),
    )
    op.create_index(
        "ix_entities_dataset_filter",
        "entities",
        ["dataset_id", "filter_value", "stamp"],
    )
    op.create_table(
        "entity_defs",
        _id(),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("data_received", Json, nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("trunk_version", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.String(length=36), nullable=True),
        sa.Column("branch_base_version", sa.Integer(), nullable=True),
        sa.Column("conflicting_properties", Json, nullable=True),
        sa.Column("submission_def_id", sa.Integer(), nullable=True),
        sa.Column("source", Json, nullable=True),
        sa.Column("force_processed", sa.Boolean(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        _fk("entity_defs", "creator_id", "actors"),
        _fk("entity_defs", "entity_id", "entities"),
        _fk("entity_defs", "submission_def_id", "submission_defs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_defs")),
        sa.UniqueConstraint(
            "entity_id", "version", name=op.f("uq_entity_defs_entity_id_version")
        ),
    )
    op.create_index(
        op.f("ix_entity_defs_submission_def_id"), "entity_defs", ["submission_def_id"]
    )
    op.create_table(
        "entity_backlog",
        _id(),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("submission_def_id", sa.Integer(), nullable=False),
        sa.Column("entity_uuid", sa.String(length=36), nullable=False),
        sa.Column("branch_id", sa.String(length=36), nullable=True),
        sa.Column("branch_base_version", sa.Integer(), nullable=True),
        sa.Column("logged_at", Timestamp, nullable=False),
        _fk("entity_backlog", "submission_def_id", "submission_defs"),
        _fk("entity_backlog", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_backlog")),
    )
    op.create_index(
        op.f("ix_entity_backlog_branch_id"),
        "entity_backlog",
        ["branch_id", "branch_base_version"],
    )
    op.create_index(
        op.f("ix_entity_backlog_entity_uuid"), "entity_backlog", ["entity_uuid"]
    )
    op.create_index(
        op.f("ix_entity_backlog_submission_id"), "entity_backlog", ["submission_id"]
    )


def downgrade():
    op.drop_table("entity_backlog")
    op.drop_table("entity_defs")
    op.drop_table("entities")
    op.drop_table("dataset_form_defs")
    op.drop_table("dataset_properties")
    op.drop_table("datasets")
    op.drop_table("app_user_communes")
