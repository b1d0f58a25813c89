"""Fair baselines: the core against a competent analyst's pandas and against bare DuckDB on the same table.

For each aggregation, five timings (median over the repetitions, as after a change of filters:
the results that do not depend on the filters are cached, see ``run.time_calls``):

- **núcleo**: the core function the page calls (it also computes the interval and the smoothed
  rates, which the baselines do not);
- **pandas, registros**: the incident rows already in memory with categorical columns, the year,
  the crime group, the weekday and the hour derived once when loading (not timed), then a boolean
  mask and a group-by per call;
- **pandas, cubo**: the same on the counted rows of the yearly cube the core reads (categoricals);
- **DuckDB, registros** and **DuckDB, cubo**: one SQL statement with the counts, the person-years
  and the rate, on the incident table and on the yearly cube.

The counts of every version are checked equal (internal mode: exact counts) and the rates close.
Goals: the core >= 20 times faster than pandas on the records, and at most 1.5 times the time
of bare DuckDB on the table the core reads.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from core import municipality, rates, warehouse
from core.filters import Filters

PANDAS_GOAL = 20.0
DUCKDB_GOAL = 1.5


def _median_ms(fn: Callable[[], Any], repeat: int, reset: Callable[[], None]) -> float:
    reset()
    fn()
    times = []
    for _ in range(repeat):
        reset()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class Frames:
    """The incident rows and the counted yearly cube in memory, as an analyst would prepare them."""

    def __init__(self) -> None:
        con = warehouse.cursor()
        start = time.perf_counter()
        inc = con.execute("SELECT i.occurred_on, i.occurred_hour, i.dept_code, i.muni_code, i.crime_type, i.victim_sex, "
                          "i.age_group, i.victims, t.crime_group FROM incident i JOIN crime_type t ON t.code = i.crime_type "
                          "WHERE i.counted").df()
        cube = con.execute("SELECT year, dept_code, muni_code, crime_type, crime_group, victim_sex, age_group, n "
                           "FROM incident_year_cube WHERE counted AND unit = 'victimas'").df()
        con.close()
        for df in (inc, cube):
            for column in ("dept_code", "muni_code", "crime_type", "crime_group", "victim_sex", "age_group"):
                df[column] = df[column].astype("category")
        dates = pd.to_datetime(inc["occurred_on"])
        inc["year"] = dates.dt.year.astype("int16")
        inc["weekday"] = dates.dt.dayofweek.astype("int8")
        inc["hour"] = inc["occurred_hour"].fillna(-1).astype("int8")
        self.incident = inc.drop(columns=["occurred_on", "occurred_hour"])
        self.cube = cube
        self.load_s = time.perf_counter() - start
        self.memory_mb = (self.incident.memory_usage(deep=True).sum() + cube.memory_usage(deep=True).sum()) / 2**20
        pop = warehouse.query("SELECT p.code, p.year, p.sex, p.age_group, p.population FROM population p "
                              "JOIN territory t ON t.code = p.code AND t.level = 'municipio'")
        self.population = pop


def _mask(df: pd.DataFrame, f: Filters) -> np.ndarray:
    mask = ((df["year"] >= f.year_from) & (df["year"] <= f.year_to)).to_numpy().copy()
    for column, values in (("crime_group", f.crime_groups), ("crime_type", f.crime_types), ("victim_sex", f.sexes),
                           ("age_group", f.age_groups)):
        if values:
            mask &= df[column].isin(values).to_numpy()
    if f.dept_code:
        mask &= (df["dept_code"] == f.dept_code).to_numpy()
    return mask


def _population(frames: Frames, f: Filters, by_year: bool = False) -> pd.Series:
    """Person-years per municipality (or per year) with the rule of core.rates."""
    by_sex, by_age = rates.population_split()
    p = frames.population
    p = p[p["year"].between(f.year_from, f.year_to)]
    p = p[p["sex"].isin([s for s in f.sexes if s in ("H", "M")] or ["H", "M"])] if by_sex else p[p["sex"] == "T"]
    p = p[p["age_group"].isin([a for a in f.age_groups if a != "ND"])] if by_age and f.age_groups else (
        p if by_age else p[p["age_group"] == "total"])
    weighted = p["population"] * p["year"].map({y: rates.year_coverage(y) for y in range(f.year_from, f.year_to + 1)})
    return weighted.groupby(p["year"] if by_year else p["code"]).sum()


def _by_muni(n: pd.Series, population: pd.Series, f: Filters) -> pd.DataFrame:
    out = pd.DataFrame({"population": population})
    if f.dept_code:
        out = out[out.index.str.startswith(f.dept_code)]
    out["n"] = n.reindex(out.index).fillna(0).astype("int64")
    out["rate"] = out["n"] / out["population"] * rates.PER
    return out


def _sql_by_muni(table: str, f: Filters) -> str:
    where, _ = f.where("incident" if table == "incident" else "cube")
    measure = f.measure("incident" if table == "incident" else "cube")
    return f"""
        WITH c AS (SELECT muni_code, {measure} AS n FROM {table} WHERE {where} GROUP BY muni_code),
             p AS ({_sql_population(f, "p.code")})
        SELECT p.g AS muni_code, coalesce(c.n, 0) AS n, p.population, coalesce(c.n, 0) / p.population * 100000 AS rate
        FROM p LEFT JOIN c ON c.muni_code = p.g"""


def _sql_population(f: Filters, key: str) -> str:
    by_sex, by_age = rates.population_split()
    sexes = [s for s in f.sexes if s in ("H", "M")] or ["H", "M"]
    sex = f"p.sex IN ({', '.join(repr(s) for s in sexes)})" if by_sex else "p.sex = 'T'"
    ages = [a for a in f.age_groups if a != "ND"]
    age = (f"p.age_group IN ({', '.join(repr(a) for a in ages)})" if ages else "TRUE") if by_age else "p.age_group = 'total'"
    coverage = " ".join(f"WHEN {y} THEN {rates.year_coverage(y)}" for y in range(f.year_from, f.year_to + 1))
    dept = f" AND t.dept_code = '{f.dept_code}'" if f.dept_code else ""
    return (f"SELECT {key} AS g, sum(p.population * CASE p.year {coverage} END) AS population FROM population p "
            f"JOIN territory t ON t.code = p.code AND t.level = 'municipio' WHERE p.year BETWEEN {f.year_from} AND "
            f"{f.year_to} AND {sex} AND {age}{dept} GROUP BY {key}")


def cases(frames: Frames, all_: Filters, narrow: Filters, muni: str) -> list[dict[str, Any]]:
    """(name, core, pandas records, pandas cube, DuckDB records, DuckDB cube, check) for each aggregation."""
    con = warehouse.cursor()

    def duck(sql: str, params: list) -> Callable[[], pd.DataFrame]:
        return lambda: con.execute(sql, params).df()

    out = []
    for label, f in (("Víctimas y tasa por municipio, todo", all_), ("Víctimas y tasa por municipio, filtro", narrow)):
        _, inc_params = f.where("incident")
        _, cube_params = f.where("cube")

        def core(f=f):
            return rates.by_municipality.uncached(f)

        def pandas_records(f=f):
            rows = frames.incident[_mask(frames.incident, f)]
            return _by_muni(rows.groupby("muni_code", observed=True)["victims"].sum(), _population(frames, f), f)

        def pandas_cube(f=f):
            rows = frames.cube[_mask(frames.cube, f)]
            return _by_muni(rows.groupby("muni_code", observed=True)["n"].sum(), _population(frames, f), f)

        def same(results) -> bool:
            c = results[0].set_index("code")
            c = c[c["population"].notna()]
            for other in results[1:]:
                o = other.set_index("muni_code") if "muni_code" in other.columns else other
                o = o.reindex(c.index)
                if not (o["n"].astype("int64").to_numpy() == c["n"].to_numpy()).all():
                    return False
                if not np.allclose(o["rate"].astype("float64"), c["rate"].astype("float64")):
                    return False
            return True

        out.append({"name": label, "table": "incident_year_cube", "fns": {
            "core": core, "pandas_records": pandas_records, "pandas_cube": pandas_cube,
            "duckdb_records": duck(_sql_by_muni("incident", f), inc_params),
            "duckdb_cube": duck(_sql_by_muni("incident_year_cube", f), cube_params)}, "same": same})

    f = all_
    _, cube_params = f.where("cube")
    _, inc_params = f.where("incident")
    population_by_year = f"SELECT p.year AS year, {_sql_population(f, 'p.year').split(' AS g, ', 1)[1]}"

    def yearly_sql(table: str) -> str:
        where, _ = f.where("incident" if table == "incident" else "cube")
        if table == "incident":
            counts = (f"SELECT year(i.occurred_on) AS year, k.crime_group, sum(i.victims) AS n FROM incident i "
                      f"JOIN crime_type k ON k.code = i.crime_type WHERE {where} GROUP BY ALL")
        else:
            counts = f"SELECT year, crime_group, sum(n) AS n FROM incident_year_cube WHERE {where} GROUP BY ALL"
        return (f"WITH c AS ({counts}), p AS ({population_by_year}) "
                "SELECT c.year, c.crime_group, c.n, c.n / p.population * 100000 AS rate FROM c JOIN p ON p.year = c.year")

    def yearly_pandas(df: pd.DataFrame, count: str) -> pd.DataFrame:
        rows = df[_mask(df, f)]
        g = rows.groupby(["year", "crime_group"], observed=True)
        n = g[count].sum().rename("n").reset_index()
        n["rate"] = n["n"] / n["year"].map(_population(frames, f, by_year=True)) * rates.PER
        return n

    def same_yearly(results) -> bool:
        c = results[0]
        c = c[c["n"] > 0].set_index(["year", "crime_group"]).sort_index()
        for other in results[1:]:
            o = other.assign(year=other["year"].astype("int64"), crime_group=other["crime_group"].astype(str))
            o = o[o["n"] > 0].set_index(["year", "crime_group"]).sort_index()
            if list(o.index) != list(c.index) or not (o["n"].astype("int64").to_numpy() == c["n"].to_numpy()).all():
                return False
            if not np.allclose(o["rate"].astype("float64"), c["rate"].astype("float64")):
                return False
        return True

    out.append({"name": "Víctimas y tasa por año y grupo", "table": "incident_year_cube", "fns": {
        "core": lambda: rates.yearly.uncached(f, by="crime_group"),
        "pandas_records": lambda: yearly_pandas(frames.incident, "victims"),
        "pandas_cube": lambda: yearly_pandas(frames.cube, "n"),
        "duckdb_records": duck(yearly_sql("incident"), inc_params),
        "duckdb_cube": duck(yearly_sql("incident_year_cube"), cube_params)}, "same": same_yearly})

    def weekday_pandas() -> pd.Series:
        rows = frames.incident[(frames.incident["muni_code"] == muni).to_numpy() & _mask(frames.incident, f)]
        return rows.groupby(["weekday", "hour"])["victims"].sum()

    def same_weekday(results) -> bool:
        c = {(int(d), int(h)): int(n) for d, h, n in zip(results[0]["weekday"], results[0]["hour"], results[0]["n"]) if n}
        p = {(int(d), int(h)): int(n) for (d, h), n in results[1].items() if n}
        b = {(int(d) - 1, int(h)): int(n) for d, h, n in zip(results[2]["d"], results[2]["h"], results[2]["n"])}
        return c == p == b

    where, params = f.where("incident")
    out.append({"name": "Día x hora de un municipio", "table": "incident", "fns": {
        "core": lambda: municipality.weekday_hour.uncached(f, muni),
        "pandas_records": weekday_pandas,
        "duckdb_records": duck("SELECT isodow(occurred_on) AS d, coalesce(occurred_hour, -1) AS h, sum(victims) AS n "
                               f"FROM incident WHERE {where} AND muni_code = ? GROUP BY ALL", params + [muni])},
                "same": same_weekday})
    return out


def compare(frames: Frames, all_: Filters, narrow: Filters, muni: str, repeat: int,
            reset: Callable[[], None]) -> list[dict[str, Any]]:
    """The timings and ratios of every case, printed as they come."""
    rows = []
    for case in cases(frames, all_, narrow, muni):
        ms = {label: _median_ms(fn, repeat, reset) for label, fn in case["fns"].items()}
        reset()
        equal = bool(case["same"]([fn() for fn in case["fns"].values()]))
        same_table = "duckdb_cube" if case["table"] == "incident_year_cube" else "duckdb_records"
        row = {"aggregation": case["name"], **{f"{k}_ms": round(v, 1) for k, v in ms.items()},
               "vs_pandas_records": round(ms["pandas_records"] / ms["core"], 1),
               "vs_pandas_cube": round(ms["pandas_cube"] / ms["core"], 1) if "pandas_cube" in ms else None,
               "vs_duckdb_same_table": round(ms["core"] / ms[same_table], 2), "same_table": case["table"], "equal": equal}
        rows.append(row)
        print(f"  {case['name']:38} núcleo {ms['core']:7.1f} ms | pandas registros ×{row['vs_pandas_records']} "
              f"cubo ×{row['vs_pandas_cube'] or '—'} | núcleo/DuckDB misma tabla {row['vs_duckdb_same_table']} | "
              f"{'iguales' if equal else 'DIFERENTES'}", flush=True)
    return rows
