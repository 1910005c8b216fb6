"""Border rule in metres, and the high-risk reasons."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import border_communes, high_risk

UTM48 = "EPSG:32648"


def _strip(offsets_m, crs=UTM48):
    """1 km squares east of a north-south border at x = 500 000 m (UTM 48N)."""
    x0, y0 = 500_000.0, 1_700_000.0
    polys = [shapely.box(x0 + d, y0, x0 + d + 1000, y0 + 1000) for d in offsets_m]
    codes = [f"C{i}" for i in range(len(offsets_m))]
    areas = gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=polys, crs=UTM48)
    line = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(x0, y0 - 5000), (x0, y0 + 5000)])], crs=UTM48
    )
    return areas.to_crs(crs), line.to_crs(crs)


def test_distance_rule_in_metres_from_wgs84_input():
    areas, line = _strip([0, 499, 501, 5000], crs="EPSG:4326")
    out = border_communes(areas, line, distance_m=500, min_border_m=0)
    assert out["is_border"].tolist() == [True, True, False, False]
    # AEQD distances are true ones; UTM grid metres are 0.04 % short at x = 500 km
    assert out["border_distance_m"].tolist() == pytest.approx(
        [0, 499, 501, 5000], rel=1e-3
    )


def test_min_border_length_excludes_a_corner_touch():
    """Like Avương: near the line, but the line only grazes it."""
    areas, line = _strip([0, 100])
    corner = shapely.box(499_000, 1_705_000, 499_900, 1_706_000)  # 100 m from the end
    areas = pd.concat(
        [
            areas,
            gpd.GeoDataFrame(
                {"code": ["T"], "name": ["T"]}, geometry=[corner], crs=UTM48
            ),
        ]
    )
    out = border_communes(
        areas, line, distance_m=500, min_border_m=2000, metric_crs=UTM48
    )
    assert out["is_border"].tolist() == [True, False, False]
    # line within 500 m: 1 km + 2 x 500 m; 1 km + 2 x sqrt(500² - 100²); sqrt(500² - 100²)
    assert out["border_length_m"].tolist() == pytest.approx(
        [2000, 1979.8, 489.9], abs=0.5
    )
    assert border_communes(areas, line, min_border_m=0, metric_crs=UTM48)[
        "is_border"
    ].all()


def test_high_risk_lists_every_reason_in_order():
    areas, line = _strip([0, 2000, 4000, 6000])
    out = high_risk(
        areas,
        border=line,
        victim_communes=["C0", "C2", "ZZ"],
        marked={"C0": "chợ", "C1": None},
    )
    assert out["risk_reasons"].tolist() == [
        "border;victim_cases;marked",
        "marked",
        "victim_cases",
        "",
    ]
    assert out["high_risk"].tolist() == [True, True, True, False]
    assert out["marked_note"].tolist() == ["chợ", "", "", ""]


def test_high_risk_with_known_border_codes_and_no_border():
    areas, _ = _strip([0, 2000])
    out = high_risk(areas, border_codes=["C1"], marked=["C0"])
    assert out["risk_reasons"].tolist() == ["marked", "border"]
    assert out["border_distance_m"].isna().all()
    assert not high_risk(areas)["high_risk"].any()
