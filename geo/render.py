"""Choropleth map of coverage as PNG or PDF bytes (matplotlib Agg, imported lazily).

The map shows sessions per commune in the period (or another count column), the
border line, high-risk communes (red outline; hatched when they had no session),
commune names (placed greedily so none overlap; high-risk names first), a legend,
the plan indicators, a list of high-risk communes with their reasons, the period,
the boundary set and the data time. Units far from the rest (the Hoàng Sa islands)
go into an inset. Texts are Vietnamese by default (``lang="en"`` for English); the
font is DejaVu Sans, which matplotlib ships and which has every Vietnamese glyph.
Victim counts of 1-4 print as ``<5``.
"""

from __future__ import annotations

import io
import math
import typing as t
from datetime import datetime

import geopandas as gpd
import numpy as np
import shapely

from geo.boundary import BoundarySet
from geo.coverage import Coverage
from geo.errors import DependencyError
from geo.export import suppress_count
from geo.labels import text
from geo.legend import BORDER, BORDER_DASH, RISK, classes, draw_header, draw_side_panel
from geo.period import Period, parse_period

__all__ = ["render_map"]


def _under_stroke() -> list:
    from matplotlib.patheffects import Normal, Stroke

    return [Stroke(linewidth=5, foreground="white"), Normal()]


def render_map(
    coverage: Coverage | gpd.GeoDataFrame,
    *,
    boundary_set: BoundarySet,
    data_time: datetime,
    border: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    period: Period | str | None = None,
    lang: str = "vi",
    fmt: t.Literal["png", "pdf"] = "png",
    column: str = "sessions",
    title: str | None = None,
    dpi: int = 120,
) -> bytes:
    """Draw the coverage choropleth and return the file's bytes.

    Parameters
    ----------
    coverage : Coverage or GeoDataFrame
        A :class:`~geo.Coverage` (its indicators are printed too) or its
        ``by_commune`` table.
    boundary_set : BoundarySet
        Named in the subtitle; an approximate set is flagged in red.
    data_time : datetime
        When the data were extracted, printed under the title.
    border : lines, optional
        Drawn as a thick purple line.
    period : Period or str, optional
        Required when ``coverage`` is a bare table; otherwise taken from it.
    lang : {"vi", "en"}
    fmt : {"png", "pdf"}
    column : str, default "sessions"
        Count column to colour by (``participants``, ``women_girls``...).
    title : str, optional
        Replaces the default title.
    dpi : int, default 120
        PNG resolution (the page is 13 x 8.5 inches).

    Returns
    -------
    bytes

    Raises
    ------
    DependencyError
        matplotlib is not installed.
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - matplotlib is a dependency
        raise DependencyError(package="matplotlib", what="maps") from err
    if fmt not in ("png", "pdf"):
        raise ValueError("fmt must be 'png' or 'pdf'")
    text("title", lang)  # validates lang
    table = coverage.by_commune if isinstance(coverage, Coverage) else coverage
    indicators = coverage.indicators if isinstance(coverage, Coverage) else ()
    if period is None and isinstance(coverage, Coverage):
        period = coverage.period
    if period is None:
        raise ValueError("period is required when coverage is a table")
    label = period.label if isinstance(period, Period) else parse_period(period).label
    gdf = table.to_crs("EPSG:4326").reset_index(drop=True)
    lines = None
    if border is not None:
        lines = (
            border.geometry if isinstance(border, gpd.GeoDataFrame) else border
        ).to_crs("EPSG:4326")

    with matplotlib.rc_context(
        {
            "font.family": "DejaVu Sans",
            "pdf.fonttype": 42,
            "hatch.color": RISK,
            "hatch.linewidth": 0.8,
        }
    ):
        fig = Figure(figsize=(13, 8.5), dpi=dpi)
        canvas = FigureCanvasAgg(fig)
        main = fig.add_axes((0.01, 0.03, 0.63, 0.84))
        remote = _remote(gdf)
        edges, colours = classes(gdf[column].to_numpy(dtype=float))
        _draw(main, gdf.loc[~remote], colours[~remote], lines, boundary_set)
        parts = [(main, gdf.loc[~remote])]
        if remote.any():
            inset = fig.add_axes((0.475, 0.045, 0.16, 0.2))
            _draw(inset, gdf.loc[remote], colours[remote], None, boundary_set)
            inset.set_axis_on()
            inset.set_xticks([])
            inset.set_yticks([])
            inset.set_xlabel("")
            inset.set_ylabel("")
            inset.set_facecolor("#f4f9fd")
            inset.set_title(text("inset", lang), fontsize=7)
            parts.append((inset, gdf.loc[remote]))
        canvas.draw()
        renderer = canvas.get_renderer()
        taken: list = []
        for ax, part in parts:
            _labels(ax, part, column, lang, renderer, taken)
        draw_header(
            fig, title or text("title", lang), label, boundary_set, data_time, lang
        )
        draw_side_panel(fig, gdf, edges, column, indicators, lines is not None, lang)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=_metadata(boundary_set, label))
    return buf.getvalue()


def _remote(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Features far from the rest (islands hundreds of km out) go to an inset."""
    pts = shapely.point_on_surface(gdf.geometry.to_numpy())
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    d = np.hypot(x - np.median(x), y - np.median(y))
    mask = d > max(4 * np.median(d), 1.0)
    return mask if mask.sum() < len(gdf) else np.zeros(len(gdf), dtype=bool)


