"""Approximate commune areas when no boundaries were imported.

The PyPI package ``vietnamadminunits`` (MIT; pinned 1.0.4) ships one official point
per 2025 commune (``admin_units.wardLat/wardLon`` in ``data/dataset.db``) and its
area in km². From those points we build a Voronoi tessellation in metres and clip
each cell twice: to a region (a province outline when one is given, otherwise the
points' convex hull buffered by ``hull_buffer_m``) and to a disc around its own
point whose radius is ``radius_factor`` times the radius of a circle of the
commune's area. The disc keeps outlying units (the Hoàng Sa islands, 400 km out at
sea) from swallowing the ocean. Such sets are labelled "approximate areas".

Only the data file is read (sqlite3); the package's code is never imported.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sqlite3
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.boundary import BoundarySet
from geo.errors import GeometryTypeError, MissingColumnError, OfficialPointsError

__all__ = ["approximate_areas", "approximate_boundary_set", "read_official_points"]

WGS84 = "EPSG:4326"
_QUERY = """
SELECT wardCode, wardShort, ward, wardType, wardLat, wardLon, wardAreaKm2
FROM admin_units WHERE provinceCode = ? ORDER BY wardCode
"""


def read_official_points(
    province_code: str = "48", *, db_path: str | os.PathLike | None = None
) -> gpd.GeoDataFrame:
    """Read the official 2025 commune points of one province from vietnamadminunits.

    Parameters
    ----------
    province_code : str, default "48"
        2025 province code (``"48"`` is Thành phố Đà Nẵng: 94 communes).
    db_path : path, optional
        The package's ``data/dataset.db``; found through the installed package
        when omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code``, ``name`` (short), ``full_name``, ``type``, ``area_km2`` and point
        ``geometry`` in EPSG:4326, sorted by code.

    Raises
    ------
    OfficialPointsError
        The package or its table is missing, or the province has no communes.
    """
    path = Path(db_path) if db_path is not None else _dataset_path()
    if not path.is_file():
        raise OfficialPointsError(reason=f"{path} does not exist")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            rows = conn.execute(_QUERY, (str(province_code),)).fetchall()
    except sqlite3.Error as err:
        raise OfficialPointsError(reason=str(err)) from err
    if not rows:
        raise OfficialPointsError(reason=f"no communes for province {province_code!r}")
    code, name, full, kind, lat, lon, area = (list(c) for c in zip(*rows, strict=True))
    return gpd.GeoDataFrame(
        {
            "code": code,
            "name": name,
            "full_name": full,
            "type": kind,
            "area_km2": np.array(area, dtype=float),
        },
        geometry=shapely.points(np.array(lon, float), np.array(lat, float)),
        crs=WGS84,
    )


def approximate_areas(
    points: gpd.GeoDataFrame,
    *,
    clip: gpd.GeoDataFrame | shapely.Geometry | None = None,
    area_field: str | None = "area_km2",
    hull_buffer_m: float = 10000.0,
    radius_factor: float = 1.3,
) -> gpd.GeoDataFrame:
    """Build approximate commune polygons from one point per commune.

    Parameters
    ----------
    points : GeoDataFrame
        ``code``, ``name`` and point geometry (any CRS; e.g.
        :func:`read_official_points`). Codes must be unique.
    clip : GeoDataFrame or shapely geometry, optional
        A province outline (in EPSG:4326 if a bare geometry). Without it the
        region is the convex hull of the points buffered by ``hull_buffer_m``.
    area_field : str or None, default "area_km2"
        Official area per commune; a cell is cut to a disc of radius
        ``radius_factor * sqrt(area / pi)`` around its point. When None or NaN
        the disc radius is ``radius_factor`` times the distance to the nearest
        other point.
    hull_buffer_m : float, default 10000
    radius_factor : float, default 1.3
        Tuned on the 94 Đà Nẵng communes against the surveyed polygons: mean
        intersection-over-union 0.58, and :func:`geo.border_communes` with its
        defaults finds the same five Laos-border communes on these areas.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code``, ``name``, geometry (Polygon/MultiPolygon) in EPSG:4326, sorted by
        code, one row per input point: a boundary set's ``areas``.
    """
    missing = [c for c in ("code", "name") if c not in points.columns]
    if missing:
        raise MissingColumnError(table="points", missing=", ".join(missing))
    if set(points.geom_type) != {"Point"}:
        raise GeometryTypeError(
            expected="Point", found=", ".join(sorted(set(points.geom_type)))
        )
    if points["code"].duplicated().any() or points.geometry.duplicated().any():
        raise GeometryTypeError(
            expected="one distinct point per code", found="duplicates"
        )
    wgs = points.to_crs(WGS84) if points.crs is not None else points.set_crs(WGS84)
    centre = shapely.centroid(shapely.union_all(wgs.geometry.to_numpy()))
    metric = (
        f"+proj=aeqd +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m"
    )
    pts = wgs.to_crs(metric).geometry.to_numpy()
    cells = _voronoi(pts)
    region = _region(clip, pts, hull_buffer_m, metric)
    radii = _radii(wgs, pts, area_field, radius_factor)
    discs = shapely.buffer(pts, radii, quad_segs=16)
    geoms = shapely.intersection(shapely.intersection(cells, discs), region)
    out = gpd.GeoDataFrame(
        {
            "code": wgs["code"].astype(str).to_numpy(),
            "name": wgs["name"].astype(str).to_numpy(),
        },
        geometry=geoms,
        crs=metric,
    ).to_crs(WGS84)
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def approximate_boundary_set(
    *,
    name: str = "Vùng gần đúng 2025 (Voronoi từ điểm xã chính thức)",
    valid_from: date = date(2025, 7, 1),
) -> BoundarySet:
    """The :class:`BoundarySet` describing areas made by :func:`approximate_areas`.

    Parameters
    ----------
    name : str
        Shown on maps (Vietnamese by default).
    valid_from : date, default 2025-07-01
        When the 2025 commune codes took effect.

    Returns
    -------
    BoundarySet
        With ``approximate=True`` and the package named as ``source``.
    """
    return BoundarySet(
        name=name,
        valid_from=valid_from,
        approximate=True,
        source="vietnamadminunits 1.0.4 (MIT), data/dataset.db admin_units: Voronoi",
    )


def _dataset_path() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise OfficialPointsError(
            reason="the vietnamadminunits package is not installed"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "dataset.db"


def _voronoi(pts: np.ndarray) -> np.ndarray:
    """One Voronoi cell per point, in the points' order."""
    if len(pts) == 1:
        return shapely.buffer(pts, 1e7)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    span = max(np.ptp(x), np.ptp(y), 1.0) * 10
    frame = shapely.box(x.min() - span, y.min() - span, x.max() + span, y.max() + span)
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(pts), extend_to=frame, ordered=True
    )
    return np.asarray(shapely.get_parts(diagram))


def _region(
    clip, pts: np.ndarray, hull_buffer_m: float, metric: str
) -> shapely.Geometry:
    if clip is None:
        return shapely.buffer(
            shapely.convex_hull(shapely.multipoints(pts)), hull_buffer_m
        )
    if isinstance(clip, gpd.GeoDataFrame | gpd.GeoSeries):
        return shapely.union_all(clip.to_crs(metric).geometry.to_numpy())
    return gpd.GeoSeries([clip], crs=WGS84).to_crs(metric).iloc[0]


def _radii(
    wgs: gpd.GeoDataFrame, pts: np.ndarray, area_field: str | None, factor: float
):
    nearest = np.array(
        [
            shapely.distance(p, np.delete(pts, i)).min() if len(pts) > 1 else 1e5
            for i, p in enumerate(pts)
        ]
    )
    radius = nearest * factor
    if area_field and area_field in wgs.columns:
        area = wgs[area_field].to_numpy(dtype=float) * 1e6
        from_area = factor * np.sqrt(area / math.pi)
        radius = np.where(np.isfinite(from_area) & (area > 0), from_area, radius)
    return radius
