"""geo reference data

Boundary sets and their areas, border lines, the old-to-new commune crosswalk,
supervisor high-risk marks and staff rosters.

Geometries are WKB in plain binary columns (BLOB / bytea): no PostGIS needed.
Hand-checked on SQLite and PostgreSQL (upgrade, downgrade, upgrade).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:44:32.251705

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "boundary_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("approximate", sa.Boolean(), nullable=False),
        sa.Column("area_count", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by"],
            ["actors.id"],
            name=op.f("fk_boundary_sets_imported_by_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_sets")),
        sa.UniqueConstraint("name", name=op.f("uq_boundary_sets_name")),
    )
    op.create_table(
        "boundary_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["boundary_sets.id"],
            name=op.f("fk_boundary_areas_set_id_boundary_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_areas")),
        sa.UniqueConstraint(
            "set_id", "code", name=op.f("uq_boundary_areas_set_id_code")
        ),
    )
    op.create_table(
        "border_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by"],
            ["actors.id"],
            name=op.f("fk_border_lines_imported_by_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_border_lines")),
        sa.UniqueConstraint("name", name=op.f("uq_border_lines_name")),
    )
    op.create_table(
        "crosswalk_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_district_code", sa.String(length=16), nullable=False),
        sa.Column("old_code", sa.String(length=32), nullable=False),
        sa.Column("old_name", sa.String(length=255), nullable=False),
        sa.Column("new_code", sa.String(length=32), nullable=False),
        sa.Column("new_name", sa.String(length=255), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("imported_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crosswalk_rows")),
        sa.UniqueConstraint(
            "old_district_code",
            "old_code",
            "new_code",
            name=op.f("uq_crosswalk_rows_old_district_code_old_code_new_code"),
        ),
    )
    op.create_index(
        op.f("ix_crosswalk_rows_old_code"), "crosswalk_rows", ["old_code"], unique=False
    )
    op.create_table(
        "high_risk_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("marked_by", sa.Integer(), nullable=True),
        sa.Column("marked_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["marked_by"],
            ["actors.id"],
            name=op.f("fk_high_risk_marks_marked_by_actors"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_high_risk_marks_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_high_risk_marks")),
        sa.UniqueConstraint(
            "project_id", "code", name=op.f("uq_high_risk_marks_project_id_code")
        ),
    )
    op.create_table(
        "staff_rosters",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "staff >= 0", name=op.f("ck_staff_rosters_staff_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_staff_rosters_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["actors.id"],
            name=op.f("fk_staff_rosters_updated_by_actors"),
        ),
        sa.PrimaryKeyConstraint("project_id", "code", name=op.f("pk_staff_rosters")),
    )


def downgrade():
    op.drop_table("staff_rosters")
    op.drop_table("high_risk_marks")
    op.drop_index(op.f("ix_crosswalk_rows_old_code"), table_name="crosswalk_rows")
    op.drop_table("crosswalk_rows")
    op.drop_table("border_lines")
    op.drop_table("boundary_areas")
    op.drop_table("boundary_sets")
