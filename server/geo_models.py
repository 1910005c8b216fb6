"""Geographic reference data: boundary sets, border lines, crosswalk, risk marks, rosters.

Geometries are stored as WKB (``LargeBinary``: BLOB on SQLite, bytea on PostgreSQL)
in EPSG:4326, so no spatial extension is needed; the ``geo`` library does the
geometry work in memory. Boundary sets, border lines and the crosswalk are global
(geography is the same for every project); high-risk marks and staff rosters are a
programme's own judgement and belong to a project. Imported in ``server.models`` so
Alembic sees these tables (migration 0002).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import db
from server.models import Timestamp, utcnow

__all__ = [
    "BorderLine",
    "BoundaryArea",
    "BoundarySet",
    "CrosswalkRow",
    "HighRiskMark",
    "StaffRoster",
]


class BoundarySet(db.Model):
    """A named, dated set of commune polygons (e.g. the official 2025 communes)."""

    __tablename__ = "boundary_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.Text)
    approximate: Mapped[bool] = mapped_column(default=False)
    area_count: Mapped[int] = mapped_column(default=0)
    # sha256 over the stored (code, name, WKB) rows: provenance and cache key.
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))


class BoundaryArea(db.Model):
    """One commune polygon of a boundary set (WKB, EPSG:4326)."""

    __tablename__ = "boundary_areas"
    __table_args__ = (sa.UniqueConstraint("set_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(
        sa.ForeignKey("boundary_sets.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(255))
    geometry_wkb: Mapped[bytes] = mapped_column(sa.LargeBinary)


class BorderLine(db.Model):
    """An international border line (the Việt Nam–Lào border), WKB in EPSG:4326."""

    __tablename__ = "border_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    source: Mapped[str] = mapped_column(sa.Text)
    length_m: Mapped[float] = mapped_column(sa.Float, default=0.0)
    geometry_wkb: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))


class CrosswalkRow(db.Model):
    """Old (pre-July-2025) commune code to its 2025 commune; see ``geo.crosswalk``.

    ``old_code`` is ``""`` on district-level rows (Hoàng Sa has no communes);
    ``is_default`` marks the new unit a split commune's records go to.
    """

    __tablename__ = "crosswalk_rows"
    __table_args__ = (
        sa.UniqueConstraint("old_district_code", "old_code", "new_code"),
        sa.Index(None, "old_code"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    old_district_code: Mapped[str] = mapped_column(sa.String(16), default="")
    old_code: Mapped[str] = mapped_column(sa.String(32), default="")
    old_name: Mapped[str] = mapped_column(sa.String(255), default="")
    new_code: Mapped[str] = mapped_column(sa.String(32))
    new_name: Mapped[str] = mapped_column(sa.String(255), default="")
    relation: Mapped[str] = mapped_column(sa.String(16))  # whole | part
    is_default: Mapped[bool] = mapped_column(default=False)
    imported_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class HighRiskMark(db.Model):
    """A commune a supervisor marked high-risk by hand, with the reason given."""

    __tablename__ = "high_risk_marks"
    __table_args__ = (sa.UniqueConstraint("project_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"))
    code: Mapped[str] = mapped_column(sa.String(32))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    marked_by: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    marked_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class StaffRoster(db.Model):
    """How many support staff a commune has (``""``: city level): the denominator
    of the staff-trained indicator."""

    __tablename__ = "staff_rosters"
    __table_args__ = (sa.CheckConstraint("staff >= 0", name="staff_not_negative"),)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id"), primary_key=True
    )
    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    staff: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
