"""School prioritisation: which schools (centros educativos) carry the most risk factors?

    score_s = 100 x sum_c (w_c x p_sc) / sum_c w_c      (c over the components available for s)

- p_sc: share of the schools shown whose value of component c is lower than school s's
  (0 = the lowest, 1 = above all others). Percentiles, not min-max, because victim counts near
  schools are very skewed: a few urban schools would otherwise flatten everyone else to zero.
- A component is a **risk factor present** when the school is in the top quarter (p >= 0.75)
  and its value is above zero.
- Victims near a school come from ``school_exposure`` (precomputed at load time with
  great-circle distances; counted victims only). Of the shared filters only the period and the
  department apply: the components have fixed definitions.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core import composite, disclosure, fmt, rates, vulnerability, warehouse
from core.filters import Filters, filter_options

FACTOR_PERCENTILE = 0.75


@dataclass(frozen=True)
class Component:
    key: str
    name: str
    definition: str
    default_weight: int  # 0-100; only the proportions between weights matter


COMPONENTS = (
    Component("v100", "Víctimas a menos de 100 m", "Víctimas de cualquier delito registradas a menos de 100 m.", 10),
    Component("v500", "Víctimas a menos de 500 m", "Víctimas de cualquier delito a menos de 500 m.", 10),
    Component("v1000", "Víctimas a menos de 1 km", "Víctimas de cualquier delito a menos de 1 km.", 5),
    Component("jov500", "Víctimas de 10 a 19 años a menos de 500 m",
              "Víctimas con edad registrada de 10 a 19 años, de cualquier delito, a menos de 500 m.", 20),
    Component("sex500", "Violencia sexual a menos de 500 m", "Víctimas de violación y otras agresiones sexuales.", 10),
    Component("dro500", "Drogas a menos de 500 m", "Hechos de narcomenudeo a menos de 500 m.", 10),
    Component("pat500", "Delitos contra el patrimonio a menos de 500 m",
              "Víctimas de robo, hurto, robo de vehículos y extorsión a menos de 500 m.", 5),
    Component("aldea", "Tasa de la aldea", "Víctimas por 100,000 habitantes de la aldea de la escuela en el periodo "
              "(suavizada por Bayes empírico entre aldeas). Sin dato si la aldea no tiene población.", 10),
    Component("muni", "Tasa del municipio", "Víctimas por 100,000 habitantes del municipio (suavizada).", 5),
    Component("vuln", "Vulnerabilidad del municipio", vulnerability.DEFINITION, 15),
)
KEYS = tuple(c.key for c in COMPONENTS)
NEAR_KEYS = ("v100", "v500", "v1000", "jov500", "sex500", "dro500", "pat500")  # counts below the municipality
_NEAR = {  # component -> (radius in metres, crime group or None for all, column)
    "v100": (100, None, "victims"), "v500": (500, None, "victims"), "v1000": (1000, None, "victims"),
    "jov500": (500, None, "victims_10_19"), "sex500": (500, "Violencia sexual", "victims"),
    "dro500": (500, "Drogas", "victims"), "pat500": (500, "Delitos contra el patrimonio", "victims"),
}


def default_weights() -> dict[str, float]:
    return {c.key: c.default_weight for c in COMPONENTS}


@dataclass(frozen=True)
class SchoolOptions:
    levels: tuple[str, ...]
    sectors: tuple[str, ...]


@warehouse.cached
def options() -> SchoolOptions:
    df = warehouse.query("SELECT DISTINCT level, sector FROM school")
    order = {"Preprimaria": 0, "Primaria": 1, "Básico": 2, "Diversificado": 3}
    return SchoolOptions(tuple(sorted(df["level"].unique(), key=lambda v: (order.get(v, 9), v))),
                         tuple(sorted(df["sector"].unique())))


@warehouse.cached
def school_list(dept_code: str | None = None, muni_code: str | None = None,
                levels: tuple[str, ...] = (), sectors: tuple[str, ...] = ()) -> pd.DataFrame:
    """Schools in scope. Columns: school_code, name, level, sector, enrollment, lon, lat, muni_code,
    municipality, dept_code, department, aldea_code, aldea."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if dept_code:
        clauses.append("m.dept_code = ?")
        params.append(dept_code)
    if muni_code:
        clauses.append("s.muni_code = ?")
        params.append(muni_code)
    if levels:
        clauses.append("s.level IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(levels))
    if sectors:
        clauses.append("s.sector IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(sectors))
    return warehouse.query(f"""
        SELECT s.school_code, s.name, s.level, s.sector, s.enrollment, s.lon, s.lat,
               s.muni_code, m.name AS municipality, m.dept_code, d.name AS department,
               s.aldea_code, a.name AS aldea
        FROM school s
        JOIN territory m ON m.code = s.muni_code AND m.level = 'municipio'
        JOIN territory d ON d.code = m.dept_code AND d.level = 'departamento'
        LEFT JOIN territory a ON a.code = s.aldea_code AND a.level = 'aldea'
        WHERE {" AND ".join(clauses)}
        ORDER BY s.school_code
    """, params)


GEOCODING_WARNING_BELOW = 90.0  # % of a source's counted victims with coordinates


@warehouse.cached
def geocoding(year_from: int, year_to: int) -> pd.DataFrame:
    """How many of each institution's counted victims of the period have coordinates: the exposure
    around schools counts only those. Columns: source, institution, victims, geocoded, percent."""
    return warehouse.query("""
        SELECT i.source, s.institution, sum(i.victims)::BIGINT AS victims,
               coalesce(sum(i.victims) FILTER (WHERE i.lon IS NOT NULL AND i.lat IS NOT NULL), 0)::BIGINT AS geocoded,
               100.0 * coalesce(sum(i.victims) FILTER (WHERE i.lon IS NOT NULL AND i.lat IS NOT NULL), 0)
                   / nullif(sum(i.victims), 0) AS percent
        FROM incident i JOIN source s ON s.source = i.source
        WHERE i.counted AND i.victims > 0 AND year(i.occurred_on) BETWEEN ? AND ?
        GROUP BY ALL ORDER BY i.source
    """, [year_from, year_to])


def geocoding_warning(year_from: int, year_to: int, name=str) -> str | None:
    """A warning when some institution geocodes less than GEOCODING_WARNING_BELOW % of its victims (the
    exposure then undercounts where that institution records), or None. ``name`` writes an
    institution's name (a page passes ``fmt.literal_markdown``: names come from the data)."""
    table = geocoding(year_from, year_to)
    if table.empty or (table["percent"].fillna(0) >= GEOCODING_WARNING_BELOW).all():
        return None
    parts = ", ".join(f"{name(r.institution)} {fmt.percent(r.percent, 0)}" for r in table.itertuples())
    return ("Las víctimas cerca de cada centro cuentan solo las que tienen coordenadas, y no todas las instituciones "
            f"las registran por igual (víctimas con coordenadas en {year_from}–{year_to}: {parts}). Donde una "
            "institución geocodifica poco, la exposición de los centros queda por debajo de la real: compare los "
            "centros con cautela entre zonas atendidas por instituciones distintas.")


@warehouse.cached
def exposure(year_from: int, year_to: int) -> pd.DataFrame:
    """Victims near every school in the years, one column per proximity component (index: school_code)."""
    columns, params = [], []
    for key, (radius, group, column) in _NEAR.items():
        condition = "radius_m = ?" + (" AND crime_group = ?" if group else "")
        params += [radius] + ([group] if group else [])
        key_column = column.replace("victims", "ck")
        columns.append(f"coalesce(sum(e.{column}) FILTER (WHERE {condition}), 0)::BIGINT AS {key}, "
                       f"coalesce(sum(e.{key_column}) FILTER (WHERE {condition}), 0)::BIGINT AS ck_{key}")
        params += [radius] + ([group] if group else [])
    return disclosure.published(warehouse.query(f"""
        SELECT s.school_code, {", ".join(columns)}
        FROM school s LEFT JOIN school_exposure e
          ON e.school_code = s.school_code AND e.year BETWEEN ? AND ?
        GROUP BY s.school_code ORDER BY s.school_code
    """, params + [year_from, year_to]), {key: f"ck_{key}" for key in _NEAR}).set_index("school_code")


@warehouse.cached
def aldea_rates(f: Filters) -> pd.DataFrame:
    """Every aldea with population: code, n (counted victims of the period), population
    (person-years), rate and rate_eb per 100,000."""
    f = f.resolved(filter_options())
    counts = disclosure.published(warehouse.query("""
        SELECT aldea_code AS code, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_aldea_cube
        WHERE counted AND unit = 'victimas' AND aldea_code IS NOT NULL AND year BETWEEN ? AND ?
        GROUP BY aldea_code
    """, [f.year_from, f.year_to]))
    df = rates.aldea_person_years(f.year_from, f.year_to)[["code", "population"]].merge(counts, on="code", how="left")
    df["n"] = df["n"].fillna(0).astype("int64")
    df["rate"] = [rates.rate(n, p) for n, p in zip(df["n"], df["population"])]
    df["rate_eb"] = rates.eb_smooth(df["n"], df["population"])
    return df


@dataclass(frozen=True)
class RiskResult:
    table: pd.DataFrame          # see risk()
    weights: dict[str, float]    # normalised to sum 1 over the components with a positive weight
    notes: tuple[str, ...]


def risk(f: Filters, muni_code: str | None = None, levels: Sequence[str] = (), sectors: Sequence[str] = (),
         weights: Mapping[str, float] | None = None) -> RiskResult:
    """Score, rank, class inputs and explanation of every school in scope.

    Table columns: the ``school_list`` columns; for each component ``key``: ``key`` (value),
    ``key_p`` (percentile 0..1), ``key_pts`` (points of the score), ``key_factor`` (bool);
    then score (0-100), rank (1 = most at risk), factors (number of risk factors present).
    """
    w = default_weights() if weights is None else {k: float(weights.get(k, 0.0)) for k in KEYS}
    if any(v < 0 or not math.isfinite(v) for v in w.values()):
        raise ValueError("los pesos deben ser números no negativos")
    if sum(w.values()) <= 0:
        raise ValueError("al menos un componente debe tener un peso mayor que cero")
    scope = Filters(year_from=f.year_from, year_to=f.year_to, dept_code=f.dept_code).resolved(filter_options())
    return _risk(scope, muni_code, tuple(levels), tuple(sectors), tuple(w.items()))


@warehouse.cached
def _risk(f: Filters, muni_code: str | None, levels: tuple[str, ...], sectors: tuple[str, ...],
          weights: tuple[tuple[str, float], ...]) -> RiskResult:
    w = dict(weights)
    schools = school_list(f.dept_code, muni_code, levels, sectors)
    near = exposure(f.year_from, f.year_to).reindex(schools["school_code"]).fillna(0).astype("int64")
    aldeas = aldea_rates(f).set_index("code")
    # the school score is about victims whatever unit the sidebar shows
    munis = rates.by_municipality(replace(f, dept_code=None, unit="victimas")).set_index("code")["rate_eb"]
    vul = vulnerability.composite(f.dept_code).set_index("code")[vulnerability.COMPOSITE]
    values = {key: near[key].to_numpy() for key in _NEAR}
    values["aldea"] = schools["aldea_code"].map(aldeas["rate_eb"]).to_numpy(dtype="float64")
    values["muni"] = schools["muni_code"].map(munis).to_numpy(dtype="float64")
    values["vuln"] = schools["muni_code"].map(vul).to_numpy(dtype="float64")
    columns = {**values, "aldea_n": schools["aldea_code"].map(aldeas["n"]).to_numpy()}  # behind the aldea rate
    for key in KEYS:
        value = pd.Series(values[key], dtype="float64")
        p = composite.percentile_below(value).to_numpy()
        columns[f"{key}_p"] = p
        columns[f"{key}_factor"] = (p >= FACTOR_PERCENTILE) & (value.to_numpy() > 0)
    points, score = composite.weighted_points({key: columns[f"{key}_p"] for key in KEYS}, w)
    columns |= {f"{key}_pts": values for key, values in points.items()}
    columns["score"] = score
    # the component "aldea" is the aldea's rate: its name is kept as aldea_name
    schools = schools.rename(columns={"aldea": "aldea_name"})
    table = pd.concat([schools.drop(columns=[c for c in columns if c in schools]).reset_index(drop=True),
                       pd.DataFrame(columns)], axis=1)
    table["rank"] = table["score"].rank(ascending=False, method="min").astype("Int64")
    table["factors"] = np.column_stack([columns[f"{k}_factor"] for k in KEYS if w[k] > 0]).sum(axis=1).astype("int64")
    notes = []
    if table["aldea"].isna().any() and w["aldea"] > 0:
        notes.append(f"{int(table['aldea'].isna().sum())} centro(s) sin tasa de aldea (sin aldea o sin población): "
                     "su puntaje se calcula con los demás componentes.")
    total = sum(w.values())
    return RiskResult(table, {k: v / total for k, v in w.items() if v > 0}, tuple(notes))
