"""Which territories are neighbours: the contiguity that spatial smoothing and hot-spot statistics use.

Two territories of the same level are neighbours when their full-resolution boundaries
(``territory_geometry``, not the simplified display copy) touch or come within
``TOLERANCE_DEG`` of each other (about 11 m): official boundary files often leave slivers
between municipalities that share a border. This is «queen» contiguity (a shared corner is
enough), the default of GeoDa and PySAL. A territory without a neighbour (an island) is kept
apart: the spatial statistics do not apply to it, and the pages say so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from core import warehouse

TOLERANCE_DEG = 1e-4
DEFINITION = ("Dos territorios son vecinos si sus límites se tocan, aunque sea en un punto (contigüidad tipo "
              "reina), con una tolerancia de unos 11 m para los huecos de los archivos de límites.")


@warehouse.cached
def neighbours(level: str = "municipio") -> dict[str, tuple[str, ...]]:
    """Each territory of the level (by code, those with a geometry) and its neighbours, in code order."""
    df = warehouse.query("""
        SELECT g.code, g.wkb FROM territory_geometry g JOIN territory t ON t.code = g.code
        WHERE t.level = ? ORDER BY g.code
    """, [level])
    if df.empty:
        return {}
    codes = df["code"].to_numpy()
    geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]])
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=TOLERANCE_DEG)
    keep = left != right
    pairs = pd.DataFrame({"a": codes[left[keep]], "b": codes[right[keep]]}).sort_values(["a", "b"])
    found = {a: tuple(g["b"]) for a, g in pairs.groupby("a", sort=True)}
    return {c: found.get(c, ()) for c in codes}


def adjacency(codes, level: str = "municipio") -> np.ndarray:
    """Binary contiguity matrix (0/1, no diagonal) among ``codes``, in their order: neighbours outside
    ``codes`` are left out."""
    codes = list(codes)
    hood = neighbours(level)
    where = {c: i for i, c in enumerate(codes)}
    pairs = [(i, j) for i, code in enumerate(codes) for other in hood.get(code, ()) if (j := where.get(other)) is not None]
    matrix = np.zeros((len(codes), len(codes)))
    if pairs:
        rows, cols = zip(*pairs)
        matrix[list(rows), list(cols)] = 1.0
    return matrix
