"""Stored geographic reference data: import, load and choose boundary sets and borders.

The only code that reads or writes the tables of ``server.geo_models``. Imports run
the ``geo`` readers (validation, reprojection, repair) and store WKB; loads turn the
rows back into the GeoDataFrames ``geo`` expects. Nothing here commits: the CLI
commits once per command. Every change adds an audit row without personal data
(supervisor notes stay out of the audit log).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import geopandas as gpd
import shapely
import sqlalchemy as sa

import geo
from server import audit, problem
from server.db import db
from server.geo_models import (
    BorderLine,
    BoundaryArea,
    BoundarySet,
    CrosswalkRow,
)
from server.models import utcnow

WGS84 = "EPSG:4326"
DEFAULT_VALID_FROM = dt.date(2025, 7, 1)
APPROXIMATE_PROVINCE = "48"  # Thành phố Đà Nẵng since 1 July 2025


@dataclass(frozen=True, eq=False)
class ResolvedSet:
    """The boundary set a computation uses: its description, areas and cache key."""

    info: geo.BoundarySet
    areas: gpd.GeoDataFrame
    key: str  # content hash, or "approximate:<province>"
    set_id: int | None = None


# --- boundary sets ------------------------------------------------------------------


def import_boundary_set(
    path: str | os.PathLike,
    *,
    name: str,
    code_field: str = "code",
    name_field: str = "name",
    valid_from: dt.date = DEFAULT_VALID_FROM,
    source: str | None = None,
    layer: str | None = None,
    replace: bool = False,
    actor_id: int | None = None,
) -> tuple[BoundarySet, tuple[geo.GeometryIssue, ...]]:
    """Read commune polygons with ``geo.read_boundaries`` and store them as a named set.

    :raises geo.GeoError: the file cannot be read or is not a commune layer.
    :raises problem.Problem: 409.3 when the name is taken and ``replace`` is False.
    """
    name = name.strip()
    if not name:
        raise problem.unexpected_value("set name", "it must not be empty.")
    result = geo.read_boundaries(
        path, code_field=code_field, name_field=name_field, layer=layer
    )
    old = _set_by_name(name)
    if old is not None:
        if not replace:
            raise problem.uniqueness_violation("boundary set name", name)
        db.session.delete(old)
        db.session.flush()
    areas = result.areas
    wkbs = shapely.to_wkb(areas.geometry.to_numpy())
    digest = hashlib.sha256()
    for code, label, wkb in zip(areas["code"], areas["name"], wkbs, strict=True):
        digest.update(f"{code}\0{label}\0".encode())
        digest.update(wkb)
    row = BoundarySet(
        name=name,
        valid_from=valid_from,
        source=source or os.path.basename(os.fspath(path)),
        approximate=False,
        area_count=len(areas),
        content_sha256=digest.hexdigest(),
        created_at=utcnow(),
        imported_by=actor_id,
    )
    db.session.add(row)
    db.session.flush()
    db.session.execute(
        sa.insert(BoundaryArea),
        [
            {"set_id": row.id, "code": c, "name": n, "geometry_wkb": w}
            for c, n, w in zip(areas["code"], areas["name"], wkbs, strict=True)
        ],
    )
    audit.log(
        "boundary_set.import",
        "boundary_set",
        row.id,
        actor_id=actor_id,
        details={
            "name": name,
            "areas": len(areas),
            "issues": len(result.issues),
            "replaced": old is not None,
        },
    )
    return row, result.issues


def list_sets() -> list[BoundarySet]:
    """Every stored boundary set, newest validity first."""
    return list(
        db.session.scalars(
            sa.select(BoundarySet).order_by(
                BoundarySet.valid_from.desc(), BoundarySet.created_at.desc()
            )
        )
    )


def delete_set(name: str, *, actor_id: int | None = None) -> None:
    """Remove a boundary set and its areas (404.1 if there is none by that name)."""
    row = _set_by_name(name)
    if row is None:
        raise problem.boundary_set_not_found(name)
    audit.log(
        "boundary_set.delete",
        "boundary_set",
        row.id,
        actor_id=actor_id,
        details={"name": name},
    )
    db.session.delete(row)


def resolve_set(name: str | None = None, on: dt.date | None = None) -> ResolvedSet:
    """The boundary set to use: by name, else the one in force on ``on``.

    Without a name: the set with the latest ``valid_from`` not after ``on`` (today by
    default); when every set starts later, the earliest set (the forms record 2025
    codes, so the nearest set still fits). Without any stored set: approximate areas
    from the official commune points (``geo.approximate_areas``).
    """
    if name:
        row = _set_by_name(name)
        if row is None:
            raise problem.boundary_set_not_found(name)
    else:
        on = on or dt.date.today()
        rows = list_sets()
        row = next((r for r in rows if r.valid_from <= on), rows[-1] if rows else None)
    if row is None:
        return approximate_set()
    info = geo.BoundarySet(
        name=row.name,
        valid_from=row.valid_from,
        source=row.source,
        approximate=row.approximate,
    )
    return ResolvedSet(
        info, _areas(row.id, row.content_sha256), row.content_sha256, row.id
    )


def approximate_set(province: str = APPROXIMATE_PROVINCE) -> ResolvedSet:
    """The fallback: Voronoi areas around the official commune points."""
    return ResolvedSet(
        geo.approximate_boundary_set(),
        _approximate_areas(province),
        f"approximate:{province}",
    )


_AREAS: OrderedDict[str, gpd.GeoDataFrame] = OrderedDict()
_AREAS_KEEP = 4
_AREAS_LOCK = threading.Lock()


def _areas(set_id: int, content_sha256: str) -> gpd.GeoDataFrame:
    """A set's areas (``code``, ``name``, geometry), cached by content hash."""
    with _AREAS_LOCK:
        hit = _AREAS.get(content_sha256)
        if hit is not None:
            _AREAS.move_to_end(content_sha256)
            return hit
    rows = db.session.execute(
        sa.select(BoundaryArea.code, BoundaryArea.name, BoundaryArea.geometry_wkb)
        .where(BoundaryArea.set_id == set_id)
        .order_by(BoundaryArea.code)
    ).all()
    areas = gpd.GeoDataFrame(
        {"code": [r.code for r in rows], "name": [r.name for r in rows]},
        geometry=shapely.from_wkb([bytes(r.geometry_wkb) for r in rows]),
        crs=WGS84,
    )
    with _AREAS_LOCK:
        _AREAS[content_sha256] = areas
        while len(_AREAS) > _AREAS_KEEP:
            _AREAS.popitem(last=False)
    return areas


