"""Assign outreach sessions to communes: GPS point first, the form's commune second.

Rules (one ``reason`` per session; the review list never resolves silently):

==================  ==============================================  ===============
reason              when                                            review reason
==================  ==============================================  ===============
``gps``             usable fix inside a commune that agrees with    --
                    the form (or the form has no known commune)
``gps_mismatch``    usable fix inside commune A, form says B        gps_form_mismatch
``gps_outside``     usable fix inside no commune -> form commune    gps_outside_areas
``low_accuracy``    accuracy worse than ``max_accuracy_m`` -> form  --
``no_gps``          no geopoint -> form commune                     --
``gps_invalid``     unreadable geopoint -> form commune             gps_invalid
==================  ==============================================  ===============

A session that ends with no commune (no usable fix and no known form commune) is
listed as ``unassigned``; a form code not in the boundary set is listed as
``form_commune_unknown``. On a mismatch ``prefer`` decides which commune counts
meanwhile: ``"gps"`` (default, the point is evidence) or ``"form"`` (advisable with an
approximate boundary set, whose edges are guesses). A point on a shared edge belongs
to the form's commune when that is one of the touching communes, else to the
lowest code. A missing accuracy (``"lat lon"``) counts as usable.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import MissingColumnError
from geo.points import parse_geopoints

__all__ = ["REVIEW_REASONS", "Assignment", "assign_sessions", "locate_points"]

REVIEW_REASONS = (
    "gps_form_mismatch",
    "gps_outside_areas",
    "gps_invalid",
    "form_commune_unknown",
    "unassigned",
)
_MAX_PIECE_VERTICES = 128


@dataclass(frozen=True, eq=False)
class Assignment:
    """Per-session result and the sessions a person should look at.

    ``assigned`` is indexed like the input: ``commune`` (final 2025 code or None),
    ``source`` (``"gps"``, ``"form"`` or None), ``reason``, ``gps_commune``,
    ``form_commune``, ``lat``, ``lon``, ``acc``. ``review`` has one row per problem:
    ``session`` (the input index label), ``reason`` (see :data:`REVIEW_REASONS`),
    ``form_commune``, ``gps_commune``, ``assigned``, ``lat``, ``lon``, ``acc`` and
    ``distance_m`` (from the point to the form's commune, for mismatches; to
    about 10 m, as the polygons are simplified for it).
    """

    assigned: pd.DataFrame
    review: pd.DataFrame


def assign_sessions(
    sessions: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    gps: str = "gps",
    commune: str = "commune",
    max_accuracy_m: float = 50.0,
    prefer: t.Literal["gps", "form"] = "gps",
) -> Assignment:
    """Assign each session to a 2025 commune; see the module docstring for the rules.

    Parameters
    ----------
    sessions : pandas.DataFrame
        One row per session with the geopoint string (``/data/session/gps``) and
        the commune chosen in the form (``/data/session/commune``).
    areas : GeoDataFrame
        The boundary set's areas (``code``, polygons, EPSG:4326).
    gps, commune : str
        Column names in ``sessions``.
    max_accuracy_m : float, default 50
        Fixes less accurate than this fall back to the form (the form warns at 50 m).
    prefer : {"gps", "form"}
        Which commune counts when a usable fix disagrees with the form.

    Returns
    -------
    Assignment
    """
    missing = [c for c in (gps, commune) if c not in sessions.columns]
    if missing:
        raise MissingColumnError(table="sessions", missing=", ".join(missing))
    if prefer not in ("gps", "form"):
        raise ValueError("prefer must be 'gps' or 'form'")
    codes = areas["code"].astype(str).to_numpy()
    form = sessions[commune].astype("string").str.strip()
    form = form.astype(object).where(form.notna() & (form != ""), None)
    form_known = form.isin(codes).to_numpy()
    has_form = form.notna().to_numpy()
    geo = parse_geopoints(sessions[gps])
    acc = geo["acc"].to_numpy()
    usable = (geo["status"] == "ok").to_numpy() & ~(acc > max_accuracy_m)
    form_pos = pd.Series(np.arange(len(codes)), index=codes).reindex(form).to_numpy()
    hit = np.full(len(sessions), -1)
    idx = np.flatnonzero(usable)
    hit[idx] = locate_points(
        geo["lon"].to_numpy()[idx],
        geo["lat"].to_numpy()[idx],
        areas,
        prefer=form_pos[idx],
    )
    gps_code = np.where(hit >= 0, codes[np.maximum(hit, 0)], None)
    form_arr = np.where(form_known, form.to_numpy(), None)
    inside = hit >= 0
    agree = inside & (~form_known | (gps_code == form.to_numpy()))
    mismatch = inside & ~agree
    reason = np.select(
        [
            agree,
            mismatch,
            usable & ~inside,
            (geo["status"] == "ok").to_numpy(),
            (geo["status"] == "missing").to_numpy(),
        ],
        ["gps", "gps_mismatch", "gps_outside", "low_accuracy", "no_gps"],
        "gps_invalid",
    ).astype(object)
    take_gps = agree | (mismatch & ((prefer == "gps") | ~form_known))
    final = np.where(take_gps, gps_code, form_arr)
    source = np.where(take_gps, "gps", np.where(pd.notna(final), "form", None))
    text = {
        "commune": final,
        "source": source,
        "reason": reason,
        "gps_commune": gps_code,
        "form_commune": form.to_numpy(),
    }
    assigned = pd.DataFrame(
        {
            **{
                k: pd.Series(v, index=sessions.index, dtype=object)
                for k, v in text.items()
            },
            "lat": geo["lat"].to_numpy(),
            "lon": geo["lon"].to_numpy(),
            "acc": acc,
        },
        index=sessions.index,
    )
    return Assignment(assigned, _review(assigned, areas, has_form & ~form_known))


def locate_points(
    lon: np.ndarray,
    lat: np.ndarray,
    areas: gpd.GeoDataFrame,
    *,
    prefer: np.ndarray | None = None,
) -> np.ndarray:
    """Find the polygon holding each point (vectorised point-in-polygon).

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Coordinates in degrees (EPSG:4326).
    areas : GeoDataFrame
        ``code`` and polygons.
    prefer : numpy.ndarray, optional
        Per point, the position of a preferred polygon (NaN for none): it wins when
        the point touches several polygons (a shared edge) and it is among them;
        otherwise the lowest ``code`` wins.

    Returns
    -------
    numpy.ndarray
        Position (0-based row of ``areas``) per point, -1 when inside none.

    Notes
    -----
    The polygons are cut into pieces of at most 128 vertices (as PostGIS
    ``ST_Subdivide``) and queried with one ``shapely.STRtree`` call: a million
    points against the full-resolution communes take about a second and a half.
    """
    n = len(lon)
    result = np.full(n, -1)
    if n == 0:
        return result
    wgs = areas.to_crs("EPSG:4326") if areas.crs is not None else areas
    pieces, owner = _subdivide(wgs.geometry.to_numpy())
    point_i, piece_i = shapely.STRtree(pieces).query(
        shapely.points(lon, lat), predicate="intersects"
    )
    if len(point_i) == 0:
        return result
    area_i = owner[piece_i]
    rank = np.argsort(np.argsort(areas["code"].astype(str).to_numpy(), kind="stable"))
    preferred = np.zeros(len(point_i), dtype=bool)
    if prefer is not None:
        preferred = np.asarray(prefer, dtype=float)[point_i] == area_i
    order = np.lexsort((rank[area_i], ~preferred, point_i))
    first = order[np.r_[True, point_i[order][1:] != point_i[order][:-1]]]
    result[point_i[first]] = area_i[first]
    return result


def _subdivide(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pieces: list[shapely.Geometry] = []
    owner: list[int] = []
    for i, geom in enumerate(geoms):
        stack = [geom]
        while stack:
            part = stack.pop()
            if part is None or part.is_empty:
                continue
            if shapely.get_num_coordinates(part) <= _MAX_PIECE_VERTICES:
                pieces.append(part)
                owner.append(i)
                continue
            x0, y0, x1, y1 = part.bounds
            if x1 - x0 >= y1 - y0:
                mid = (x0 + x1) / 2
                stack += [
                    shapely.clip_by_rect(part, x0, y0, mid, y1),
                    shapely.clip_by_rect(part, mid, y0, x1, y1),
                ]
            else:
                mid = (y0 + y1) / 2
                stack += [
                    shapely.clip_by_rect(part, x0, y0, x1, mid),
                    shapely.clip_by_rect(part, x0, mid, x1, y1),
                ]
    return np.array(pieces, dtype=object), np.array(owner, dtype=int)


def _review(
    assigned: pd.DataFrame, areas: gpd.GeoDataFrame, unknown_form: np.ndarray
) -> pd.DataFrame:
    reason = assigned["reason"].to_numpy()
    frames = []
    for label, mask in (
        ("gps_form_mismatch", reason == "gps_mismatch"),
        ("gps_outside_areas", reason == "gps_outside"),
        ("gps_invalid", reason == "gps_invalid"),
        ("form_commune_unknown", unknown_form),
        ("unassigned", assigned["commune"].isna().to_numpy()),
    ):
        rows = assigned.loc[
            mask, ["form_commune", "gps_commune", "commune", "lat", "lon", "acc"]
        ]
        frames.append(rows.rename(columns={"commune": "assigned"}).assign(reason=label))
    review = pd.concat(frames)
    review.insert(0, "session", review.index)
    review["distance_m"] = _distance_to_form(review, areas)
    cols = [
        "session",
        "reason",
        "form_commune",
        "gps_commune",
        "assigned",
        "lat",
        "lon",
        "acc",
        "distance_m",
    ]
    return review[cols].reset_index(drop=True)


def _distance_to_form(review: pd.DataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    out = np.full(len(review), np.nan)
    mask = (review["reason"] == "gps_form_mismatch").to_numpy() & review[
        "form_commune"
    ].isin(areas["code"]).to_numpy()
    if not mask.any():
        return out
    sub = review.loc[mask]
    centre = shapely.Point(sub["lon"].median(), sub["lat"].median())
    metric = (
        f"+proj=aeqd +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m"
    )
    # simplified to 10 m: the distance is a hint for the reviewer, and 30k points
    # against full-resolution polygons would cost a second
    projected = areas.to_crs(metric).geometry.simplify(10.0)
    polys = projected.set_axis(areas["code"].astype(str).to_numpy())
    pts = gpd.GeoSeries(shapely.points(sub["lon"], sub["lat"]), crs="EPSG:4326").to_crs(
        metric
    )
    out[mask] = np.round(
        shapely.distance(pts.to_numpy(), polys.loc[sub["form_commune"]].to_numpy()), 1
    )
    return out
