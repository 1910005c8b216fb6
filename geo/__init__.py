"""Pure geospatial library (boundaries, coverage, rendering); filled in by the coverage issue."""

__all__: list[str] = []