def _draw(ax, gdf, colours, lines, boundary_set: BoundarySet) -> None:
    style = "--" if boundary_set.approximate else "-"
    gdf.plot(
        ax=ax, color=list(colours), edgecolor="#666666", linewidth=0.35, linestyle=style
    )
    risky = gdf.loc[gdf["high_risk"].astype(bool)]
    bare = risky.loc[risky["sessions"] == 0]
    if len(bare):
        bare.plot(ax=ax, facecolor="none", edgecolor=RISK, hatch="////", linewidth=0)
    if len(risky):
        risky.boundary.plot(ax=ax, color=RISK, linewidth=1.6)
    if lines is not None and len(lines):
        lines.plot(
            ax=ax,
            color=BORDER,
            linewidth=2.6,
            linestyle=BORDER_DASH,
            path_effects=_under_stroke(),
        )
    x0, y0, x1, y1 = gdf.total_bounds
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_axis_off()


def _labels(ax, gdf, column, lang, renderer, taken) -> None:
    """Names, high-risk first then by area; a label overlapping another is dropped."""
    from matplotlib.patheffects import withStroke

    halo = [withStroke(linewidth=2.2, foreground="white")]
    order = gdf.assign(_a=shapely.area(gdf.geometry.to_numpy())).sort_values(
        ["high_risk", "_a"], ascending=[False, False]
    )
    inside = ax.get_window_extent(renderer)
    for _, row in order.iterrows():
        risky = bool(row["high_risk"])
        body = row["name"]
        if risky:
            body += f"\n{int(row[column])} {text('sessions_short', lang)}"
            if int(row.get("victim_cases", 0)):
                victims = suppress_count(row["victim_cases"])
                body += f" · {victims} {text('victims_short', lang)}"
        style = {
            "fontsize": 7.2 if risky else 6.0,
            "fontweight": "bold" if risky else "normal",
            "color": "#7f0000" if risky else "#222222",
        }
        for point in _anchors(row.geometry, several=risky):
            label = ax.text(
                point.x,
                point.y,
                body,
                ha="center",
                va="center",
                zorder=5,
                path_effects=halo,
                linespacing=1.0,
                **style,
            )
            box = label.get_window_extent(renderer).expanded(1.04, 1.08)
            clash = any(box.overlaps(other) for other in taken)
            if clash or not (
                inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
            ):
                label.remove()
                continue
            taken.append(box)
            break


def _anchors(geom: shapely.Geometry, several: bool) -> list[shapely.Point]:
    """Where to try a label: inside the polygon, then (high-risk only) in its halves."""
    points = [geom.representative_point()]
    if several:
        x0, y0, x1, y1 = geom.bounds
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        for box in (
            (x0, y0, x1, ym),
            (x0, ym, x1, y1),
            (x0, y0, xm, y1),
            (xm, y0, x1, y1),
        ):
            half = shapely.clip_by_rect(geom, *box)
            if not half.is_empty:
                points.append(half.representative_point())
    return points


def _metadata(bs: BoundarySet, label: str) -> dict[str, str]:
    return {"Title": f"Coverage {label} ({bs.name})"}
