"""Approximate areas from one point per commune (Voronoi, clipped)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo import (
    GeometryTypeError,
    OfficialPointsError,
    approximate_areas,
    approximate_boundary_set,
    read_official_points,
)


def _points():
    return gpd.GeoDataFrame(
        {
            "code": ["B", "A", "C", "D"],
            "name": ["b", "a", "c", "d"],
            "area_km2": [100.0, 100.0, 100.0, float("nan")],
        },
        geometry=shapely.points(
            [(107.5, 15.5), (107.4, 15.5), (107.45, 15.6), (110, 16)]
        ),
        crs="EPSG:4326",
    )


def test_cells_hold_their_points_and_do_not_overlap():
    points = _points()
    areas = approximate_areas(points)
    assert list(areas["code"]) == ["A", "B", "C", "D"]
    assert areas.crs == "EPSG:4326" and areas.is_valid.all()
    by_code = areas.set_index("code").geometry
    for _, row in points.iterrows():
        assert by_code[row["code"]].contains(row.geometry)
    union = shapely.union_all(areas.geometry.to_numpy())
    assert union.area == pytest.approx(shapely.area(areas.geometry.to_numpy()).sum())


def test_disc_limits_an_outlying_unit():
    areas = approximate_areas(_points()).to_crs("EPSG:32649").set_index("code")
    # A: 100 km² -> radius 1.3 * sqrt(100/pi) km = 7.3 km; D (no area): 1.3 x nearest
    assert areas.geometry["A"].area / 1e6 < 3.14 * 7.4**2
    assert areas.geometry["D"].area / 1e6 < 3.14 * (1.3 * 300) ** 2


def test_clip_to_an_outline():
    outline = shapely.box(107.3, 15.4, 107.6, 15.7)
    areas = approximate_areas(_points().iloc[:3], clip=outline)
    assert shapely.union_all(areas.geometry.to_numpy()).within(outline.buffer(1e-9))


def test_rejects_non_points_and_duplicates():
    with pytest.raises(GeometryTypeError):
        approximate_areas(
            _points().assign(
                geometry=lambda f: shapely.buffer(f.geometry.to_numpy(), 0.01)
            )
        )
    twice = _points().assign(code=["A", "A", "C", "D"])
    with pytest.raises(GeometryTypeError):
        approximate_areas(twice)


def test_official_points_of_da_nang():
    points = read_official_points("48")
    assert len(points) == 94 and points["code"].is_unique
    tay_giang = points.set_index("code").loc["20455"]
    assert tay_giang["name"] == "Tây Giang" and tay_giang["area_km2"] == pytest.approx(
        400.45
    )
    assert approximate_boundary_set().approximate is True


def test_official_points_errors(tmp_path):
    with pytest.raises(OfficialPointsError, match="no communes"):
        read_official_points("00")
    with pytest.raises(OfficialPointsError, match="does not exist"):
        read_official_points("48", db_path=tmp_path / "missing.db")
