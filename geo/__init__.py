"""Pure geospatial library: boundary sets, commune assignment, coverage, maps.

No Flask, SQLAlchemy or server imports (``tests/test_layering.py``): functions take
GeoDataFrames or plain tables and return GeoDataFrames, dataclasses or bytes. The
only IO is in the explicit readers (``read_*``); writers return bytes.
"""

from geo.approximate import (
    approximate_areas,
    approximate_boundary_set,
    read_official_points,
)
from geo.assign import REVIEW_REASONS, Assignment, assign_sessions, locate_points
from geo.boundary import (
    BoundaryImport,
    BoundarySet,
    GeometryIssue,
    commune_neighbours,
    prepare_boundaries,
    read_boundaries,
)
from geo.coverage import COUNT_COLUMNS, Coverage, compute_coverage
from geo.crosswalk import (
    Crosswalk,
    CrosswalkEntry,
    build_crosswalk,
    read_crosswalk,
    recode,
)
from geo.errors import (
    BoundaryReadError,
    CrosswalkError,
    CRSError,
    DependencyError,
    DuplicateCodeError,
    GeoError,
    GeometryTypeError,
    InvalidGeometryError,
    InvalidGeopointError,
    InvalidPeriodError,
    MissingColumnError,
    MissingFieldError,
    OfficialPointsError,
    VictimLocationError,
)
from geo.export import (
    VICTIM_COLUMNS,
    coverage_csv,
    indicators_csv,
    public_indicator,
    suppress_count,
    suppress_small_counts,
    to_geojson,
)
from geo.indicator import INDICATORS, Indicator, plan_indicators
from geo.line import prepare_lines, read_lines
from geo.period import Period, parse_period
from geo.points import Geopoint, parse_geopoint, parse_geopoints, points_gdf
from geo.render import render_map
from geo.risk import REASONS, border_communes, high_risk

__all__ = [
    "COUNT_COLUMNS",
    "INDICATORS",
    "REASONS",
    "REVIEW_REASONS",
    "VICTIM_COLUMNS",
    "Assignment",
    "BoundaryImport",
    "BoundaryReadError",
    "BoundarySet",
    "CRSError",
    "Coverage",
    "Crosswalk",
    "CrosswalkEntry",
    "CrosswalkError",
    "DependencyError",
    "DuplicateCodeError",
    "GeoError",
    "GeometryIssue",
    "GeometryTypeError",
    "Geopoint",
    "Indicator",
    "InvalidGeometryError",
    "InvalidGeopointError",
    "InvalidPeriodError",
    "MissingColumnError",
    "MissingFieldError",
    "OfficialPointsError",
    "Period",
    "VictimLocationError",
    "approximate_areas",
    "approximate_boundary_set",
    "assign_sessions",
    "border_communes",
    "build_crosswalk",
    "commune_neighbours",
    "compute_coverage",
    "coverage_csv",
    "high_risk",
    "indicators_csv",
    "locate_points",
    "parse_geopoint",
    "parse_geopoints",
    "parse_period",
    "plan_indicators",
    "points_gdf",
    "prepare_boundaries",
    "prepare_lines",
    "public_indicator",
    "read_boundaries",
    "read_crosswalk",
    "read_lines",
    "read_official_points",
    "recode",
    "render_map",
    "suppress_count",
    "suppress_small_counts",
    "to_geojson",
]
