"""Coverage writers: GeoJSON (QGIS, web map) and CSV tables, small counts suppressed.

Privacy rule, applied by every writer here and by :func:`geo.render_map`: a victim
count from 1 to 4 (``threshold - 1``) is written as ``"<5"``; 0 is written as 0 (it
identifies nobody). Percentages built on such a count are withheld too. Victim data
never carry a location finer than the commune (see :mod:`geo.coverage`).
"""

from __future__ import annotations

import csv
import io
import json
import typing as t
from datetime import datetime

import numpy as np
import pandas as pd
import shapely

from geo.boundary import BoundarySet
from geo.coverage import Coverage
from geo.indicator import Indicator
from geo.labels import text

__all__ = [
    "VICTIM_COLUMNS",
    "coverage_csv",
    "indicators_csv",
    "public_indicator",
    "suppress_count",
    "suppress_small_counts",
    "to_geojson",
]

VICTIM_COLUMNS = ("victim_cases", "victims_with_needs", "victims_all_served")
THRESHOLD = 5
_PROPERTIES = (
    "code",
    "name",
    "high_risk",
    "risk_reasons",
    "marked_note",
    "sessions",
    "participants",
    "women_girls",
    "ethnic_minority",
    "last_session",
    "days_since_last_session",
    *VICTIM_COLUMNS,
    "trainees",
    "staff_trained",
    "staff_roster",
)


def suppress_count(value: int, threshold: int = THRESHOLD) -> int | str:
    """Suppress one small victim count.

    Parameters
    ----------
    value : int
    threshold : int, default 5

    Returns
    -------
    int or str
        ``value`` itself, or ``"<5"`` when ``0 < value < threshold``.
    """
    value = int(value)
    return f"<{threshold}" if 0 < value < threshold else value


def suppress_small_counts(
    table: pd.DataFrame, threshold: int = THRESHOLD
) -> pd.DataFrame:
    """Suppress the victim counts of a per-commune table.

    Parameters
    ----------
    table : DataFrame
        E.g. ``Coverage.by_commune``; columns not in :data:`VICTIM_COLUMNS` stay.
    threshold : int, default 5

    Returns
    -------
    DataFrame
        A copy whose victim columns are object dtype (ints and ``"<5"``).
    """
    out = table.copy()
    for col in VICTIM_COLUMNS:
        if col in out.columns:
            out[col] = pd.Series(
                [suppress_count(v, threshold) for v in out[col]],
                index=out.index,
                dtype=object,
            )
    return out


def public_indicator(ind: Indicator, threshold: int = THRESHOLD) -> dict[str, t.Any]:
    """An indicator as a JSON-ready dict, its victim numbers suppressed where small.

    Parameters
    ----------
    ind : Indicator
    threshold : int, default 5

    Returns
    -------
    dict
        Keys: ``key``, ``numerator``, ``denominator``, ``percent``, ``note``.

    Notes
    -----
    In a victim-based indicator a numerator or denominator of 1-4 reads ``"<5"``
    and ``percent`` is then None (it would give the number away). Each published
    count is suppressed on its own; differences between two published counts are
    not.
    """
    num, den, pct = ind.numerator, ind.denominator, ind.percent
    if ind.victim_based and den is not None:
        num, den = suppress_count(num, threshold), suppress_count(den, threshold)
        if isinstance(num, str) or isinstance(den, str):
            pct = None
    return {
        "key": ind.key,
        "numerator": num,
        "denominator": den,
        "percent": pct,
        "note": ind.note,
    }


def to_geojson(
    coverage: Coverage,
    *,
    boundary_set: BoundarySet,
    data_time: datetime,
    precision: int = 6,
    threshold: int = THRESHOLD,
) -> bytes:
    """Coverage as a GeoJSON FeatureCollection, one feature per commune.

    Parameters
    ----------
    coverage : Coverage
    boundary_set : BoundarySet
        The set the areas came from; written into the file.
    data_time : datetime
        When the data were extracted.
    precision : int, default 6
        Decimals kept in coordinates (6 is about 0.1 m).
    threshold : int, default 5
        Victim counts below it (and above 0) read ``"<5"``.

    Returns
    -------
    bytes
        UTF-8 JSON. Properties are the per-commune columns (``risk_reasons`` as a
        list, victim counts suppressed). Foreign members at the top say what the
        file is: ``period``, ``as_of``, ``data_time``, ``boundary_set`` (name,
        valid_from, source, approximate) and ``indicators`` (see
        :func:`public_indicator`).
    """
    table = suppress_small_counts(coverage.by_commune, threshold)
    geoms = shapely.transform(
        table.geometry.to_numpy(), lambda c: np.round(c, precision)
    )
    features = []
    for (_, row), geom in zip(table.iterrows(), geoms, strict=False):
        props = {k: _plain(row[k]) for k in _PROPERTIES if k in table.columns}
        props["risk_reasons"] = [r for r in str(row["risk_reasons"]).split(";") if r]
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    doc = {
        "type": "FeatureCollection",
        "period": coverage.period.label,
        "as_of": coverage.as_of.isoformat(),
        "data_time": data_time.isoformat(timespec="seconds"),
        "boundary_set": _set_dict(boundary_set),
        "indicators": [public_indicator(i, threshold) for i in coverage.indicators],
        "features": features,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def coverage_csv(coverage: Coverage, *, threshold: int = THRESHOLD) -> bytes:
    """The per-commune table as CSV, victim counts suppressed.

    Parameters
    ----------
    coverage : Coverage
    threshold : int, default 5

    Returns
    -------
    bytes
        UTF-8 with a BOM (so Excel shows the diacritics), one row per commune, no
        geometry, plus a ``period`` column.
    """
    table = suppress_small_counts(coverage.by_commune, threshold)
    cols = [c for c in _PROPERTIES if c in table.columns]
    frame = table[cols].assign(period=coverage.period.label)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def indicators_csv(
    coverage: Coverage, *, lang: str = "vi", threshold: int = THRESHOLD
) -> bytes:
    """The indicator table as CSV.

    Parameters
    ----------
    coverage : Coverage
    lang : {"vi", "en"}
        Language of the ``label`` column.
    threshold : int, default 5

    Returns
    -------
    bytes
        UTF-8 with a BOM; columns ``period, key, label, numerator, denominator,
        percent, note`` (empty for a missing denominator or percentage).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["period", "key", "label", "numerator", "denominator", "percent", "note"]
    )
    for ind in coverage.indicators:
        d = public_indicator(ind, threshold)
        writer.writerow(
            [
                coverage.period.label,
                d["key"],
                text(f"ind_{d['key']}", lang),
                d["numerator"],
                "" if d["denominator"] is None else d["denominator"],
                "" if d["percent"] is None else d["percent"],
                d["note"],
            ]
        )
    return buf.getvalue().encode("utf-8-sig")


def _set_dict(bs: BoundarySet) -> dict[str, t.Any]:
    return {
        "name": bs.name,
        "valid_from": bs.valid_from.isoformat(),
        "source": bs.source,
        "approximate": bs.approximate,
    }


def _plain(value: t.Any) -> t.Any:
    """numpy/pandas scalars to JSON types; missing to None."""
    if (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
    ):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
