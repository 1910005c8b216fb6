"""Dashboard (the plan's three indicators, trend, communes not reached, latest
submissions, work waiting) and the map page with its point and border layers."""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t

import sqlalchemy as sa
from flask import Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

import geo
from geo.labels import text
from server import boundaries, coverage
from server.db import db
from server.models import Form, FormDef, Submission, SubmissionDef
from server.web import work
from server.web.common import Access, access, bp, login_required

VIETNAM = coverage.VIETNAM
TREND_MONTHS = 6


def current_period(today: dt.date | None = None) -> str:
    """This quarter, the dashboard's default period (``2026-Q4``)."""
    today = today or dt.datetime.now(VIETNAM).date()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def period_choices(today: dt.date | None = None) -> list[str]:
    """Periods offered by the pickers: years, quarters and months of two years."""
    today = today or dt.datetime.now(VIETNAM).date()
    out: list[str] = []
    for year in (today.year, today.year - 1):
        out.append(str(year))
        last_q = (today.month - 1) // 3 + 1 if year == today.year else 4
        out += [f"{year}-Q{q}" for q in range(last_q, 0, -1)]
    months = []
    y, m = today.year, today.month
    for _month in range(12):
        months.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out + months


def chosen_period() -> geo.Period:
    """The ``period`` query argument, or this quarter (unreadable: 400 page)."""
    raw = (request.args.get("period") or "").strip() or current_period()
    try:
        return geo.parse_period(raw)
    except geo.InvalidPeriodError:
        abort(400, "period")


def _lang() -> str:
    return str(get_locale() or "vi")[:2]


def indicators(report: coverage.Report, lang: str) -> list[dict[str, t.Any]]:
    """The three plan indicators, suppressed like every public output."""
    out = []
    for ind in report.coverage.indicators:
        item = geo.public_indicator(ind)
        item["label"] = text(f"ind_{ind.key}", lang)
        item["note"] = note_text(item.get("note") or "")
        out.append(item)
    return out


_NOTES: list[tuple[re.Pattern[str], t.Callable[..., str]]] = [
    (
        re.compile(r"^no staff roster configured: no denominator$"),
        lambda: _("No staff roster yet: `outreach geo roster` sets the denominator."),
    ),
    (
        re.compile(r"^(\d+) without assessed needs excluded$"),
        lambda n: _("%(n)s without assessed needs left out", n=n),
    ),
    (
        re.compile(r"^(\d+) trained beyond the roster size not counted$"),
        lambda n: _("%(n)s trained beyond the roster size not counted", n=n),
    ),
    (
        re.compile(r"^(\d+) trainees from units without a roster not counted$"),
        lambda n: _("%(n)s trainees from units without a roster not counted", n=n),
    ),
]


def note_text(note: str) -> str:
    """geo's indicator notes (English) in the reader's language, part by part."""
    parts = []
    for part in (p.strip() for p in note.split(";") if p.strip()):
        for pattern, say in _NOTES:
            found = pattern.match(part)
            if found:
                parts.append(say(*found.groups()))
                break
        else:
            parts.append(part)
    return "; ".join(parts)


def _months_back(period: geo.Period, n: int) -> list[geo.Period]:
    end = period.last_day
    y, m = end.year, end.month
    found = []
    for _month in range(n):
        found.append(geo.parse_period(f"{y}-{m:02d}"))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return list(reversed(found))


def trend(project_id: int, period: geo.Period, lang: str) -> list[dict[str, t.Any]]:
    """The three indicators month by month, for the months ending with ``period``."""
    rows = []
    for month in _months_back(period, TREND_MONTHS):
        report = coverage.build_report(project_id, month)
        rows.append({"month": month.label, "indicators": indicators(report, lang)})
    return rows


def not_reached(report: coverage.Report, acc: Access) -> list[dict[str, t.Any]]:
    """High-risk communes with no outreach session in the period."""
    table = report.coverage.by_commune
    rows = table.loc[table["high_risk"] & (table["sessions"] == 0)]
    out = []
    for _index, row in rows.iterrows():
        if not acc.scope.all_communes and acc.role == "commune":
            if row["code"] not in acc.scope.communes:
                continue
        days = row["days_since_last_session"]
        out.append(
            {
                "code": row["code"],
                "name": row["name"],
                "last_session": row["last_session"],
                "days": None if days is None or days != days else int(days),
            }
        )
    return out


