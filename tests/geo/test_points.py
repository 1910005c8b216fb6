"""ODK geopoint parsing, scalar and vectorised (the two must agree)."""

import math

import numpy as np
import pandas as pd
import pytest

from geo import InvalidGeopointError, parse_geopoint, parse_geopoints, points_gdf


def test_parse_geopoint_full_and_short():
    point = parse_geopoint("15.8516 107.484 812.5 4.8")
    assert (point.lat, point.lon, point.alt, point.acc) == (
        15.8516,
        107.484,
        812.5,
        4.8,
    )
    short = parse_geopoint("15.85 107.48")
    assert short.alt is None and short.acc is None


@pytest.mark.parametrize(
    "text",
    ["", "15.8", "a b c d", "91 0 0 1", "0 181 0 1", "1 2 3 -4", "1 2 3 4 5", "nan 1"],
)
def test_parse_geopoint_rejects(text):
    with pytest.raises(InvalidGeopointError) as err:
        parse_geopoint(text)
    assert err.value.code == "geo.geopoint_invalid"


def test_parse_geopoints_statuses_keep_index():
    values = pd.Series(
        ["15.85 107.48 10 5", None, "  ", "x", " 15.85  107.48 0 3 ", 7, "1 2\n3"],
        index=list("abcdefg"),
    )
    out = parse_geopoints(values)
    assert list(out.index) == list("abcdefg")
    assert list(out["status"]) == [
        "ok",
        "missing",
        "missing",
        "invalid",
        "ok",
        "invalid",
        "ok",
    ]  # a line break is whitespace to both parsers
    assert out.loc["e", ["lat", "lon", "acc"]].tolist() == [15.85, 107.48, 3.0]
    assert out.loc[out["status"] != "ok", "lat"].isna().all()


def test_parse_geopoints_agrees_with_scalar_parser():
    rng = np.random.default_rng(7)
    texts = [
        f"{rng.uniform(-80, 80):.6f} {rng.uniform(-170, 170):.6f} 1 {i % 60}"
        for i in range(300)
    ]
    texts += ["16 108", "16 108 5", "16 108  5", "-0.0 0 0 0"]
    out = parse_geopoints(texts)
    for text, (_, row) in zip(texts, out.iterrows(), strict=True):
        point = parse_geopoint(text)
        assert row["status"] == "ok"
        assert (row["lat"], row["lon"]) == (point.lat, point.lon)
        assert (math.isnan(row["acc"]) and point.acc is None) or row["acc"] == point.acc


def test_points_gdf_lon_is_x_and_missing_is_none():
    frame = pd.DataFrame({"lat": [15.5, np.nan], "lon": [107.5, 1.0]})
    gdf = points_gdf(frame)
    assert gdf.crs == "EPSG:4326"
    assert (gdf.geometry.iloc[0].x, gdf.geometry.iloc[0].y) == (107.5, 15.5)
    assert gdf.geometry.iloc[1] is None
