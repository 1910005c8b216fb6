"""Coverage per commune and the plan's indicators, as JSON, GeoJSON, CSV and maps.

Aggregates are readable by anyone who may read the project's submissions (managers,
viewers, administrators); app users never (403.1), anonymous callers get 401. Every
output suppresses victim counts of 1-4 as ``"<5"`` (``geo.suppress_count``). The
review list holds GPS/commune disagreements of outreach sessions only: instanceIDs,
commune codes, coordinates of the session and distances, never a person's name.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import typing as t
from collections import OrderedDict

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

import geo
from geo.labels import text
from server import auth, boundaries, problem
from server.api.common import get_project, iso, require, rest_blueprint
from server.coverage import Report, build_report

bp = rest_blueprint("coverage")

BASE = "/projects/<int:project_id>/coverage"
LANGS = ("vi", "en")
COLUMNS = ("sessions", "participants", "women_girls", "ethnic_minority")


def _period() -> geo.Period:
    value = request.args.get("period")
    if value is None or not value.strip():
        raise problem.missing_parameter("period")
    try:
        return geo.parse_period(value)
    except geo.InvalidPeriodError as err:
        raise problem.invalid_period(value) from err


def _choice(name: str, allowed: t.Sequence[str], default: str) -> str:
    value = request.args.get(name) or default
    if value not in allowed:
        raise problem.unexpected_value(name, f"use one of {', '.join(allowed)}.")
    return value


def _report(project_id: int) -> Report:
    # Aggregates only: also web viewers who see no submission (auth "coverage.read").
    require("coverage.read", project_id)
    get_project(project_id)
    period = _period()
    return build_report(project_id, period, set_name=request.args.get("set") or None)


def _set_json(bs: geo.BoundarySet) -> dict[str, t.Any]:
    return {
        "name": bs.name,
        "valid_from": bs.valid_from.isoformat(),
        "source": bs.source,
        "approximate": bs.approximate,
    }


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get(BASE)
def get_coverage(project_id: int) -> ResponseReturnValue:
    """Boundary set, data time, indicators and the per-commune table (no geometry)."""
    report = _report(project_id)
    lang = _choice("lang", LANGS, "vi")
    cov = report.coverage
    table = geo.suppress_small_counts(cov.by_commune.drop(columns="geometry"))
    rows = json.loads(table.to_json(orient="records", force_ascii=False))
    for row in rows:
        row["risk_reasons"] = [r for r in row["risk_reasons"].split(";") if r]
    indicators = []
    for ind in cov.indicators:
        item = geo.public_indicator(ind)
        item["label"] = text(f"ind_{ind.key}", lang)
        indicators.append(item)
    return jsonify(
        {
            "period": {
                "label": cov.period.label,
                "start": cov.period.start.isoformat(),
                "end": cov.period.last_day.isoformat(),
            },
            "as_of": cov.as_of.isoformat(),
            "data_time": report.data_time.isoformat(timespec="seconds"),
            "boundary_set": _set_json(report.boundary_set),
            "border": [] if report.border is None else list(report.border["name"]),
            "indicators": indicators,
            "unplaced": {
                "sessions": int(cov.unplaced.get("sessions", 0)),
                "cases": geo.suppress_count(cov.unplaced.get("cases", 0)),
            },
            "review_count": int(len(report.review)),
            "communes": rows,
        }
    )


@bp.get(f"{BASE}.geojson")
def get_coverage_geojson(project_id: int) -> ResponseReturnValue:
    """``geo.to_geojson``: one feature per commune, small victim counts suppressed."""
    report = _report(project_id)
    body = geo.to_geojson(
        report.coverage,
        boundary_set=report.boundary_set,
        data_time=report.data_time,
    )
    return Response(body, mimetype="application/geo+json")


@bp.get(f"{BASE}.csv")
def get_coverage_csv(project_id: int) -> ResponseReturnValue:
    """The per-commune table as CSV (UTF-8 with BOM for Excel)."""
    report = _report(project_id)
    label = report.coverage.period.label
    return _download(
        geo.coverage_csv(report.coverage),
        "text/csv",
        f"coverage-{label}.csv",
    )


@bp.get(f"{BASE}/indicators.csv")
def get_indicators_csv(project_id: int) -> ResponseReturnValue:
    """The three plan indicators as CSV, labels in ``lang``."""
    report = _report(project_id)
    lang = _choice("lang", LANGS, "vi")
    label = report.coverage.period.label
    return _download(
        geo.indicators_csv(report.coverage, lang=lang),
        "text/csv",
        f"indicators-{label}.csv",
    )


@bp.get(f"{BASE}/review")
def get_review(project_id: int) -> ResponseReturnValue:
    """Outreach sessions whose GPS and chosen commune disagree (or cannot be placed).

    ``period`` is optional here: without it every session is listed.
    """
    require("submission.read", project_id)
    get_project(project_id)
    period = _period() if request.args.get("period") else None
    report = build_report(
        project_id,
        period or geo.parse_period(str(dt.date.today().year)),
        set_name=request.args.get("set") or None,
    )
    review = report.review
    if period is not None:
        days = review["date"].astype("string").str.slice(0, 10)
        inside = (days >= period.start.isoformat()) & (
            days <= period.last_day.isoformat()
        )
        review = review.loc[inside.fillna(False).astype(bool)]
    # A commune supervisor sees the sessions of its own communes only (chosen or placed).
    scope = auth.scope(auth.current(), project_id)
    if not scope.all_communes:
        keep = review["form_commune"].map(scope.sees) | review["assigned"].map(
            scope.sees
        )
        review = review.loc[keep.fillna(False).astype(bool)]
    fields = [
        "instance_id",
        "reason",
        "date",
        "form_commune",
        "gps_commune",
        "assigned",
        "distance_m",
        "lat",
        "lon",
        "acc",
    ]
    rows = json.loads(review[fields].to_json(orient="records", force_ascii=False))
    return jsonify(
        {
            "boundary_set": _set_json(report.boundary_set),
            "reasons": list(geo.REVIEW_REASONS),
            "count": len(rows),
            "sessions": rows,
        }
    )


_MAPS: OrderedDict[tuple[t.Any, ...], bytes] = OrderedDict()
_MAPS_KEEP = 16
_MAPS_LOCK = threading.Lock()


def _map(project_id: int, fmt: t.Literal["png", "pdf"]) -> Response:
    report = _report(project_id)
    lang = _choice("lang", LANGS, "vi")
    column = _choice("column", COLUMNS, "sessions")
    key = (*report.key, lang, column, fmt)
    with _MAPS_LOCK:
        body = _MAPS.get(key)
    if body is None:
        body = geo.render_map(
            report.coverage,
            boundary_set=report.boundary_set,
            data_time=report.data_time,
            border=report.border,
            lang=lang,
            fmt=fmt,
            column=column,
        )
        with _MAPS_LOCK:
            _MAPS[key] = body
            while len(_MAPS) > _MAPS_KEEP:
                _MAPS.popitem(last=False)
    mimetype = "image/png" if fmt == "png" else "application/pdf"
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get(f"{BASE}/map.png")
def get_map_png(project_id: int) -> ResponseReturnValue:
    """The coverage choropleth (``geo.render_map``), cached per unchanged inputs."""
    return _map(project_id, "png")


@bp.get(f"{BASE}/map.pdf")
def get_map_pdf(project_id: int) -> ResponseReturnValue:
    """The same map as a PDF page."""
    return _map(project_id, "pdf")


@bp.get("/boundary-sets")
def list_boundary_sets() -> ResponseReturnValue:
    """Stored boundary sets (global geography) and border lines; web users only."""
    caller = auth.current()
    if caller.anonymous:
        raise problem.authentication_required()
    if caller.kind == "field_key":
        raise problem.insufficient_rights()
    sets = [
        {
            "name": row.name,
            "valid_from": row.valid_from.isoformat(),
            "source": row.source,
            "approximate": row.approximate,
            "areas": row.area_count,
            "created_at": iso(row.created_at),
        }
        for row in boundaries.list_sets()
    ]
    borders = [
        {"name": b.name, "source": b.source, "length_m": b.length_m}
        for b in boundaries.list_borders()
    ]
    fallback = None
    if not sets:
        info = geo.approximate_boundary_set()
        fallback = _set_json(info)
    return jsonify({"sets": sets, "borders": borders, "fallback": fallback})
