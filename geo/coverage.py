"""Coverage per commune and period, and the plan's three indicators.

Inputs are plain tables the server builds from submissions (column names fixed):

``sessions``
    ``commune`` (assigned 2025 code, see :func:`geo.assign_sessions`), ``date``,
    ``n_total``, ``n_women``, ``n_girls``, ``n_ethnic_minority``.
``cases``
    ``commune`` (2025 code of residence, or empty), ``id_date``,
    ``all_needs_served`` (``yes`` / ``no`` / ``no_needs``, the form's calculate).
    Never coordinates: a GeoDataFrame or lat/lon columns raise
    :class:`~geo.errors.VictimLocationError`.
``training_events``
    ``commune`` (venue), ``date``, ``n_trainees`` (the form's headcount).
``trainees``
    ``trainee_id`` (any stable key, e.g. a hash of name and agency), ``commune``
    (empty = city level), ``date``: one row per roster entry.

Counts in the result are exact integers: small victim counts are suppressed by the
writers (:mod:`geo.export`, :mod:`geo.render`), never here, because the indicators
need the real numbers.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import MissingColumnError, VictimLocationError
from geo.indicator import Indicator, plan_indicators
from geo.period import Period
from geo.risk import high_risk

__all__ = ["COUNT_COLUMNS", "Coverage", "compute_coverage"]

SESSION_COLUMNS = (
    "commune",
    "date",
    "n_total",
    "n_women",
    "n_girls",
    "n_ethnic_minority",
)
CASE_COLUMNS = ("commune", "id_date", "all_needs_served")
EVENT_COLUMNS = ("commune", "date", "n_trainees")
TRAINEE_COLUMNS = ("trainee_id", "commune", "date")
COUNT_COLUMNS = (
    "sessions",
    "participants",
    "women_girls",
    "ethnic_minority",
    "victim_cases",
    "victims_with_needs",
    "victims_all_served",
    "trainees",
    "staff_trained",
)
_LOCATION_COLUMNS = {"lat", "lon", "latitude", "longitude", "gps", "geometry", "x", "y"}


@dataclass(frozen=True, eq=False)
class Coverage:
    """Coverage of one period: a row per commune plus the plan indicators.

    ``by_commune`` (GeoDataFrame, EPSG:4326, sorted by code) has ``code``, ``name``,
    ``high_risk``, ``risk_reasons``, ``marked_note``, the :data:`COUNT_COLUMNS`,
    ``staff_roster``, ``last_session`` (ISO date or None),
    ``days_since_last_session`` and ``geometry``. ``unplaced`` counts records
    that reached no commune (cases abroad, sessions without a commune).
    """

    period: Period
    as_of: date
    by_commune: gpd.GeoDataFrame
    indicators: tuple[Indicator, ...]
    unplaced: t.Mapping[str, int]


def compute_coverage(
    areas: gpd.GeoDataFrame,
    period: Period,
    *,
    sessions: pd.DataFrame | None = None,
    cases: pd.DataFrame | None = None,
    training_events: pd.DataFrame | None = None,
    trainees: pd.DataFrame | None = None,
    staff_roster: t.Mapping[str, int] | None = None,
    border: gpd.GeoDataFrame | None = None,
    border_codes: t.Iterable[str] | None = None,
    marked: t.Mapping[str, str] | t.Iterable[str] = (),
    as_of: date | None = None,
) -> Coverage:
    """Compute coverage per commune for ``period`` and the plan indicators.

    Parameters
    ----------
    areas : GeoDataFrame
        The boundary set's areas (``code``, ``name``, polygons).
    period : Period
        From :func:`geo.parse_period`.
    sessions, cases, training_events, trainees : DataFrame, optional
        See the module docstring. Records dated after ``as_of`` are ignored.
    staff_roster : mapping code -> int, optional
        Number of support staff per commune (``""`` for city-level staff), as
        configured by the programme. The staff indicator's denominator; without it
        that indicator has no denominator (see :func:`geo.plan_indicators`).
    border, border_codes, marked
        High-risk inputs, as in :func:`geo.high_risk`. Communes with victim cases
        identified up to the end of the period get the ``victim_cases`` reason.
    as_of : date, optional
        The data time (default: the period's last day). ``days_since_last_session``
        counts from ``min(as_of, last day of period)``; sessions before the period
        count for it.

    Returns
    -------
    Coverage
    """
    ref = min(as_of or period.last_day, period.last_day)
    codes = areas["code"].astype(str).to_numpy()
    out = pd.DataFrame(index=pd.Index(codes, name="code"))
    unplaced: dict[str, int] = {}

    s = _table(sessions, SESSION_COLUMNS, "sessions", "date", ref)
    placed = s.loc[s["commune"].isin(codes)]
    unplaced["sessions"] = int(
        ((s["date"] >= _d64(period.start)) & ~s["commune"].isin(codes)).sum()
    )
    last = placed.groupby("commune")["date"].max()
    now = placed.loc[placed["date"] >= _d64(period.start)]
    nums = (
        now[["n_total", "n_women", "n_girls", "n_ethnic_minority"]]
        .apply(pd.to_numeric, errors="coerce")
        .fillna(0)
        .astype(int)
    )
    nums["commune"] = now["commune"]
    g = nums.groupby("commune")
    out["sessions"] = now.groupby("commune").size()
    out["participants"] = g["n_total"].sum()
    out["women_girls"] = g["n_women"].sum() + g["n_girls"].sum()
    out["ethnic_minority"] = g["n_ethnic_minority"].sum()
    out["last_session"] = last.dt.strftime("%Y-%m-%d")
    out["days_since_last_session"] = (_d64(ref) - last).dt.days.astype("Int64")

    c = _cases(cases, ref)
    victim_codes = sorted(set(c["commune"]) & set(codes))
    c_now = c.loc[c["id_date"] >= _d64(period.start)]
    unplaced["cases"] = int((~c_now["commune"].isin(codes)).sum())
    served = c_now["all_needs_served"].astype(str).str.strip().str.lower()
    out["victim_cases"] = c_now.groupby("commune").size()
    out["victims_with_needs"] = (
        c_now.loc[served.isin(["yes", "no"])].groupby("commune").size()
    )
    out["victims_all_served"] = c_now.loc[served == "yes"].groupby("commune").size()

    e = _table(training_events, EVENT_COLUMNS, "training_events", "date", ref)
    e = e.loc[e["date"] >= _d64(period.start)]
    out["trainees"] = (
        pd.to_numeric(e["n_trainees"], errors="coerce")
        .fillna(0)
        .groupby(e["commune"])
        .sum()
    )
    tr = _table(trainees, TRAINEE_COLUMNS, "trainees", "date", ref)
    tr = tr.assign(commune=tr["commune"].fillna(""))
    distinct = tr.drop_duplicates("trainee_id")
    out["staff_trained"] = distinct.groupby("commune").size()
    roster = {str(k): int(v) for k, v in (staff_roster or {}).items()}
    out["staff_roster"] = pd.Series(roster, dtype="Int64")

    for col in COUNT_COLUMNS:
        out[col] = out[col].fillna(0).astype(int)
    risk = high_risk(
        areas,
        border=border,
        border_codes=border_codes,
        victim_communes=victim_codes,
        marked=marked,
    )
    head = pd.DataFrame(
        {
            "code": codes,
            "name": areas["name"].astype(str).to_numpy(),
            **{
                k: risk[k].to_numpy()
                for k in ("high_risk", "risk_reasons", "marked_note")
            },
        }
    )
    gdf = (
        gpd.GeoDataFrame(
            pd.concat([head, out.reset_index(drop=True)], axis=1),
            geometry=areas.geometry.to_numpy(),
            crs=areas.crs,
        )
        .sort_values("code", kind="stable")
        .reset_index(drop=True)
    )
    indicators = plan_indicators(
        gdf, cases=c_now, trainees=distinct, staff_roster=staff_roster
    )
    return Coverage(period, ref, gdf, indicators, unplaced)


def _d64(day: date) -> np.datetime64:
    return np.datetime64(day, "ns")


def _table(frame, columns, name, date_col, ref) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame(
            {
                c: pd.Series(dtype="datetime64[ns]" if c == date_col else object)
                for c in columns
            }
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(table=name, missing=", ".join(missing))
    out = frame.loc[:, list(columns)].copy()
    out[date_col] = pd.to_datetime(
        out[date_col], errors="coerce", format="ISO8601"
    ).astype("datetime64[ns]")
    if "commune" in out.columns:
        out["commune"] = out["commune"].astype("string").str.strip().replace("", pd.NA)
    return out.loc[out[date_col].notna() & (out[date_col] <= _d64(ref))]


def _cases(cases: pd.DataFrame | None, ref: date) -> pd.DataFrame:
    if cases is not None:
        found = sorted(_LOCATION_COLUMNS & {str(c).lower() for c in cases.columns})
        if isinstance(cases, gpd.GeoDataFrame) or found:
            raise VictimLocationError(found=", ".join(found) or "a geometry column")
    return _table(cases, CASE_COLUMNS, "cases", "id_date", ref)
