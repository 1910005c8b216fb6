"""The real Đà Nẵng data in ../shared/data (read in place, never copied here).

Skipped with a reason when the folder is absent; ``OUTREACH_SHARED_DATA`` points
elsewhere.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from geo import (
    BoundarySet,
    approximate_areas,
    approximate_boundary_set,
    assign_sessions,
    border_communes,
    compute_coverage,
    parse_period,
    read_boundaries,
    read_crosswalk,
    read_lines,
    read_official_points,
    recode,
    render_map,
)

FIVE = {
    "20443",
    "20455",
    "20698",
    "20704",
    "20716",
}  # Hùng Sơn, Tây Giang, La Êê, La Dêê, Đắc Pring
AVUONG = "20458"
SET = BoundarySet(
    "Xã/phường 2025", date(2025, 7, 1), "thanglequoc/vietnamese-provinces-database"
)


@pytest.fixture(scope="module")
def real(request):
    shared = request.getfixturevalue("shared_data")
    full = read_boundaries(shared / "danang2025_communes.geojson")
    simple = read_boundaries(shared / "danang2025_communes_simplified.geojson").areas
    border = read_lines(shared / "laos_border_quangnam_derived.geojson")
    return shared, full, simple, border


def test_import_full_resolution_communes(real):
    _, full, _, _ = real
    assert len(full.areas) == 94 and full.issues == ()
    assert full.areas["code"].is_unique and full.areas.crs == "EPSG:4326"
    assert full.areas.set_index("code").loc["20455", "name"] == "Tây Giang"


def test_exactly_the_five_laos_border_communes(real):
    """Avương touches the derived line only near the Huế tri-point: 102 m away and
    1.3 km of line within 500 m, under the 2 km minimum (see border_communes)."""
    _, full, _, border = real
    out = border_communes(full.areas, border).set_index("code")
    assert set(out.index[out["is_border"]]) == FIVE
    assert out.loc[AVUONG, "border_distance_m"] == pytest.approx(101.5, abs=1)
    assert (
        out.loc[AVUONG, "border_length_m"]
        < 2000
        < out.loc[list(FIVE), "border_length_m"].min()
    )
    # metres, not degrees: the whole line is 137.3 km, and the five share nearly all of it
    assert 137_000 < out.loc[list(FIVE), "border_length_m"].sum() < 145_000


def test_approximate_areas_find_the_same_five(real):
    _, _, _, border = real
    areas = approximate_areas(read_official_points("48"))
    assert len(areas) == 94
    out = border_communes(areas, border)
    assert set(out.loc[out["is_border"], "code"]) == FIVE


def test_old_codes_land_in_their_2025_commune(real):
    shared, _, simple, _ = real
    crosswalk = read_crosswalk(shared / "old_to_new_2025_quangnam_danang.csv")
    old = pd.Series(["20449", "20296", "20699", "20701"])  # Lăng, Hòa Liên, Chơ Chun, Zuôih
    out = recode(old, crosswalk, valid_codes=simple["code"])
    assert out["code"].tolist() == ["20455", "20197", "20698", "20707"]
    assert out["relation"].tolist() == ["whole", "part", "whole", "whole"]
    assert set(crosswalk.entries) | {"20333"} >= set(simple["code"])  # every new code is old


def test_sessions_on_real_polygons(real):
    _, _, simple, _ = real
    sessions = pd.DataFrame(
        {
            "gps": [
                "15.8516 107.484 900 6",
                "15.8516 107.484 900 6",
                "16.0678 108.2208 5 4",
                "15.70 107.00 0 5",
            ],
            "commune": ["20455", "20443", "", "20698"],
        }
    )
    out = assign_sessions(sessions, simple)
    assert out.assigned["commune"].tolist() == ["20455", "20455", "20242", "20698"]
    assert out.review["reason"].tolist() == ["gps_form_mismatch", "gps_outside_areas"]


@pytest.mark.parametrize("approximate", [False, True], ids=["real", "approximate"])
def test_render_real_and_approximate(real, approximate):
    _, _, simple, border = real
    areas = approximate_areas(read_official_points("48")) if approximate else simple
    bs = approximate_boundary_set() if approximate else SET
    sessions = pd.DataFrame(
        {
            "commune": ["20443", "20455", "20194"],
            "date": "2026-08-01",
            "n_total": 9,
            "n_women": 3,
            "n_girls": 1,
            "n_ethnic_minority": 2,
        }
    )
    cov = compute_coverage(
        areas, parse_period("2026-Q3"), sessions=sessions, border=border
    )
    assert set(cov.by_commune.loc[cov.by_commune["high_risk"], "code"]) == FIVE
    png = render_map(
        cov, border=border, boundary_set=bs, data_time=datetime(2026, 9, 30), dpi=50
    )
    assert png.startswith(b"\x89PNG")
