"""Errors of the geo library; each has a stable ``code`` and one message template.

The server maps these to HTTP statuses in one place (``server/errors.py``); the library
never knows about HTTP. ``code`` strings are part of the API: do not rename them.
"""

from __future__ import annotations

import typing as t

__all__ = [
    "BoundaryReadError",
    "CRSError",
    "CrosswalkError",
    "DependencyError",
    "DuplicateCodeError",
    "GeoError",
    "GeometryTypeError",
    "InvalidGeometryError",
    "InvalidGeopointError",
    "InvalidPeriodError",
    "MissingColumnError",
    "MissingFieldError",
    "OfficialPointsError",
    "VictimLocationError",
]


class GeoError(Exception):
    """Base class for geo errors."""

    code: t.ClassVar[str] = "geo.error"
    template: t.ClassVar[str] = "Geographic data could not be processed."

    def __init__(self, **context: t.Any) -> None:
        self.context = context
        super().__init__(self.template.format(**context))

    @property
    def message(self) -> str:
        """The user-facing message."""
        return str(self)


class BoundaryReadError(GeoError):
    """The file cannot be opened or holds no readable layer."""

    code = "geo.boundary_unreadable"
    template = "Could not read {path}: {reason}"


class MissingFieldError(GeoError):
    """A field named in the import options is not in the layer."""

    code = "geo.field_missing"
    template = "The layer has no field {field!r} (fields: {available})."


class MissingColumnError(GeoError):
    """An input table lacks a column the computation needs."""

    code = "geo.column_missing"
    template = "The {table} table needs the column(s) {missing}."


class CRSError(GeoError):
    """The layer has no coordinate reference system and none was given."""

    code = "geo.crs_missing"
    template = (
        "{what} has no coordinate reference system; pass crs= (e.g. 'EPSG:4326')."
    )


class GeometryTypeError(GeoError):
    """The layer holds the wrong kind of geometry (e.g. points for communes)."""

    code = "geo.geometry_type"
    template = "Expected {expected} geometries, found {found}."


class InvalidGeometryError(GeoError):
    """Invalid geometries were found and repair was not requested."""

    code = "geo.geometry_invalid"
    template = (
        "{count} invalid geometries ({examples}); import with repair=True to fix them."
    )


class DuplicateCodeError(GeoError):
    """Two different units share one code."""

    code = "geo.code_duplicate"
    template = "The code {code!r} is used by {names}."


class InvalidGeopointError(GeoError):
    """A value is not an ODK geopoint ``"lat lon [alt [acc]]"``."""

    code = "geo.geopoint_invalid"
    template = "Not an ODK geopoint ('lat lon alt acc'): {value!r}."


class InvalidPeriodError(GeoError):
    """A period string is not ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``."""

    code = "geo.period_invalid"
    template = "Not a period (use 2026, 2026-Q3 or 2026-07): {value!r}."


class CrosswalkError(GeoError):
    """The old-to-new code table is malformed or contradicts itself."""

    code = "geo.crosswalk_invalid"
    template = "Crosswalk: {reason}"


class OfficialPointsError(GeoError):
    """The official commune points (vietnamadminunits) cannot be read."""

    code = "geo.official_points_unavailable"
    template = "Official commune points are unavailable: {reason}"


class VictimLocationError(GeoError):
    """Victim records arrived with a location finer than a commune code."""

    code = "geo.victim_location"
    template = (
        "Victim records may carry a commune code only, never a geometry or "
        "coordinates (found {found})."
    )


class DependencyError(GeoError):
    """An optional package is needed for this output."""

    code = "geo.dependency_missing"
    template = "{package} is required for {what}; install it (pip install {package})."
