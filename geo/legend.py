"""The parts of a map around the communes: colour classes, header, legend, side panel.

Used by :func:`geo.render_map`; every function takes a matplotlib ``Figure`` that
the caller created (matplotlib is never imported at module level).
"""

from __future__ import annotations

import math
import typing as t
from datetime import datetime

import numpy as np
import pandas as pd

from geo.boundary import BoundarySet
from geo.export import public_indicator
from geo.indicator import Indicator
from geo.labels import text

__all__ = ["PALETTE", "RISK", "ZERO", "classes", "draw_header", "draw_side_panel"]

ZERO = "#eeeeee"
PALETTE = ("#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
RISK = "#d7191c"
BORDER = "#111111"
BORDER_DASH = (0, (7, 2, 1.5, 2))
_LINE = 0.019  # side-panel line height, figure fraction


def classes(values: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Colour classes for counts: 0 on its own, then up to five quantile classes.

    Parameters
    ----------
    values : numpy.ndarray
        Non-negative counts, one per commune.

    Returns
    -------
    edges : list of (low, high)
        Inclusive integer bounds of the positive classes.
    colours : numpy.ndarray
        A colour per value (``ZERO`` for 0).
    """
    pos = np.sort(values[values > 0])
    edges: list[tuple[int, int]] = []
    if len(pos):
        qs = np.quantile(pos, [0.2, 0.4, 0.6, 0.8, 1.0])
        low = 1
        for cut in sorted({int(math.ceil(q)) for q in qs}):
            if cut >= low:
                edges.append((low, cut))
                low = cut + 1
    colours = np.full(len(values), ZERO, dtype=object)
    for (low, high), colour in zip(edges, _palette(edges), strict=True):
        colours[(values >= low) & (values <= high)] = colour
    return edges, colours


def draw_header(
    fig: t.Any, title: str, period: str, bs: BoundarySet, data_time: datetime, lang: str
) -> None:
    """Title with the period, subtitle with boundary set and data time, source footer.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    title, period : str
    bs : BoundarySet
        Its name and start date go in the subtitle; ``approximate`` adds a red line.
    data_time : datetime
    lang : {"vi", "en"}
    """
    head = f"{title} · {text('period', lang)} {period}"
    fig.text(0.01, 0.965, head, fontsize=15, fontweight="bold", va="top")
    sub = (
        f"{text('boundaries', lang)}: {bs.name} "
        f"({text('valid_from', lang)} {bs.valid_from:%d/%m/%Y}) · "
        f"{text('data_time', lang)}: {data_time:%d/%m/%Y %H:%M}"
    )
    fig.text(0.01, 0.925, sub, fontsize=9.5, va="top", color="#333333")
    if bs.approximate:
        fig.text(
            0.01,
            0.897,
            text("approximate", lang),
            fontsize=10,
            va="top",
            color=RISK,
            fontweight="bold",
        )
    fig.text(
        0.01,
        0.008,
        f"{text('source', lang)}: {bs.source}",
        fontsize=6.5,
        color="#555555",
    )


def draw_side_panel(
    fig: t.Any,
    table: pd.DataFrame,
    edges: list[tuple[int, int]],
    column: str,
    indicators: t.Sequence[Indicator],
    has_border: bool,
    lang: str,
) -> None:
    """Legend, plan indicators and the list of high-risk communes with their reasons.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    table : DataFrame
        Per-commune coverage (``name``, ``high_risk``, ``risk_reasons``,
        ``marked_note`` and ``column``).
    edges : list of (low, high)
        From :func:`classes`.
    column : str
    indicators : sequence of Indicator
        Printed with small victim numbers suppressed; may be empty.
    has_border : bool
        Whether the border line is drawn (and so in the legend).
    lang : {"vi", "en"}
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grey = "#666666"
    handles = [Patch(facecolor=ZERO, edgecolor=grey, label="0")]
    for (low, high), colour in zip(edges, _palette(edges), strict=True):
        span = str(low) if low == high else f"{low}–{high}"
        handles.append(Patch(facecolor=colour, edgecolor=grey, label=span))
    handles.append(
        Patch(
            facecolor="white",
            edgecolor=RISK,
            linewidth=1.6,
            label=text("high_risk", lang),
        )
    )
    handles.append(
        Patch(
            facecolor="white",
            edgecolor=RISK,
            hatch="////",
            label=text("high_risk_uncovered", lang),
        )
    )
    if has_border:
        handles.append(
            Line2D(
                [],
                [],
                color=BORDER,
                linewidth=2.6,
                linestyle=BORDER_DASH,
                label=text("border_line", lang),
            )
        )
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.655, 0.87),
        fontsize=8.5,
        title=text(f"legend_{column}", lang),
        title_fontsize=9.5,
        frameon=False,
        alignment="left",
    )
    y = _indicators(fig, indicators, lang, 0.5)
    _risk_list(fig, table, column, lang, y)


def _indicators(
    fig: t.Any, indicators: t.Sequence[Indicator], lang: str, y: float
) -> float:
    if not indicators:
        return y
    fig.text(
        0.66, y, text("indicators", lang), fontsize=10, fontweight="bold", va="top"
    )
    na = text("not_available", lang)
    for ind in indicators:
        d = public_indicator(ind)
        pct = na if d["percent"] is None else _pct(d["percent"], lang)
        den = na if d["denominator"] is None else d["denominator"]
        y -= 0.032
        fig.text(0.66, y, f"{text('ind_' + ind.key, lang)}:", fontsize=8, va="top")
        y -= 0.022
        fig.text(
            0.675,
            y,
            f"{pct}  ({d['numerator']}/{den})",
            fontsize=8.5,
            va="top",
            fontweight="bold",
        )
    return y - 0.04


def _risk_list(
    fig: t.Any, table: pd.DataFrame, column: str, lang: str, y: float
) -> None:
    risky = table.loc[table["high_risk"].astype(bool)].sort_values("name")
    if not len(risky):
        return
    fig.text(
        0.66, y, text("high_risk_list", lang), fontsize=10, fontweight="bold", va="top"
    )
    room = max(int((y - 0.03) / _LINE), 1)
    shown = risky.iloc[: room if len(risky) <= room else room - 1]
    for _, row in shown.iterrows():
        y -= _LINE
        reasons = [r for r in str(row["risk_reasons"]).split(";") if r]
        why = ", ".join(text(f"reason_{r}", lang) for r in reasons)
        if row.get("marked_note"):
            why += f" ({row['marked_note']})"
        fig.text(
            0.665,
            y,
            f"{row['name']}: {why} · {int(row[column])}",
            fontsize=7.5,
            va="top",
        )
    if len(shown) < len(risky):
        more = text("more", lang).format(n=len(risky) - len(shown))
        fig.text(0.665, y - _LINE, more, fontsize=7.5, va="top", style="italic")


def _palette(edges: list[tuple[int, int]]) -> tuple[str, ...]:
    return PALETTE[-len(edges) :] if edges else ()


def _pct(value: float, lang: str) -> str:
    """``75.0 %`` in English, ``75,0 %`` in Vietnamese (decimal comma)."""
    out = f"{value:.1f} %"
    return out.replace(".", ",") if lang == "vi" else out
