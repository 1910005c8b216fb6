"""``outreach geo …``, ``outreach map`` and ``outreach coverage``: boundaries and maps.

Registered on ``server.cli.main`` (the last line of ``server/cli.py`` imports this
module). Each command commits once; errors print one line and exit 1.
"""

from __future__ import annotations

import datetime as dt
import sys
import typing as t
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

import geo
from geo.labels import text
from server import boundaries, coverage_settings, problem
from server.cli import main
from server.coverage import build_report, high_risk_table
from server.db import db
from server.models import Project, User

_EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)
_project_option = click.option(
    "--project", "project_id", type=int, default=1, show_default=True
)
_by_option = click.option(
    "--by",
    "by_email",
    default=None,
    help="Email of the web user doing this (recorded with the change).",
)


def _fail(message: str) -> t.NoReturn:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _actor(email: str | None) -> int | None:
    if not email:
        return None
    actor = db.session.scalar(sa.select(User.actor_id).where(User.email == email))
    if actor is None:
        _fail(f"no web user with the email {email}")
    return actor


def _project(project_id: int) -> None:
    if db.session.get(Project, project_id) is None:
        _fail(f"project {project_id} does not exist")


def _period(value: str) -> geo.Period:
    try:
        return geo.parse_period(value)
    except geo.InvalidPeriodError as err:
        raise click.BadParameter(err.message, param_hint="--period") from err


def _run(action: t.Callable[[], t.Any]) -> t.Any:
    """Run a storage action, turning library and API errors into a one-line exit 1."""
    try:
        return action()
    except geo.GeoError as err:
        _fail(err.message)
    except problem.Problem as err:
        _fail(err.message)


@main.group("geo")
def geo_group() -> None:
    """Boundary sets, the border line, the crosswalk, high-risk communes, rosters."""


@geo_group.command("import-boundaries")
@click.argument("path", type=_EXISTING)
@click.option("--set", "set_name", required=True, help="Name of the boundary set.")
@click.option("--code-field", default="code", show_default=True)
@click.option("--name-field", default="name", show_default=True)
@click.option(
    "--valid-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2025-07-01",
    show_default=True,
    help="First day these boundaries apply.",
)
@click.option("--source", default=None, help="Where the file came from (attribution).")
@click.option("--layer", default=None, help="Layer of a GeoPackage.")
@click.option("--replace", is_flag=True, help="Replace a set of the same name.")
@_by_option
@with_appcontext
def import_boundaries(
    path: Path,
    set_name: str,
    code_field: str,
    name_field: str,
    valid_from: dt.datetime,
    source: str | None,
    layer: str | None,
    replace: bool,
    by_email: str | None,
) -> None:
    """Import commune polygons (GeoJSON, GeoPackage, Shapefile) as a boundary set."""
    actor = _actor(by_email)
    row, issues = _run(
        lambda: boundaries.import_boundary_set(
            path,
            name=set_name,
            code_field=code_field,
            name_field=name_field,
            valid_from=valid_from.date(),
            source=source,
            layer=layer,
            replace=replace,
            actor_id=actor,
        )
    )
    db.session.commit()
    click.echo(
        f"imported boundary set {row.name!r}: {row.area_count} areas, "
        f"valid from {row.valid_from.isoformat()}"
    )
    for issue in issues:
        state = "repaired" if issue.repaired else "dropped"
        click.echo(f"  {issue.code}: {issue.problem} ({issue.detail}); {state}")


@geo_group.command("import-border")
@click.argument("path", type=_EXISTING)
@click.option("--name", default="Việt Nam – Lào", show_default=True)
@click.option("--source", default=None)
@click.option("--replace", is_flag=True, help="Replace a border of the same name.")
@_by_option
@with_appcontext
def import_border(
    path: Path, name: str, source: str | None, replace: bool, by_email: str | None
) -> None:
    """Import an international border line (used for the border high-risk rule)."""
    actor = _actor(by_email)
    row = _run(
        lambda: boundaries.import_border(
            path, name=name, source=source, replace=replace, actor_id=actor
        )
    )
    db.session.commit()
    click.echo(f"imported border {row.name!r}: {row.length_m / 1000:.1f} km")


