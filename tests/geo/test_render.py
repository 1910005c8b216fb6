"""Choropleth rendering (matplotlib Agg): formats, languages, labels, suppression."""

from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import BoundarySet, compute_coverage, parse_period, render_map

matplotlib = pytest.importorskip("matplotlib")

SET = BoundarySet("Xã 2025", date(2025, 7, 1), "test squares")
WHEN = datetime(2026, 9, 30, 17, 5)


@pytest.fixture
def coverage(areas):
    sessions = pd.DataFrame(
        {
            "commune": ["A", "A", "B"],
            "date": "2026-08-01",
            "n_total": 9,
            "n_women": 3,
            "n_girls": 1,
            "n_ethnic_minority": 2,
        }
    )
    cases = pd.DataFrame(
        {
            "commune": ["A"] * 3 + ["C"] * 6,
            "id_date": "2026-08-01",
            "all_needs_served": "yes",
        }
    )
    return compute_coverage(
        areas,
        parse_period("2026-Q3"),
        sessions=sessions,
        cases=cases,
        marked={"D": "chợ"},
    )


@pytest.fixture
def texts(monkeypatch):
    """Every string drawn on a figure or axes."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    seen: list[str] = []
    for cls in (Axes, Figure):
        original = cls.text

        def record(self, x, y, s, *args, _original=original, **kwargs):
            seen.append(str(s))
            return _original(self, x, y, s, *args, **kwargs)

        monkeypatch.setattr(cls, "text", record)
    set_title = Axes.set_title

    def title(self, label, *args, **kwargs):
        seen.append(str(label))
        return set_title(self, label, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_title", title)
    return seen


def test_png_in_vietnamese_with_suppressed_labels(coverage, texts):
    border = gpd.GeoSeries([shapely.LineString([(0, 0), (0, 2)])], crs="EPSG:4326")
    png = render_map(coverage, boundary_set=SET, data_time=WHEN, border=border, dpi=40)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    joined = "\n".join(texts)
    assert (
        "Kỳ 2026-Q3" in joined and "30/09/2026 17:05" in joined and "Xã 2025" in joined
    )
    assert "<5 nạn nhân" in joined  # A has 3 victims
    assert "3 nạn nhân" not in joined and "6 nạn nhân" in joined
    assert "Xã Đ: giám sát viên đánh dấu (chợ) · 0" in joined
    assert "VÙNG GẦN ĐÚNG" not in joined


def test_pdf_in_english_for_an_approximate_set(coverage, texts):
    approx = BoundarySet("Voronoi", date(2025, 7, 1), "points", approximate=True)
    pdf = render_map(
        coverage.by_commune,
        period="2026-Q3",
        boundary_set=approx,
        data_time=WHEN,
        lang="en",
        fmt="pdf",
    )
    assert pdf.startswith(b"%PDF")
    joined = "\n".join(texts)
    assert "APPROXIMATE AREAS" in joined and "Period 2026-Q3" in joined
    assert "Plan indicators" not in joined  # a bare table carries no indicators


def test_remote_units_go_to_an_inset(areas, texts):
    far = gpd.GeoDataFrame(
        {"code": ["Z"], "name": ["Đảo"]},
        geometry=[shapely.box(30, 30, 30.5, 30.5)],
        crs="EPSG:4326",
    )
    cov = compute_coverage(
        pd.concat([areas, far], ignore_index=True), parse_period("2026")
    )
    render_map(cov, boundary_set=SET, data_time=WHEN, dpi=40)
    assert any("khung phụ" in t for t in texts)
    assert "Đảo" in texts


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"lang": "fr"}, ValueError), ({"fmt": "svg"}, ValueError)],
    ids=["language", "format"],
)
def test_bad_options(coverage, kwargs, error):
    with pytest.raises(error):
        render_map(coverage, boundary_set=SET, data_time=WHEN, **kwargs)


def test_a_bare_table_needs_a_period(coverage):
    with pytest.raises(ValueError, match="period"):
        render_map(coverage.by_commune, boundary_set=SET, data_time=WHEN)