@functools.lru_cache(maxsize=2)
def _approximate_areas(province: str) -> gpd.GeoDataFrame:
    return geo.approximate_areas(geo.read_official_points(province))


def _set_by_name(name: str) -> BoundarySet | None:
    return db.session.scalars(
        sa.select(BoundarySet).where(BoundarySet.name == name)
    ).first()


# --- border lines -------------------------------------------------------------------


def import_border(
    path: str | os.PathLike,
    *,
    name: str,
    source: str | None = None,
    replace: bool = False,
    actor_id: int | None = None,
) -> BorderLine:
    """Read a border line layer (all features merged) and store it under ``name``."""
    lines = geo.read_lines(path)
    merged = shapely.line_merge(shapely.union_all(lines.geometry.to_numpy()))
    old = db.session.scalars(
        sa.select(BorderLine).where(BorderLine.name == name)
    ).first()
    if old is not None:
        if not replace:
            raise problem.uniqueness_violation("border name", name)
        db.session.delete(old)
        db.session.flush()
    length = float(
        gpd.GeoSeries([merged], crs=WGS84).to_crs(_local_metric(merged)).length.iloc[0]
    )
    row = BorderLine(
        name=name,
        source=source or os.path.basename(os.fspath(path)),
        length_m=round(length, 1),
        geometry_wkb=shapely.to_wkb(merged),
        created_at=utcnow(),
        imported_by=actor_id,
    )
    db.session.add(row)
    db.session.flush()
    audit.log(
        "border_line.import",
        "border_line",
        row.id,
        actor_id=actor_id,
        details={"name": name, "lengthM": row.length_m},
    )
    return row


def list_borders() -> list[BorderLine]:
    """Every stored border line."""
    return list(db.session.scalars(sa.select(BorderLine).order_by(BorderLine.name)))


def load_border() -> tuple[gpd.GeoDataFrame | None, str]:
    """All stored border lines as one GeoDataFrame (or None) and a content key."""
    rows = db.session.execute(
        sa.select(BorderLine.name, BorderLine.geometry_wkb).order_by(BorderLine.id)
    ).all()
    if not rows:
        return None, ""
    wkbs = [bytes(r.geometry_wkb) for r in rows]
    key = hashlib.sha256(b"".join(hashlib.sha256(w).digest() for w in wkbs)).hexdigest()
    frame = gpd.GeoDataFrame(
        {"name": [r.name for r in rows]}, geometry=shapely.from_wkb(wkbs), crs=WGS84
    )
    return frame, key


def _local_metric(geom: shapely.Geometry) -> str:
    c = shapely.centroid(geom)
    return f"+proj=aeqd +lat_0={c.y:.6f} +lon_0={c.x:.6f} +datum=WGS84 +units=m"


# --- crosswalk ----------------------------------------------------------------------


def import_crosswalk(
    path: str | os.PathLike, *, actor_id: int | None = None
) -> geo.Crosswalk:
    """Validate the CSV with ``geo.read_crosswalk`` and replace the stored table."""
    crosswalk = geo.read_crosswalk(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    now = utcnow()
    values = []
    for row in rows:
        relation = (row.get("relation") or "").strip()
        values.append(
            {
                "old_district_code": (row.get("old_district_code") or "").strip(),
                "old_code": (row.get("old_code") or "").strip(),
                "old_name": (row.get("old_name") or "").strip(),
                "new_code": (row.get("new_code") or "").strip(),
                "new_name": (row.get("new_name") or "").strip(),
                "relation": relation.split(" ")[0],
                "is_default": "default" in relation,
                "imported_at": now,
            }
        )
    db.session.execute(sa.delete(CrosswalkRow))
    if values:
        db.session.execute(sa.insert(CrosswalkRow), values)
    audit.log(
        "crosswalk.import",
        "crosswalk",
        None,
        actor_id=actor_id,
        details={"rows": len(values), "oldCodes": len(crosswalk.entries)},
    )
    return crosswalk


def load_crosswalk() -> geo.Crosswalk | None:
    """The stored crosswalk, or None when none was imported."""
    rows = db.session.execute(
        sa.select(
            CrosswalkRow.old_district_code,
            CrosswalkRow.old_code,
            CrosswalkRow.old_name,
            CrosswalkRow.new_code,
            CrosswalkRow.new_name,
            CrosswalkRow.relation,
            CrosswalkRow.is_default,
        ).order_by(CrosswalkRow.id)
    ).all()
    if not rows:
        return None
    return geo.build_crosswalk(
        {
            **row._asdict(),
            "relation": f"{row.relation} (default)" if row.is_default else row.relation,
        }
        for row in rows
    )