@geo_group.command("import-crosswalk")
@click.argument("path", type=_EXISTING)
@_by_option
@with_appcontext
def import_crosswalk(path: Path, by_email: str | None) -> None:
    """Replace the old (pre-2025) to 2025 commune code table from a CSV."""
    actor = _actor(by_email)
    crosswalk = _run(lambda: boundaries.import_crosswalk(path, actor_id=actor))
    db.session.commit()
    split = sum(1 for e in crosswalk.entries.values() if e.relation == "part")
    click.echo(
        f"imported crosswalk: {len(crosswalk.entries)} old communes "
        f"({split} split between several new ones)"
    )


@geo_group.command("sets")
@with_appcontext
def list_sets() -> None:
    """List boundary sets and border lines."""
    rows = boundaries.list_sets()
    if not rows:
        click.echo(
            "no boundary set imported: maps use approximate areas "
            "(official commune points, Voronoi)"
        )
    for row in rows:
        flag = " (approximate)" if row.approximate else ""
        click.echo(
            f"{row.name}\tvalid from {row.valid_from.isoformat()}\t"
            f"{row.area_count} areas\t{row.source}{flag}"
        )
    for border in boundaries.list_borders():
        click.echo(f"border: {border.name}\t{border.length_m / 1000:.1f} km")


@geo_group.command("delete-set")
@click.argument("name")
@_by_option
@with_appcontext
def delete_set(name: str, by_email: str | None) -> None:
    """Delete a boundary set and its areas (maps then use another set)."""
    actor = _actor(by_email)
    _run(lambda: boundaries.delete_set(name, actor_id=actor))
    db.session.commit()
    click.echo(f"deleted boundary set {name!r}")


@geo_group.command("high-risk")
@click.option(
    "--set", "set_name", default=None, help="Boundary set (default: current)."
)
@click.option("--distance-m", type=float, default=500.0, show_default=True)
@_project_option
@with_appcontext
def high_risk(set_name: str | None, distance_m: float, project_id: int) -> None:
    """List high-risk communes and why: border, victim cases, supervisor's mark."""
    _project(project_id)
    chosen, table, border = _run(
        lambda: high_risk_table(project_id, set_name=set_name, distance_m=distance_m)
    )
    approx = " (approximate areas)" if chosen.info.approximate else ""
    click.echo(f"boundary set: {chosen.info.name}{approx}")
    if border is None:
        click.echo("no border line imported: the border rule is off")
    risky = table.loc[table["high_risk"]].sort_values("code")
    for _, row in risky.iterrows():
        detail = ""
        if "border" in row["risk_reasons"]:
            detail = (
                f"\t{row['border_length_m'] / 1000:.1f} km of border within "
                f"{distance_m:g} m"
            )
        if row["marked_note"]:
            detail += f"\tnote: {row['marked_note']}"
        reasons = row["risk_reasons"].replace(";", ",")
        click.echo(f"{row['code']}\t{row['name']}\t{reasons}{detail}")
    click.echo(f"{len(risky)} high-risk communes")


@geo_group.command("mark-high-risk")
@click.argument("code")
@click.option("--reason", required=True, help="Why (shown on maps; no names).")
@_project_option
@_by_option
@with_appcontext
def mark_high_risk(
    code: str, reason: str, project_id: int, by_email: str | None
) -> None:
    """Mark a commune high-risk by hand (e.g. a cross-border market)."""
    _project(project_id)
    actor = _actor(by_email)
    _run(lambda: coverage_settings.mark(project_id, code, reason, actor_id=actor))
    db.session.commit()
    click.echo(f"marked {code} high-risk in project {project_id}")


@geo_group.command("unmark-high-risk")
@click.argument("code")
@_project_option
@_by_option
@with_appcontext
def unmark_high_risk(code: str, project_id: int, by_email: str | None) -> None:
    """Remove a supervisor's high-risk mark."""
    _project(project_id)
    actor = _actor(by_email)
    if not coverage_settings.unmark(project_id, code, actor_id=actor):
        _fail(f"{code} is not marked in project {project_id}")
    db.session.commit()
    click.echo(f"unmarked {code} in project {project_id}")


