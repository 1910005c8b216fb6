"""Importing boundary sets: formats, field options, reprojection, repair, lines."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo import (
    BoundaryReadError,
    CRSError,
    DuplicateCodeError,
    GeometryTypeError,
    InvalidGeometryError,
    MissingFieldError,
    prepare_boundaries,
    read_boundaries,
    read_lines,
)
from tests.geo.conftest import grid, square

BOWTIE = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])


def _layer(crs="EPSG:4326") -> gpd.GeoDataFrame:
    """A layer as a GIS user would have it: other field names, extra columns."""
    base = grid(crs=crs, size=1000 if crs != "EPSG:4326" else 1.0)
    return gpd.GeoDataFrame(
        {"ma_xa": base["code"], "ten_xa": base["name"], "dan_so": [1, 2, 3, 4]},
        geometry=base.geometry,
        crs=crs,
    )


@pytest.mark.parametrize(
    ("suffix", "driver"),
    [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".shp", "ESRI Shapefile")],
    ids=["geojson", "geopackage", "shapefile"],
)
def test_read_boundaries_formats_and_field_options(tmp_path, suffix, driver):
    path = tmp_path / f"communes{suffix}"
    _layer().to_file(path, driver=driver, engine="pyogrio")
    result = read_boundaries(path, code_field="ma_xa", name_field="ten_xa")
    assert result.issues == ()
    assert_geodataframe_equal(
        result.areas, grid(), check_less_precise=True, normalize=True
    )


def test_read_boundaries_reprojects_to_wgs84(tmp_path):
    path = tmp_path / "utm.gpkg"
    _layer("EPSG:32648").to_file(path, driver="GPKG", engine="pyogrio")
    areas = read_boundaries(path, code_field="ma_xa", name_field="ten_xa").areas
    assert areas.crs == "EPSG:4326"
    lon, lat = areas.geometry.iloc[0].centroid.coords[0]
    assert 100 < lon < 106 and 0 <= lat < 0.1  # UTM 48N false easting is 500 km


def test_numeric_codes_are_zero_padded():
    layer = grid().assign(code=[4, 20443, 7, 8])
    assert list(prepare_boundaries(layer).areas["code"]) == [
        "00004",
        "00007",
        "00008",
        "20443",
    ]


def test_invalid_geometry_is_repaired_and_reported():
    layer = grid()
    layer.loc[1, "geometry"] = BOWTIE
    result = prepare_boundaries(layer)
    assert [(i.code, i.problem, i.repaired) for i in result.issues] == [
        ("B", "invalid", True)
    ]
    assert "Self-intersection" in result.issues[0].detail
    repaired = result.areas.set_index("code").geometry["B"]
    assert repaired.is_valid and repaired.area == pytest.approx(0.5)


def test_invalid_geometry_without_repair_raises():
    layer = grid()
    layer.loc[1, "geometry"] = BOWTIE
    with pytest.raises(InvalidGeometryError, match="B: Self-intersection") as err:
        prepare_boundaries(layer, repair=False)
    assert err.value.code == "geo.geometry_invalid"


def test_empty_dropped_and_duplicate_parts_dissolved():
    layer = gpd.GeoDataFrame(
        {"code": ["A", "A", "B"], "name": ["Xã A", "Xã A", "Xã B"]},
        geometry=[square(0, 0), square(5, 5), shapely.Polygon()],
        crs="EPSG:4326",
    )
    result = prepare_boundaries(layer)
    assert sorted((i.code, i.problem) for i in result.issues) == [
        ("A", "merged"),
        ("B", "empty"),
    ]
    assert list(result.areas["code"]) == ["A"]
    assert result.areas.geometry.iloc[0].area == pytest.approx(2.0)


def test_one_code_two_names_is_an_error():
    layer = grid().assign(code=["A", "A", "C", "D"])
    with pytest.raises(DuplicateCodeError, match="Xã A, Xã B"):
        prepare_boundaries(layer)


def test_missing_field_names_the_available_ones():
    with pytest.raises(MissingFieldError, match="'ma_xa'.*code, name") as err:
        prepare_boundaries(grid(), code_field="ma_xa")
    assert err.value.code == "geo.field_missing"


def test_no_crs_needs_an_explicit_one():
    layer = grid().set_crs(None, allow_override=True)
    with pytest.raises(CRSError):
        prepare_boundaries(layer)
    assert prepare_boundaries(layer, crs="EPSG:4326").areas.crs == "EPSG:4326"


def test_points_are_not_boundaries():
    layer = grid().assign(geometry=lambda f: shapely.centroid(f.geometry.to_numpy()))
    with pytest.raises(GeometryTypeError, match="found Point"):
        prepare_boundaries(layer)


def test_unreadable_file(tmp_path):
    bad = tmp_path / "x.geojson"
    bad.write_text("not json")
    with pytest.raises(BoundaryReadError) as err:
        read_boundaries(bad)
    assert err.value.code == "geo.boundary_unreadable"


def test_read_lines_keeps_lines_and_turns_polygons_into_edges(tmp_path):
    path = tmp_path / "border.geojson"
    line = shapely.LineString([(0, 0), (0, 2)])
    gpd.GeoDataFrame({"name": ["b"]}, geometry=[line], crs="EPSG:4326").to_file(path)
    lines = read_lines(path)
    assert list(lines.geom_type) == ["LineString"] and lines.crs == "EPSG:4326"
    grid().to_file(tmp_path / "poly.geojson")
    assert set(read_lines(tmp_path / "poly.geojson").geom_type) == {"LineString"}
    grid().assign(geometry=lambda f: shapely.centroid(f.geometry.to_numpy())).to_file(
        tmp_path / "pt.geojson"
    )
    with pytest.raises(GeometryTypeError):
        read_lines(tmp_path / "pt.geojson")
