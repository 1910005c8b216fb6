"""Commune boundary sets: import polygons, reproject, repair, describe.

A boundary set is a named, dated collection of commune polygons. Several can coexist
(the official 2025 polygons, an older set, the approximate fallback); every output
says which one it used. The polygons themselves travel as a GeoDataFrame with the
columns ``code`` (str), ``name`` (str) and ``geometry`` in EPSG:4326, sorted by code.
"""

from __future__ import annotations

import os
import typing as t
import unicodedata
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import (
    BoundaryReadError,
    CRSError,
    DuplicateCodeError,
    GeometryTypeError,
    InvalidGeometryError,
    MissingFieldError,
)

__all__ = [
    "BoundaryImport",
    "BoundarySet",
    "GeometryIssue",
    "prepare_boundaries",
    "read_boundaries",
]

WGS84 = "EPSG:4326"
PathLike = str | os.PathLike | t.BinaryIO


@dataclass(frozen=True, slots=True)
class BoundarySet:
    """What a set of commune polygons is: its name, start of validity and source.

    ``approximate`` marks sets that are not surveyed boundaries (e.g. the Voronoi
    areas built from official commune points); maps say so in their subtitle.
    """

    name: str
    valid_from: date
    source: str
    approximate: bool = False


@dataclass(frozen=True, slots=True)
class GeometryIssue:
    """A problem found in one feature during import.

    ``problem`` is one of ``"invalid"`` (repaired with ``make_valid``),
    ``"empty"`` (dropped), ``"merged"`` (several features with one code were
    dissolved into one) or ``"collapsed"`` (repair left no area; dropped).
    """

    code: str
    problem: str
    detail: str
    repaired: bool


@dataclass(frozen=True, eq=False)
class BoundaryImport:
    """The result of an import: the areas (code, name, geometry) and what was fixed."""

    areas: gpd.GeoDataFrame
    issues: tuple[GeometryIssue, ...] = ()


def read_boundaries(
    source: PathLike,
    *,
    code_field: str = "code",
    name_field: str = "name",
    layer: str | int | None = None,
    crs: str | None = None,
    repair: bool = True,
    code_width: int = 5,
) -> BoundaryImport:
    """Read commune polygons from GeoJSON, GeoPackage or Shapefile (via pyogrio).

    Parameters
    ----------
    source : path or binary file
        ``.geojson``, ``.gpkg``, ``.shp`` or a zipped shapefile (``.zip``).
    code_field, name_field : str
        Fields holding the commune code and its name.
    layer : str or int, optional
        Layer of a multi-layer source (GeoPackage); the first by default.
    crs : str, optional
        CRS to assume when the file declares none (a shapefile without ``.prj``).
    repair : bool, default True
        Repair invalid geometries with ``shapely.make_valid``; with False they raise.
    code_width : int, default 5
        Numeric codes (a shapefile integer field) are zero-padded to this width,
        since GSO commune codes are 5-digit strings.

    Returns
    -------
    BoundaryImport
        ``areas`` in EPSG:4326 with ``code``, ``name``, ``geometry`` and ``issues``.

    Raises
    ------
    BoundaryReadError, MissingFieldError, CRSError, GeometryTypeError,
    InvalidGeometryError, DuplicateCodeError

    See Also
    --------
    prepare_boundaries : the same checks on a GeoDataFrame already in memory.
    """
    frame = _read(source, layer)
    return prepare_boundaries(
        frame,
        code_field=code_field,
        name_field=name_field,
        crs=crs,
        repair=repair,
        code_width=code_width,
    )