@geo_group.command("roster")
@click.argument("path", type=_EXISTING)
@_project_option
@_by_option
@with_appcontext
def roster(path: Path, project_id: int, by_email: str | None) -> None:
    """Replace the staff roster from a CSV ``code,staff`` (empty code: city level)."""
    _project(project_id)
    actor = _actor(by_email)
    sizes = _run(lambda: coverage_settings.read_roster_csv(path))
    _run(lambda: coverage_settings.set_roster(project_id, sizes, actor_id=actor))
    db.session.commit()
    click.echo(
        f"staff roster of project {project_id}: {sum(sizes.values())} staff "
        f"in {len(sizes)} units"
    )


@main.command("map")
@click.option("--period", required=True, help="2026, 2026-Q3 or 2026-07.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path))
@click.option(
    "--set", "set_name", default=None, help="Boundary set (default: current)."
)
@click.option(
    "--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "pdf"]),
    default=None,
    help="Default: from the file name (png otherwise).",
)
@click.option(
    "--column",
    type=click.Choice(["sessions", "participants", "women_girls", "ethnic_minority"]),
    default="sessions",
    show_default=True,
)
@click.option("--dpi", type=int, default=120, show_default=True)
@_project_option
@with_appcontext
def map_command(
    period: str,
    out: Path,
    set_name: str | None,
    lang: str,
    fmt: str | None,
    column: str,
    dpi: int,
    project_id: int,
) -> None:
    """Draw the coverage map of a period (PNG or PDF)."""
    _project(project_id)
    span = _period(period)
    fmt = fmt or ("pdf" if out.suffix.lower() == ".pdf" else "png")
    report = _run(lambda: build_report(project_id, span, set_name=set_name))
    body = geo.render_map(
        report.coverage,
        boundary_set=report.boundary_set,
        data_time=report.data_time,
        border=report.border,
        lang=lang,
        fmt=t.cast(t.Literal["png", "pdf"], fmt),
        column=column,
        dpi=dpi,
    )
    out.write_bytes(body)
    _summary(report, lang, project_id)
    click.echo(f"map written to {out}")


@main.command("coverage")
@click.option("--period", required=True, help="2026, 2026-Q3 or 2026-07.")
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(path_type=Path),
    help="*.csv (per commune), *.geojson, or *-indicators.csv; none: print only.",
)
@click.option(
    "--set", "set_name", default=None, help="Boundary set (default: current)."
)
@click.option(
    "--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True
)
@_project_option
@with_appcontext
def coverage_command(
    period: str, out: Path | None, set_name: str | None, lang: str, project_id: int
) -> None:
    """Print the plan indicators of a period; write the table or GeoJSON with --out."""
    _project(project_id)
    span = _period(period)
    report = _run(lambda: build_report(project_id, span, set_name=set_name))
    _summary(report, lang, project_id)
    if out is None:
        return
    name = out.name.lower()
    if name.endswith((".geojson", ".json")):
        body = geo.to_geojson(
            report.coverage,
            boundary_set=report.boundary_set,
            data_time=report.data_time,
        )
    elif name.endswith("indicators.csv"):
        body = geo.indicators_csv(report.coverage, lang=lang)
    elif name.endswith(".csv"):
        body = geo.coverage_csv(report.coverage)
    else:
        _fail("--out must end in .csv, .geojson or indicators.csv")
    out.write_bytes(body)
    click.echo(f"written to {out}")


def _summary(report: t.Any, lang: str, project_id: int) -> None:
    """Boundary set, data time and the three indicators (victim numbers suppressed)."""
    bs = report.boundary_set
    approx = " (approximate areas)" if bs.approximate else ""
    click.echo(
        f"period {report.coverage.period.label}; boundary set: {bs.name}{approx}"
    )
    click.echo(f"data as of {report.data_time.isoformat(timespec='minutes')}")
    for ind in report.coverage.indicators:
        d = geo.public_indicator(ind)
        pct = "n/a" if d["percent"] is None else f"{d['percent']} %"
        den = "n/a" if d["denominator"] is None else d["denominator"]
        note = f" ({d['note']})" if d["note"] else ""
        label = text(f"ind_{ind.key}", lang)
        click.echo(f"{label}: {pct} = {d['numerator']}/{den}{note}")
    if len(report.review):
        click.echo(
            f"{len(report.review)} outreach sessions to review "
            f"(GET /v1/projects/{project_id}/coverage/review)"
        )