def latest_submissions(acc: Access, limit: int = 8) -> list[t.Any]:
    """The newest submissions the user may read, across the project's forms."""
    if not acc.rows:
        return []
    return list(
        db.session.execute(
            sa.select(
                Submission.instance_id,
                Submission.created_at,
                Submission.review_state,
                Submission.commune,
                SubmissionDef.instance_name,
                Form.xml_form_id,
                FormDef.name.label("form_title"),
            )
            .join(Form, Form.id == Submission.form_id)
            .outerjoin(FormDef, FormDef.id == Form.current_def_id)
            .join(
                SubmissionDef,
                sa.and_(
                    SubmissionDef.submission_id == Submission.id,
                    SubmissionDef.current.is_(True),
                ),
            )
            .where(
                Form.project_id == acc.project.id,
                Form.deleted_at.is_(None),
                Submission.draft.is_(False),
                Submission.deleted_at.is_(None),
                acc.scope.condition(Submission.commune),
            )
            .order_by(Submission.created_at.desc(), Submission.id.desc())
            .limit(limit)
        ).all()
    )


@bp.get("/projects/<int:project_id>/")
@login_required
def dashboard(project_id: int) -> ResponseReturnValue:
    """The plan's indicators and what is waiting for the supervisor."""
    acc = access(project_id, "coverage.read")
    period = chosen_period()
    lang = _lang()
    report = coverage.build_report(project_id, period)
    return render_template(
        "dashboard.html",
        period=period,
        periods=period_choices(),
        report=report,
        indicators=indicators(report, lang),
        trend=trend(project_id, period, lang),
        not_reached=not_reached(report, acc),
        high_risk=int(report.coverage.by_commune["high_risk"].sum()),
        latest=latest_submissions(acc),
        waiting=work.waiting(acc),
        communes=work.commune_names(),
    )


@bp.get("/projects/<int:project_id>/map")
@login_required
def map_page(project_id: int) -> ResponseReturnValue:
    """The coverage map (Leaflet; the only page that needs JavaScript)."""
    acc = access(project_id, "coverage.read")
    period = chosen_period()
    column = request.args.get("column") or "sessions"
    if column not in MAP_COLUMNS:
        column = "sessions"
    urls = {
        "coverage": url_for(
            "coverage.get_coverage_geojson", project_id=project_id, period=period.label
        ),
        "border": url_for("web.map_border", project_id=project_id),
        "points": (
            url_for("web.map_points", project_id=project_id, period=period.label)
            if acc.rows
            else ""
        ),
        "png": url_for(
            "coverage.get_map_png",
            project_id=project_id,
            period=period.label,
            lang=_lang(),
            column=column if column in PNG_COLUMNS else "sessions",
        ),
    }
    return render_template(
        "map.html",
        period=period,
        periods=period_choices(),
        column=column,
        columns=MAP_COLUMNS,
        urls=urls,
        own_communes=sorted(acc.scope.communes) if acc.role == "commune" else [],
    )


MAP_COLUMNS = (
    "sessions",
    "participants",
    "women_girls",
    "ethnic_minority",
    "victim_cases",
    "trainees",
    "days_since_last_session",
)
PNG_COLUMNS = ("sessions", "participants", "women_girls", "ethnic_minority")


@bp.get("/projects/<int:project_id>/map/border.geojson")
@login_required
def map_border(project_id: int) -> ResponseReturnValue:
    """The imported border line(s) as GeoJSON (empty when none is imported)."""
    access(project_id, "coverage.read")
    border, _key = boundaries.load_border()
    body = (
        border.to_json(drop_id=True)
        if border is not None
        else '{"type":"FeatureCollection","features":[]}'
    )
    return Response(body, mimetype="application/geo+json")


@bp.get("/projects/<int:project_id>/map/points.geojson")
@login_required
def map_points(project_id: int) -> ResponseReturnValue:
    """Outreach sessions of the period with a GPS fix (rows: scoped by commune).

    Points are rounded to about 100 m: enough for a cluster map, not a house.
    """
    acc = access(project_id, "submission.read")
    period = chosen_period()
    data = coverage.gather(project_id)
    sessions = data.sessions
    features = []
    communes = _session_communes(project_id, acc)
    start, end = period.start.isoformat(), period.last_day.isoformat()
    for instance_id, row in sessions.iterrows():
        if instance_id not in communes:
            continue
        day = str(row.get("date") or "")[:10]
        if not (start <= day <= end):
            continue
        gps = row.get("gps")
        if not isinstance(gps, str) or not gps.strip():
            continue
        try:
            point = geo.parse_geopoint(gps)
        except geo.GeoError:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(point.lon, 3), round(point.lat, 3)],
                },
                "properties": {
                    "date": day,
                    "participants": _int(row.get("n_total")),
                },
            }
        )
    body = json.dumps({"type": "FeatureCollection", "features": features})
    return Response(body, mimetype="application/geo+json")


def _int(value: t.Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _session_communes(project_id: int, acc: Access) -> set[str]:
    """instanceIDs of the outreach sessions the user may see as rows."""
    return set(
        db.session.execute(
            sa.select(Submission.instance_id)
            .join(Form, Form.id == Submission.form_id)
            .where(
                Form.project_id == project_id,
                Form.xml_form_id == coverage.SESSION_FORM,
                Submission.deleted_at.is_(None),
                acc.scope.condition(Submission.commune),
            )
        ).scalars()
    )
