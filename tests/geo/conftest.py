"""Geo test helpers: tiny squares built inline, and the shared real data (read-only)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[2]
SHARED_ENV = "OUTREACH_SHARED_DATA"


def shared_data_dir() -> Path:
    """``$OUTREACH_SHARED_DATA``, else ``../shared/data`` next to the project."""
    return Path(os.environ.get(SHARED_ENV) or ROOT.parent / "shared" / "data")


def square(x: float, y: float, size: float = 1.0) -> shapely.Polygon:
    """The axis-aligned square with lower-left corner (x, y)."""
    return shapely.box(x, y, x + size, y + size)


def grid(
    crs: str = "EPSG:4326", size: float = 1.0, origin=(0.0, 0.0)
) -> gpd.GeoDataFrame:
    """Four communes in a 2 x 2 grid: A (lower left), B (lower right), C, D (top)."""
    x, y = origin
    cells = [(x, y), (x + size, y), (x, y + size), (x + size, y + size)]
    return gpd.GeoDataFrame(
        {"code": ["A", "B", "C", "D"], "name": ["Xã A", "Xã B", "Xã C", "Xã Đ"]},
        geometry=[square(cx, cy, size) for cx, cy in cells],
        crs=crs,
    )


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    """2 x 2 unit squares in EPSG:4326 near (0, 0)."""
    return grid()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared boundary data folder; skips when it is absent."""
    path = shared_data_dir()
    if not (path / "danang2025_communes_simplified.geojson").is_file():
        pytest.skip(
            f"shared boundary data not found at {path} "
            f"(set {SHARED_ENV} to the folder with danang2025_communes*.geojson)"
        )
    return path
