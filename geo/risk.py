"""High-risk communes: on the border, with victim cases, or marked by a supervisor.

Every distance here is measured in metres in a local azimuthal equidistant
projection centred on the border line (or in ``metric_crs`` when given, e.g. UTM 48N
``EPSG:32648`` for Đà Nẵng), never in degrees.
"""

from __future__ import annotations

import typing as t

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["REASONS", "border_communes", "high_risk"]

REASONS = ("border", "victim_cases", "marked")
"""Reason codes, in the order they are listed."""

DEFAULT_DISTANCE_M = 500.0
DEFAULT_MIN_BORDER_M = 2000.0


def border_communes(
    areas: gpd.GeoDataFrame,
    border: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    distance_m: float = DEFAULT_DISTANCE_M,
    min_border_m: float = DEFAULT_MIN_BORDER_M,
    metric_crs: str | None = None,
) -> pd.DataFrame:
    """Find the communes along a border line.

    A commune is a border commune when it lies within ``distance_m`` of the line
    **and** at least ``min_border_m`` of the line lies within ``distance_m`` of it.
    With ``min_border_m=0`` the rule is the plain distance rule.

    Parameters
    ----------
    areas : GeoDataFrame
        ``code`` and polygons (a boundary set's areas).
    border : GeoDataFrame or GeoSeries
        One or more lines (e.g. from :func:`geo.read_lines`).
    distance_m : float, default 500
        Tolerance in metres. Commune polygons and the border line usually come from
        different layers; in the shared Đà Nẵng data they differ by up to ~300 m.
    min_border_m : float, default 2000
        Length of border (metres) the commune must have within ``distance_m``.
    metric_crs : str, optional
        CRS in metres for the computation; by default a local azimuthal
        equidistant projection centred on the border.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``areas``: ``code``, ``border_distance_m``, ``border_length_m``
        (line length within ``distance_m``; 0 beyond it) and ``is_border``.

    Notes
    -----
    With the shared data and the defaults this finds exactly the five communes on
    the Laos border: Hùng Sơn (20443; 42.1 km of line within 500 m), La Êê (20698;
    31.2 km), La Dêê (20704; 28.3 km), Đắc Pring (20716; 21.4 km) and Tây Giang
    (20455; 18.5 km). **Avương (20458) is not included**: the line only ends near
    it, at the tri-point with Huế; it is 102 m from the line and has just 1.3 km of
    line within 500 m, below the 2 km minimum. A plain distance rule cannot make that
    cut robustly (any threshold above 102 m takes Avương in), hence the length term.
    """
    lines = border.geometry if isinstance(border, gpd.GeoDataFrame) else border
    metric = metric_crs or _local_aeqd(lines)
    line = shapely.union_all(lines.to_crs(metric).to_numpy())
    polys = areas.to_crs(metric).geometry.to_numpy()
    distance = shapely.distance(polys, line)
    near = distance <= distance_m
    length = np.zeros(len(polys))
    if near.any():
        zone = (
            shapely.buffer(polys[near], distance_m, quad_segs=8)
            if distance_m > 0
            else polys[near]
        )
        length[near] = shapely.length(shapely.intersection(zone, line))
    return pd.DataFrame(
        {
            "code": areas["code"].to_numpy(),
            "border_distance_m": np.round(distance, 1),
            "border_length_m": np.round(length, 1),
            "is_border": near & (length >= min_border_m),
        },
        index=areas.index,
    )


def high_risk(
    areas: gpd.GeoDataFrame,
    *,
    border: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    border_codes: t.Iterable[str] | None = None,
    victim_communes: t.Iterable[str] = (),
    marked: t.Mapping[str, str] | t.Iterable[str] = (),
    distance_m: float = DEFAULT_DISTANCE_M,
    min_border_m: float = DEFAULT_MIN_BORDER_M,
    metric_crs: str | None = None,
) -> pd.DataFrame:
    """Flag high-risk communes and say why.

    Parameters
    ----------
    areas : GeoDataFrame
        ``code`` and polygons.
    border : lines, optional
        Border line(s); :func:`border_communes` decides which communes are on it.
    border_codes : iterable of str, optional
        Codes already known to be border communes (e.g. stored with the boundary
        set); used instead of ``border``. With neither, no commune has the
        ``border`` reason.
    victim_communes : iterable of str
        Codes of communes with at least one victim case (any count; the caller
        decides the time window, e.g. cases identified up to the period's end).
    marked : mapping code -> note, or iterable of codes
        Communes a supervisor marked by hand, with an optional note.
    distance_m, min_border_m, metric_crs
        As in :func:`border_communes`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``areas``: ``code``, ``high_risk`` (bool), ``risk_reasons``
        (``;``-joined codes from :data:`REASONS`, in that order; ``""`` if none),
        ``marked_note``, ``border_distance_m`` and ``border_length_m`` (NaN
        without a border).
    """
    codes = areas["code"].astype(str).to_numpy()
    notes = (
        dict(marked) if isinstance(marked, t.Mapping) else {str(c): "" for c in marked}
    )
    notes = {str(k): str(v or "") for k, v in notes.items()}
    if border_codes is not None:
        on_border = np.isin(codes, [str(c) for c in border_codes])
        dist = length = np.full(len(codes), np.nan)
    elif border is not None:
        edge = border_communes(
            areas,
            border,
            distance_m=distance_m,
            min_border_m=min_border_m,
            metric_crs=metric_crs,
        )
        on_border = edge["is_border"].to_numpy()
        dist, length = (
            edge["border_distance_m"].to_numpy(),
            edge["border_length_m"].to_numpy(),
        )
    else:
        on_border = np.zeros(len(codes), dtype=bool)
        dist = length = np.full(len(codes), np.nan)
    victims = np.isin(codes, [str(c) for c in victim_communes])
    hand = np.isin(codes, list(notes))
    reasons = [
        ";".join(r for r, flag in zip(REASONS, flags, strict=False) if flag)
        for flags in zip(on_border, victims, hand, strict=False)
    ]
    return pd.DataFrame(
        {
            "code": codes,
            "high_risk": on_border | victims | hand,
            "risk_reasons": reasons,
            "marked_note": [notes.get(c, "") for c in codes],
            "border_distance_m": dist,
            "border_length_m": length,
        },
        index=areas.index,
    )


def _local_aeqd(lines: gpd.GeoSeries) -> str:
    """An azimuthal equidistant CRS centred on the lines (metres, accurate nearby)."""
    centre = shapely.centroid(shapely.union_all(lines.to_crs("EPSG:4326").to_numpy()))
    return (
        f"+proj=aeqd +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m"
    )