def prepare_boundaries(
    frame: gpd.GeoDataFrame,
    *,
    code_field: str = "code",
    name_field: str = "name",
    crs: str | None = None,
    repair: bool = True,
    code_width: int = 5,
) -> BoundaryImport:
    """Normalise a polygon GeoDataFrame into a boundary set's areas.

    Selects and renames the code and name fields, reprojects to EPSG:4326, drops
    empty geometries, repairs invalid ones (or raises), dissolves features that
    share a code (a multipart commune stored as several rows) and sorts by code.
    Parameters as for :func:`read_boundaries`.
    """
    for field in (code_field, name_field):
        if field not in frame.columns:
            available = ", ".join(
                str(c) for c in frame.columns if c != frame.geometry.name
            )
            raise MissingFieldError(field=field, available=available)
    frame = _to_wgs84(frame, crs, "The boundary layer")
    codes = _codes(frame[code_field], code_width)
    areas = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [unicodedata.normalize("NFC", str(v)) for v in frame[name_field]],
        },
        geometry=frame.geometry.to_numpy(),
        crs=WGS84,
    )
    issues: list[GeometryIssue] = []
    empty = areas.geometry.isna() | areas.geometry.is_empty
    issues += [
        GeometryIssue(c, "empty", "no geometry", False)
        for c in areas.loc[empty, "code"]
    ]
    areas = areas.loc[~empty]
    kinds = set(areas.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise GeometryTypeError(
            expected="Polygon or MultiPolygon", found=", ".join(sorted(kinds))
        )
    areas, fixed = _repair(areas, repair)
    issues += fixed
    areas, merged = _dissolve_duplicates(areas)
    issues += merged
    areas = areas.sort_values("code", kind="stable").reset_index(drop=True)
    return BoundaryImport(areas, tuple(issues))


def commune_neighbours(areas: gpd.GeoDataFrame) -> dict[str, frozenset[str]]:
    """Commune code -> the codes of the communes whose polygons it touches.

    ``areas`` as a boundary set stores them (``code`` and polygons). Sharing a border
    or a corner counts; an island commune has no entry. On the 94 communes of 2025
    the full and the 50 m simplified polygons give the same 237 pairs.
    """
    geoms = areas.geometry.to_numpy()
    codes = [str(code) for code in areas["code"]]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    out: dict[str, set[str]] = {}
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if codes[i] != codes[j]:
            out.setdefault(codes[i], set()).add(codes[j])
    return {code: frozenset(others) for code, others in out.items()}


def _read(source: PathLike, layer: str | int | None) -> gpd.GeoDataFrame:
    import pyogrio.errors

    try:
        return gpd.read_file(source, layer=layer, engine="pyogrio")
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        OSError,
    ) as err:
        raise BoundaryReadError(
            path=str(getattr(source, "name", source)), reason=err
        ) from err


def _to_wgs84(frame: gpd.GeoDataFrame, crs: str | None, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        if crs is None:
            raise CRSError(what=what)
        frame = frame.set_crs(crs)
    return frame.to_crs(WGS84)


def _codes(values: pd.Series, width: int) -> list[str]:
    if pd.api.types.is_numeric_dtype(values):
        return [str(int(v)).zfill(width) for v in values]
    return [str(v).strip() for v in values]


def _repair(
    areas: gpd.GeoDataFrame, repair: bool
) -> tuple[gpd.GeoDataFrame, list[GeometryIssue]]:
    geoms = areas.geometry.to_numpy()
    bad = ~shapely.is_valid(geoms)
    if not bad.any():
        return areas, []
    reasons = shapely.is_valid_reason(geoms[bad])
    codes = areas["code"].to_numpy()[bad]
    if not repair:
        pairs = list(zip(codes, reasons, strict=True))[:3]
        examples = "; ".join(f"{c}: {r}" for c, r in pairs)
        raise InvalidGeometryError(count=int(bad.sum()), examples=examples)
    fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    fixed = [_polygonal(g) for g in fixed]
    issues, keep = [], pd.Series(True, index=areas.index)
    rows = zip(areas.index[bad], codes, reasons, fixed, strict=True)
    for idx, code, reason, geom in rows:
        if geom is None:
            issues.append(GeometryIssue(code, "collapsed", reason, False))
            keep[idx] = False
        else:
            issues.append(GeometryIssue(code, "invalid", reason, True))
            areas.loc[idx, areas.geometry.name] = geom
    return areas.loc[keep], issues


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Keep only the polygon parts of a repaired geometry (drop stray lines/points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return None if geom.is_empty else geom
    parts = [
        g
        for g in getattr(geom, "geoms", [])
        if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    merged = shapely.union_all(parts) if parts else None
    return None if merged is None or merged.is_empty else merged


def _dissolve_duplicates(
    areas: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, list[GeometryIssue]]:
    dup = areas["code"].duplicated(keep=False)
    if not dup.any():
        return areas, []
    issues = []
    for code, group in areas.loc[dup].groupby("code", sort=True):
        names = sorted(set(group["name"]))
        if len(names) > 1:
            raise DuplicateCodeError(code=code, names=", ".join(names))
        issues.append(GeometryIssue(code, "merged", f"{len(group)} features", True))
    dissolved = areas.loc[dup].dissolve(by="code", as_index=False)[
        ["code", "name", "geometry"]
    ]
    return pd.concat([areas.loc[~dup], dissolved], ignore_index=True), issues
