"""``outreach geo …``, ``outreach map`` and ``outreach coverage`` on a real database."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from PIL import Image

from server.cli import main
from server.db import db
from server.geo_models import BoundaryArea, BoundarySet, CrosswalkRow, StaffRoster
from server.models import Audit
from tests.server_geo.conftest import session_values

FIVE = {
    "20443": "Hùng Sơn",
    "20698": "La Êê",
    "20704": "La Dêê",
    "20716": "Đắc Pring",
    "20455": "Tây Giang",
}


def _ok(runner, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _fails(runner, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, list(args))
    assert result.exit_code != 0, result.output
    return result.output


def _high_risk(output: str) -> dict[str, tuple[str, str]]:
    """code -> (name, reasons) from ``geo high-risk`` lines."""
    rows = [line.split("\t") for line in output.splitlines() if "\t" in line]
    return {r[0]: (r[1], r[2]) for r in rows}


def test_real_files_then_high_risk_lists_exactly_the_five_border_communes(
    app, runner, seed, shared_data
):  # type: ignore[no-untyped-def]
    out = _ok(
        runner,
        "geo",
        "import-boundaries",
        str(shared_data / "danang2025_communes.geojson"),
        "--set",
        "Xã/phường 2025",
        "--code-field",
        "code",
        "--name-field",
        "name",
        "--valid-from",
        "2025-07-01",
        "--by",
        seed.admin_email,
    )
    assert "94 areas" in out
    out = _ok(
        runner,
        "geo",
        "import-border",
        str(shared_data / "laos_border_quangnam_derived.geojson"),
    )
    assert "137.3 km" in out
    out = _ok(
        runner,
        "geo",
        "import-crosswalk",
        str(shared_data / "old_to_new_2025_quangnam_danang.csv"),
    )
    assert "1 split" in out

    out = _ok(runner, "geo", "high-risk", "--project", str(seed.project_id))
    assert "boundary set: Xã/phường 2025\n" in out
    listed = _high_risk(out)
    assert listed == {code: (name, "border") for code, name in FIVE.items()}
    assert "5 high-risk communes" in out
    # a tighter tolerance than the ~300 m layer mismatch loses border communes
    assert len(_high_risk(_ok(runner, "geo", "high-risk", "--distance-m", "10"))) < 5

    with app.app_context():
        stored = db.session.scalars(sa.select(BoundarySet)).one()
        assert (stored.area_count, stored.approximate) == (94, False)
        assert stored.imported_by is not None
        assert db.session.scalar(sa.select(sa.func.count(BoundaryArea.id))) == 94
        assert db.session.scalar(sa.select(sa.func.count(CrosswalkRow.id))) == 282
        actions = set(db.session.scalars(sa.select(Audit.action)))
        assert {"boundary_set.import", "border_line.import", "crosswalk.import"} <= (
            actions
        )

    again = _fails(
        runner,
        "geo",
        "import-boundaries",
        str(shared_data / "danang2025_communes_simplified.geojson"),
        "--set",
        "Xã/phường 2025",
    )
    assert "already exists" in again
    _ok(
        runner,
        "geo",
        "import-boundaries",
        str(shared_data / "danang2025_communes_simplified.geojson"),
        "--set",
        "Xã/phường 2025",
        "--replace",
    )
    assert "Xã/phường 2025\tvalid from 2025-07-01\t94 areas" in _ok(
        runner, "geo", "sets"
    )
    _ok(runner, "geo", "delete-set", "Xã/phường 2025")
    assert "approximate areas" in _ok(runner, "geo", "sets")
    assert "Could not find" in _fails(runner, "geo", "delete-set", "Xã/phường 2025")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(BoundaryArea.id))) == 0


def test_import_errors_are_one_line(runner, shared_data, tmp_path):  # type: ignore[no-untyped-def]
    out = _fails(
        runner,
        "geo",
        "import-boundaries",
        str(shared_data / "danang2025_communes_simplified.geojson"),
        "--set",
        "X",
        "--code-field",
        "ma_xa",
    )
    assert "Error: The layer has no field 'ma_xa'" in out
    out = _fails(
        runner,
        "geo",
        "import-boundaries",
        str(shared_data / "laos_border_quangnam_derived.geojson"),
        "--set",
        "X",
    )
    assert "Error:" in out and "Traceback" not in out


def test_marks_and_roster_on_the_approximate_fallback(app, runner, seed, tmp_path):  # type: ignore[no-untyped-def]
    project = str(seed.project_id)
    out = _ok(runner, "geo", "high-risk", "--project", project)
    assert "(approximate areas)" in out and "the border rule is off" in out
    assert "0 high-risk communes" in out

    note = "Chợ phiên biên giới A Tép, cò mồi hoạt động"
    _ok(
        runner, "geo", "mark-high-risk", "20458", "--reason", note, "--project", project
    )
    listed = _high_risk(_ok(runner, "geo", "high-risk", "--project", project))
    assert listed == {"20458": ("Avương", "marked")}
    assert "Unexpected commune code" in _fails(
        runner, "geo", "mark-high-risk", "99999", "--reason", "x"
    )
    _ok(runner, "geo", "unmark-high-risk", "20458", "--project", project)
    assert "is not marked" in _fails(runner, "geo", "unmark-high-risk", "20458")

    roster = tmp_path / "roster.csv"
    roster.write_text("code,staff\n20455,6\n20443,4\n,12\n", encoding="utf-8")
    assert "22 staff in 3 units" in _ok(runner, "geo", "roster", str(roster))
    roster.write_text("code,staff\n20455,-1\n", encoding="utf-8")
    assert "staff must be a whole number" in _fails(
        runner, "geo", "roster", str(roster)
    )

    with app.app_context():
        sizes = dict(
            db.session.execute(sa.select(StaffRoster.code, StaffRoster.staff)).all()
        )
        assert sizes == {"20455": 6, "20443": 4, "": 12}
        audits = db.session.scalars(
            sa.select(Audit).where(Audit.action.like("high_risk.%"))
        ).all()
        assert [a.action for a in audits] == ["high_risk.mark", "high_risk.unmark"]
        assert all(
            note not in json.dumps(a.details, ensure_ascii=False) for a in audits
        )


def test_map_command_writes_a_readable_png_and_pdf(
    app, runner, phone, mission, tmp_path
):  # type: ignore[no-untyped-def]
    phone.send("outreach_session", session_values("2026-08-03", "20455", None, 45))
    out_png = tmp_path / "map.png"
    out = _ok(
        runner,
        "map",
        "--period",
        "2026-Q3",
        "--out",
        str(out_png),
        "--lang",
        "en",
        "--project",
        str(mission.project_id),
        "--dpi",
        "80",
    )
    assert "(approximate areas)" in out and f"map written to {out_png}" in out
    data = out_png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (13 * 80, int(8.5 * 80))
        image.verify()
    out_pdf = tmp_path / "map.pdf"
    _ok(runner, "map", "--period", "2026-Q3", "--out", str(out_pdf), "--dpi", "50")
    assert out_pdf.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(main, ["map", "--period", "Q3-2026", "--out", "x.png"])
    assert bad.exit_code == 2 and "Not a period" in bad.output


def test_coverage_command_writes_table_and_geojson(runner, phone, mission, tmp_path):  # type: ignore[no-untyped-def]
    phone.send("outreach_session", session_values("2026-08-03", "20455", None, 45))
    table = tmp_path / "table.csv"
    out = _ok(runner, "coverage", "--period", "2026-Q3", "--out", str(table))
    assert "% xã nguy cơ cao" in out
    text = table.read_text(encoding="utf-8-sig")
    assert text.startswith("code,name,high_risk") and "\n20455,Tây Giang," in text
    geojson = tmp_path / "coverage.geojson"
    _ok(
        runner, "coverage", "--period", "2026-Q3", "--out", str(geojson), "--lang", "en"
    )
    doc = json.loads(geojson.read_bytes())
    assert doc["boundary_set"]["approximate"] is True
    tay_giang = next(f for f in doc["features"] if f["properties"]["code"] == "20455")
    assert tay_giang["properties"]["sessions"] == 1
    indicators = tmp_path / "q3-indicators.csv"
    _ok(runner, "coverage", "--period", "2026-Q3", "--out", str(indicators))
    assert "sessions_high_risk" in indicators.read_text(encoding="utf-8-sig")
    assert "must end in" in _fails(
        runner, "coverage", "--period", "2026-Q3", "--out", str(tmp_path / "x.txt")
    )


@pytest.mark.parametrize("command", ["map", "coverage"], ids=["map", "coverage"])
def test_unknown_project_and_set(runner, seed, command, tmp_path):  # type: ignore[no-untyped-def]
    args = [command, "--period", "2026", "--out", str(tmp_path / "x.png")]
    if command == "coverage":
        args[-1] = str(tmp_path / "x.csv")
    assert "project 42 does not exist" in _fails(runner, *args, "--project", "42")
    assert "Could not find the boundary set" in _fails(runner, *args, "--set", "Nope")
