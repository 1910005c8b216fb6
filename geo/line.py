"""Line layers (an international border): import and reproject to EPSG:4326."""

from __future__ import annotations

import geopandas as gpd

from geo.boundary import PathLike, _read, _to_wgs84
from geo.errors import GeometryTypeError

__all__ = ["prepare_lines", "read_lines"]


def read_lines(
    source: PathLike, *, layer: str | int | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """Read a line layer (e.g. an international border) into EPSG:4326.

    Parameters
    ----------
    source : path or binary file
        GeoJSON, GeoPackage or Shapefile (via pyogrio).
    layer : str or int, optional
        Layer of a multi-layer source.
    crs : str, optional
        CRS to assume when the file declares none.

    Returns
    -------
    GeoDataFrame
        LineString/MultiLineString rows, attributes kept. Polygons are accepted
        too and turned into their boundary lines.

    Raises
    ------
    BoundaryReadError, CRSError, GeometryTypeError
    """
    return prepare_lines(_read(source, layer), crs=crs)


def prepare_lines(
    frame: gpd.GeoDataFrame, *, crs: str | None = None
) -> gpd.GeoDataFrame:
    """Check and reproject an in-memory line layer; see :func:`read_lines`.

    Parameters
    ----------
    frame : GeoDataFrame
        Lines (or polygons, whose edges are used).
    crs : str, optional
        CRS to assume when the frame has none.

    Returns
    -------
    GeoDataFrame
        Non-empty LineString/MultiLineString rows in EPSG:4326, attributes kept.
    """
    frame = _to_wgs84(frame, crs, "The line layer")
    frame = frame.loc[~(frame.geometry.isna() | frame.geometry.is_empty)].copy()
    kinds = set(frame.geom_type)
    if kinds & {"Polygon", "MultiPolygon"}:
        frame[frame.geometry.name] = frame.geometry.boundary
        kinds = set(frame.geom_type)
    if not kinds or not kinds <= {"LineString", "MultiLineString"}:
        raise GeometryTypeError(
            expected="LineString", found=", ".join(sorted(kinds)) or "none"
        )
    return frame.reset_index(drop=True)
