"""The yearly cube held in memory: the victims (or hechos) of any filter, grouped by any of its
columns, without a query.

Every rate of the dashboard counts the rows of ``incident_year_cube`` that a set of filters
selects (years, crime groups or types, sexes, age groups, department, unit), grouped by
municipality, department or year. A query per filter costs 15-100 ms at 13 million records on a
laptop, and the priority index alone asks for four filters. The counted rows of the cube
(480,000 at that scale, once per published warehouse) are held instead as small integer codes
with their ``n`` and ``ck``: a filter is a lookup per column and a group-by is a ``bincount``,
a few milliseconds whatever the filter.

``sums`` gives exactly what ``SELECT <by>, sum(n), sum(ck) FROM incident_year_cube WHERE
<Filters.where('cube')> GROUP BY <by> ORDER BY <by>`` gives (tested against that query): the same
rows, the same order, the same sums, a NULL value as its own group. The sums of record keys
stay far below 2^53, so their float sums are exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import warehouse
from core.filters import Filters

COLUMNS = ("year", "dept_code", "muni_code", "crime_type", "crime_group", "victim_sex", "age_group", "source", "unit")


@dataclass(frozen=True)
class _Column:
    codes: np.ndarray   # int32 code of each row; the last code is NULL
    labels: np.ndarray  # object array: the value of each code (None for the last)

    def lookup(self, values) -> np.ndarray:
        """Boolean per code: True for the codes of ``values`` (NULL never matches, as in SQL)."""
        wanted = set(values)
        return np.array([label in wanted for label in self.labels[:-1]] + [False])


@dataclass(frozen=True)
class YearCube:
    columns: dict[str, _Column]
    n: np.ndarray   # float64, exact
    ck: np.ndarray  # float64, exact


@warehouse.cached
def load() -> YearCube:
    """The counted rows of ``incident_year_cube``, once per published warehouse."""
    df = warehouse.query(f"SELECT {', '.join(COLUMNS)}, n, ck FROM incident_year_cube WHERE counted")
    columns = {}
    for name in COLUMNS:
        cat = pd.Categorical(df[name])
        codes = cat.codes.astype("int32")
        codes[codes < 0] = len(cat.categories)
        labels = np.array(list(cat.categories) + [None], dtype=object)
        columns[name] = _Column(codes, labels)
    return YearCube(columns, df["n"].to_numpy(dtype="float64"), df["ck"].to_numpy(dtype="float64"))


def _mask(cube: YearCube, f: Filters) -> np.ndarray:
    """The rows ``f.where('cube')`` selects (the cube in memory holds counted rows only)."""
    year = cube.columns["year"]
    years = year.labels[:-1]
    keep_year = np.array([(f.year_from is None or y >= f.year_from) and (f.year_to is None or y <= f.year_to)
                          for y in years] + [False])
    mask = keep_year[year.codes]
    for column, values in (("crime_group", f.crime_groups), ("crime_type", f.crime_types), ("victim_sex", f.sexes),
                           ("age_group", f.age_groups), ("dept_code", (f.dept_code,) if f.dept_code else ()),
                           ("unit", (f.unit,))):
        if values:
            col = cube.columns[column]
            mask &= col.lookup(values)[col.codes]
    return mask


def sums(f: Filters, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Columns ``by`` + n, ck (int64): one row per group with at least one selected row, ordered by
    the group values (NULL last); with ``by`` empty, one row (zeros when nothing is selected)."""
    unknown = [c for c in by if c not in COLUMNS]
    if unknown:
        raise ValueError(f"columnas desconocidas del cubo anual: {unknown}")
    cube = load()
    mask = _mask(cube, f)
    if not by:
        return pd.DataFrame({"n": [int(cube.n[mask].sum())], "ck": [int(cube.ck[mask].sum())]})
    cols = [cube.columns[c] for c in by]
    sizes = tuple(len(c.labels) for c in cols)
    flat = np.ravel_multi_index(tuple(c.codes[mask] for c in cols), sizes)
    total = int(np.prod(sizes))
    rows = np.bincount(flat, minlength=total)
    present = np.flatnonzero(rows)
    n = np.bincount(flat, weights=cube.n[mask], minlength=total)[present]
    ck = np.bincount(flat, weights=cube.ck[mask], minlength=total)[present]
    positions = np.unravel_index(present, sizes)
    out = {name: col.labels[pos] for name, col, pos in zip(by, cols, positions)}
    if "year" in out:
        out["year"] = out["year"].astype("int64")
    return pd.DataFrame({**out, "n": n.astype("int64"), "ck": ck.astype("int64")})
