"""GeoJSON and CSV writers: metadata, and small victim counts shown as "<5"."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import pandas as pd
import pytest

from geo import (
    BoundarySet,
    Indicator,
    compute_coverage,
    coverage_csv,
    indicators_csv,
    parse_period,
    public_indicator,
    suppress_count,
    suppress_small_counts,
    to_geojson,
)

SET = BoundarySet("Xã 2025", date(2025, 7, 1), "test squares")
WHEN = datetime(2026, 9, 30, 17, 5)


def _coverage(areas, a_cases=3, b_cases=7):
    rows = [("A", "yes")] * a_cases + [("B", "yes")] * (b_cases - 1) + [("B", "no")]
    cases = pd.DataFrame(rows, columns=["commune", "all_needs_served"]).assign(
        id_date="2026-08-01"
    )
    return compute_coverage(areas, parse_period("2026-Q3"), cases=cases)


@pytest.mark.parametrize(
    ("value", "shown"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (12, 12)]
)
def test_suppress_count(value, shown):
    assert suppress_count(value) == shown


def test_suppress_small_counts_touches_victim_columns_only(areas):
    table = suppress_small_counts(_coverage(areas).by_commune).set_index("code")
    assert table.loc["A", "victim_cases"] == "<5"
    assert table.loc["A", "victims_all_served"] == "<5"
    assert table.loc["B", "victim_cases"] == 7
    assert table.loc["C", "victim_cases"] == 0
    assert table.loc["A", "sessions"] == 0


def test_geojson_metadata_and_suppression(areas):
    doc = json.loads(to_geojson(_coverage(areas), boundary_set=SET, data_time=WHEN))
    assert doc["type"] == "FeatureCollection"
    assert doc["period"] == "2026-Q3" and doc["data_time"] == "2026-09-30T17:05:00"
    assert doc["boundary_set"] == {
        "name": "Xã 2025",
        "valid_from": "2025-07-01",
        "source": "test squares",
        "approximate": False,
    }
    props = {f["properties"]["code"]: f["properties"] for f in doc["features"]}
    assert props["A"]["victim_cases"] == "<5"
    assert props["B"]["victim_cases"] == 7
    assert props["A"]["risk_reasons"] == ["victim_cases"]
    assert props["D"]["name"] == "Xã Đ"  # UTF-8, not escaped
    victims = doc["indicators"][1]
    assert (victims["numerator"], victims["denominator"]) == (9, 10)
    assert {f["geometry"]["type"] for f in doc["features"]} == {"Polygon"}


def test_geojson_hides_a_small_victim_indicator(areas):
    doc = json.loads(
        to_geojson(_coverage(areas, 1, 2), boundary_set=SET, data_time=WHEN)
    )
    victims = doc["indicators"][1]
    assert (victims["numerator"], victims["denominator"], victims["percent"]) == (
        "<5",
        "<5",
        None,
    )


def test_public_indicator_leaves_non_victim_counts_alone():
    sessions = Indicator("sessions_high_risk", 1, 3)
    assert public_indicator(sessions)["percent"] == 33.3
    assert public_indicator(sessions)["numerator"] == 1


def test_coverage_csv_is_excel_friendly_and_suppressed(areas):
    data = coverage_csv(_coverage(areas))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    by_code = {r["code"]: r for r in rows}
    assert by_code["A"]["victim_cases"] == "<5"
    assert by_code["B"]["victim_cases"] == "7"
    assert by_code["D"]["name"] == "Xã Đ" and by_code["D"]["period"] == "2026-Q3"
    assert "geometry" not in rows[0]


@pytest.mark.parametrize(
    ("lang", "label"), [("vi", "% nạn nhân"), ("en", "% of identified")]
)
def test_indicators_csv(areas, lang, label):
    text = indicators_csv(_coverage(areas, 1, 2), lang=lang).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["key"] for r in rows] == [
        "sessions_high_risk",
        "victims_needs_served",
        "staff_trained",
    ]
    assert rows[1]["label"].startswith(label)
    assert (rows[1]["numerator"], rows[1]["denominator"], rows[1]["percent"]) == (
        "<5",
        "<5",
        "",
    )
    assert rows[2]["denominator"] == ""
