"""Geometry preparation for the warehouse: validity, display simplification, GeoJSON.

Full geometries are kept (as WKB) for spatial joins; the display copy is simplified as a
coverage (shared borders stay shared), rounded to 1e-4 degrees and serialised compactly.
"""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

DISPLAY_DECIMALS = 4
# A national layer (all municipalities, or all departments) stays under this many vertices.
# Measured in headless Chromium with software WebGL (SwiftShader, 2 cores): at 4,500 vertices
# a click on the map still reaches Streamlit; at 6,000 the picking done on mouse-down takes
# longer than deck.gl's tap window and clicks are lost. Laptops with a GPU have ample margin.
NATIONAL_VERTEX_BUDGET = 4_000


def repair(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Make every geometry valid, keeping only its polygonal part."""
    fixed = shapely.make_valid(geoms.values)
    fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
    return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs)


def _polygonal(geom):
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom


def vertex_count(geoms) -> int:
    return int(shapely.get_num_coordinates(np.asarray(geoms)).sum())


def simplify_for_display(geoms: gpd.GeoSeries, max_vertices: int = NATIONAL_VERTEX_BUDGET) -> np.ndarray:
    """Coverage-simplify a layer so that it has at most ``max_vertices`` vertices in total.

    Neighbouring polygons keep identical shared edges (no gaps or slivers on the map).
    Returns an array of geometries rounded to ``DISPLAY_DECIMALS``.
    """
    values = np.asarray(geoms.values)
    if vertex_count(values) <= max_vertices:
        return _round(values)
    lo, hi = 0.0, 0.05  # degrees
    best = shapely.coverage_simplify(values, hi)
    for _ in range(18):
        mid = (lo + hi) / 2
        candidate = shapely.coverage_simplify(values, mid)
        if vertex_count(candidate) <= max_vertices:
            best, hi = candidate, mid
        else:
            lo = mid
    return _round(best)


def _round(values: np.ndarray) -> np.ndarray:
    rounded = shapely.transform(values, lambda xy: np.round(xy, DISPLAY_DECIMALS))
    out = []
    for original, geom in zip(values, rounded):
        if geom.is_empty or not geom.is_valid:
            geom = shapely.make_valid(geom)
            geom = _polygonal(geom)
        out.append(geom if not geom.is_empty else original)
    return np.array(out, dtype=object)


def to_geojson(geom) -> str:
    """Compact GeoJSON geometry string (no spaces)."""
    return json.dumps(json.loads(shapely.to_geojson(geom)), separators=(",", ":"))


def equal_area_km2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Areas in km2 on a Lambert azimuthal equal-area projection centred on the layer."""
    minx, miny, maxx, maxy = geoms.total_bounds
    crs = f"+proj=laea +lat_0={(miny + maxy) / 2:.4f} +lon_0={(minx + maxx) / 2:.4f} +units=m"
    return (geoms.to_crs(crs).area / 1e6).to_numpy()


def territory_frame(layer: gpd.GeoDataFrame, level: str, max_vertices: int | None,
                    tolerance_deg: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for ``territory`` and ``territory_geometry`` from a layer with columns
    code, name, parent_code, dept_code, geometry (WGS84, valid).

    The display geometry is coverage-simplified to ``max_vertices`` for the whole layer, or
    simplified polygon by polygon with ``tolerance_deg`` (layers drawn a few at a time, such
    as aldeas), or only rounded. Areas and centroids always come from the full geometry."""
    geoms = layer.geometry
    if max_vertices:
        display = simplify_for_display(geoms, max_vertices)
    elif tolerance_deg:
        display = _round(shapely.simplify(np.asarray(geoms.values), tolerance_deg, preserve_topology=True))
    else:
        display = _round(np.asarray(geoms.values))
    points = shapely.point_on_surface(np.asarray(geoms.values))
    territory = pd.DataFrame({
        "code": layer["code"].astype(str).to_numpy(),
        "level": level,
        "name": layer["name"].astype(str).to_numpy(),
        "parent_code": layer["parent_code"].to_numpy(),
        "dept_code": layer["dept_code"].astype(str).to_numpy(),
        "centroid_lon": np.round(shapely.get_x(points), 5),
        "centroid_lat": np.round(shapely.get_y(points), 5),
        "area_km2": np.round(equal_area_km2(geoms), 2),
        "geojson": [to_geojson(g) for g in display],
    })
    geometry = pd.DataFrame({
        "code": territory["code"],
        "wkb": shapely.to_wkb(np.asarray(geoms.values)),
    })
    return territory, geometry
