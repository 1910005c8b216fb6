"""Sessions to communes: GPS first, the form's commune as fallback, problems listed."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import REVIEW_REASONS, MissingColumnError, assign_sessions, locate_points

# the 2 x 2 grid: A lon 0-1, B lon 1-2 (lat 0-1); C, D above (lat 1-2)
SESSIONS = pd.DataFrame(
    [
        ("s1", "0.5 0.5 0 5", "A"),  # in A, form A
        ("s2", "0.5 1.5 0 5", "A"),  # in B, form A: mismatch
        ("s3", "0.5 1.5 0 80", "A"),  # in B but 80 m accuracy: form
        ("s4", None, "C"),  # no fix: form
        ("s5", "abc", "C"),  # unreadable: form, listed
        ("s6", "5 5 0 3", "D"),  # outside every commune: form, listed
        ("s7", "", None),  # nothing at all: unassigned
        ("s8", "0.5 0.5 0 5", "ZZ"),  # form code not in the set: GPS, listed
        ("s9", "0.5 1.0 0 5", "B"),  # on the A|B edge, form B: B
        ("s10", "0.5 1.0 0 5", None),  # on the A|B edge, no form: lowest code
        ("s11", "1.5 0.5", "C"),  # no accuracy recorded: usable
    ],
    columns=["id", "gps", "commune"],
).set_index("id")


def _result(areas, **kwargs):
    return assign_sessions(SESSIONS, areas, **kwargs)


def test_assignment_rules(areas):
    out = _result(areas).assigned
    assert out["commune"].tolist() == [
        "A",
        "B",
        "A",
        "C",
        "C",
        "D",
        None,
        "A",
        "B",
        "A",
        "C",
    ]
    assert out["source"].tolist() == [
        "gps",
        "gps",
        "form",
        "form",
        "form",
        "form",
        None,
        "gps",
        "gps",
        "gps",
        "gps",
    ]
    assert out["reason"].tolist() == [
        "gps",
        "gps_mismatch",
        "low_accuracy",
        "no_gps",
        "gps_invalid",
        "gps_outside",
        "no_gps",
        "gps",
        "gps",
        "gps",
        "gps",
    ]
    assert out.loc["s2", ["gps_commune", "form_commune"]].tolist() == ["B", "A"]
    assert out.index.equals(SESSIONS.index)


def test_review_list_has_reason_codes_and_no_silent_resolution(areas):
    review = _result(areas).review
    listed = sorted(zip(review["session"], review["reason"], strict=True))
    assert listed == [
        ("s2", "gps_form_mismatch"),
        ("s5", "gps_invalid"),
        ("s6", "gps_outside_areas"),
        ("s7", "unassigned"),
        ("s8", "form_commune_unknown"),
    ]
    assert set(review["reason"]) <= set(REVIEW_REASONS)
    mismatch = review.set_index("session").loc["s2"]
    assert (
        mismatch["form_commune"],
        mismatch["gps_commune"],
        mismatch["assigned"],
    ) == ("A", "B", "B")
    # 0.5° of longitude at the equator, measured in metres
    assert mismatch["distance_m"] == pytest.approx(55_660, rel=0.01)


def test_prefer_form_keeps_the_form_on_a_mismatch_but_still_lists_it(areas):
    result = _result(areas, prefer="form")
    assert result.assigned.loc["s2", ["commune", "source"]].tolist() == ["A", "form"]
    assert "s2" in set(result.review["session"])


def test_accuracy_threshold_is_configurable(areas):
    out = _result(areas, max_accuracy_m=100).assigned
    assert out.loc["s3", ["commune", "reason"]].tolist() == ["B", "gps_mismatch"]


def test_missing_columns(areas):
    with pytest.raises(MissingColumnError, match="gps") as err:
        assign_sessions(SESSIONS.drop(columns="gps"), areas)
    assert err.value.code == "geo.column_missing"


def test_locate_points_matches_geopandas_sjoin(areas):
    import geopandas as gpd
    import numpy as np

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-0.5, 2.5, 500), rng.uniform(-0.5, 2.5, 500)
    mine = locate_points(lon, lat, areas)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=areas.crs)
    joined = points.sjoin(areas, how="left", predicate="within")
    expected = joined["index_right"].fillna(-1).astype(int).to_numpy()
    assert (mine == expected).all()
