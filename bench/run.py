#!/usr/bin/env python
"""Atalaya performance benchmark at ~10 million incidents. Not part of the test suite.

    .venv/bin/python bench/run.py                  # builds the demo at --scale 15, then measures
    .venv/bin/python bench/run.py --reuse          # reuses artifacts/bench/warehouse.duckdb if it
                                                   # has the same scale and seed (the build figures
                                                   # are those measured when it was built)
    .venv/bin/python bench/run.py --scale 1 --repeat 5   # a quick run

What it measures (and prints; also writes artifacts/bench/results.json and results.md):
1. the demo build (`atalaya-load demo`) in its own process: wall time and peak memory;
2. p50/p95 of every core query the pages call, as after a change of filters: the cache holds
   only what does not depend on the filters (catalogues, geometries, coverage gaps: computed
   once per published warehouse, timed apart as "static"), the query and everything it calls
   with the filters are computed again;
3. the AppTest run time of each page: cold (connection and caches cleared) and warm (the same
   session runs the page again, as when a widget changes);
4. the same aggregations written in plain pandas over the incident rows held in memory, and as a
   bare DuckDB group-by over the incident table; results are checked equal, then the ratios.

Targets: core queries p95 <= 100 ms, map page <= 1 s warm, >= 20x faster than pandas.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core import (  # noqa: E402
    alerts,
    bulletin,
    coverage,
    filters,
    geo,
    methodology,
    municipality,
    opendata,
    priority,
    quality,
    rates,
    reports,
    schools,
    spatial,
    vulnerability,
    warehouse,
    yearcube,
)
from core.filters import Filters  # noqa: E402

OUT = ROOT / "artifacts" / "bench"
APP_ENTRY = ROOT / "app.py"
PAGES = ["resumen", "mapa", "municipio", "escuelas", "informes", "alertas", "datos_abiertos", "boletin",
         "calidad", "metodologia"]
QUERY_TARGET_MS = 100
MAP_TARGET_S = 1.0
PANDAS_TARGET = 20


# ---------------------------------------------------------------------------------------------
# 1. Build
# ---------------------------------------------------------------------------------------------

def build(path: Path, scale: float, seed: int) -> dict[str, Any]:
    """Run the loader in a child process; its peak RSS is the build's peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core.load.cli", "demo", "--scale", str(scale), "--seed", str(seed),
                    "--out", str(path)], cwd=ROOT, check=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb <= before:
        print("aviso: la memoria máxima del proceso hijo no superó la de uno anterior", file=sys.stderr)
    return {"seconds": round(seconds, 1), "peak_memory_mb": round(peak_kb / 1024)}


def same_demo(path: Path, scale: float, seed: int) -> bool:
    if not path.exists():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except duckdb.Error:
        return False
    return (meta.get("schema_version") == warehouse.SCHEMA_VERSION and meta.get("demo_scale") == str(scale)
            and meta.get("demo_seed") == str(seed))


# ---------------------------------------------------------------------------------------------
# 2. Core queries
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """The arguments the pages pass: the default view and a narrow one."""
    all: Filters
    narrow: Filters
    muni: str
    group: str


def scenario() -> Scenario:
    opts = filters.filter_options()
    everything = Filters().resolved(opts)
    busiest = warehouse.query("SELECT muni_code FROM incident_cube WHERE counted GROUP BY muni_code "
                              "ORDER BY sum(n) DESC LIMIT 1")["muni_code"].iloc[0]
    narrow = Filters(year_from=max(opts.min_year, opts.max_year - 4), year_to=opts.max_year,
                     crime_groups=("Violencia contra la integridad",), sexes=("M",),
                     dept_code=str(busiest)[:2]).resolved(opts)
    return Scenario(everything, narrow, str(busiest), "Violencia letal")


def static_queries() -> list[tuple[str, str, Callable[[], Any]]]:
    """Core calls that do not depend on the filters: computed once per published warehouse and
    then shared by every user (the result cache is per process)."""
    every = Filters()
    return [
        ("todas", "filters.filter_options()", filters.filter_options),
        ("todas", "warehouse.meta()", warehouse.meta),
        ("todas", "rates.population_split()", rates.population_split),
        ("todas", "rates.municipalities_by_code()", rates.municipalities_by_code),
        ("todas", "yearcube.load()", yearcube.load),
        ("resumen", "rates.sources()", rates.sources),
        ("mapa", "geo.shapes('municipio')", lambda: geo.shapes("municipio")),
        ("mapa", "geo.shapes('departamento')", lambda: geo.shapes("departamento")),
        ("mapa", "spatial.neighbours('municipio')", lambda: spatial.neighbours("municipio")),
        ("mapa", "spatial.neighbours('departamento')", lambda: spatial.neighbours("departamento")),
        ("mapa", "vulnerability.composite()", lambda: vulnerability.composite(None)),
        ("mapa", "coverage (meses sin datos)", lambda: coverage.describe_month_gaps(every)),
        ("mapa", "coverage (municipios sin datos)", lambda: coverage.municipality_gaps(every)),
        ("municipio", "municipality.municipalities()", municipality.municipalities),
        ("municipio", "geo.shapes('aldea')", lambda: geo.shapes("aldea")),
        ("escuelas", "schools.options()", schools.options),
        ("escuelas", "schools.school_list()", schools.school_list),
        ("calidad", "quality.sources()", quality.sources),
        ("calidad", "quality.issues()", quality.issues),
        ("calidad", "quality.completeness()", quality.completeness),
        ("metodologia", "methodology.crime_catalogue()", methodology.crime_catalogue),
        ("metodologia", "methodology.denominators()", methodology.denominators),
    ]


def core_queries(s: Scenario) -> list[tuple[str, str, Callable[[], Any]]]:
    """(page, call, function) for every core call the pages make that depends on the filters,
    with the pages' arguments."""
    a, n, m = s.all, s.narrow, s.muni
    return [
        ("resumen", "rates.headline(todo)", lambda: rates.headline(a)),
        ("resumen", "rates.headline(filtro)", lambda: rates.headline(n)),
        ("resumen", "rates.yearly(todo, grupo)", lambda: rates.yearly(a, by="crime_group")),
        ("resumen", "rates.monthly(todo, grupo)", lambda: rates.monthly(a, by="crime_group")),
        ("resumen", "coverage.year_flags(todo)", lambda: coverage.year_flags(a)),
        ("mapa", "rates.by_municipality(todo)", lambda: rates.by_municipality(a)),
        ("mapa", "rates.by_municipality(filtro)", lambda: rates.by_municipality(n)),
        ("mapa", "rates.by_department(todo)", lambda: rates.by_department(a)),
        ("mapa", "coverage.municipality_gaps(todo)", lambda: coverage.municipality_gaps(a)),
        ("mapa", "coverage.describe_month_gaps(todo)", lambda: coverage.describe_month_gaps(a)),
        ("mapa", "priority.priority_index(todo)", lambda: priority.priority_index(a)),
        ("municipio", "municipality.profile", lambda: municipality.profile(a, m)),
        ("municipio", "municipality.monthly", lambda: municipality.monthly(a, m)),
        ("municipio", "municipality.yearly", lambda: municipality.yearly(a, m)),
        ("municipio", "municipality.by_crime_type", lambda: municipality.by_crime_type(a, m)),
        ("municipio", "municipality.pyramid", lambda: municipality.pyramid(a, m)),
        ("municipio", "municipality.weekday_hour", lambda: municipality.weekday_hour(a, m)),
        ("municipio", "municipality.by_weapon", lambda: municipality.by_weapon(a, m)),
        ("municipio", "municipality.by_source", lambda: municipality.by_source(a, m)),
        ("municipio", "municipality.aldeas", lambda: municipality.aldeas(a, m)),
        ("municipio", "municipality.incident_cells", lambda: municipality.incident_cells(a, m)),
        ("municipio", "municipality.peers", lambda: municipality.peers(a, m)),
        ("escuelas", "schools.risk(todo)", lambda: schools.risk(a)),
        ("escuelas", "schools.risk(municipio)", lambda: schools.risk(a, m)),
        ("informes", "reports.run(año)", lambda: reports.run(reports.ReportSpec(filters=a))),
        ("informes", "reports.run(depto x grupo, tasa)", lambda: reports.run(reports.ReportSpec(
            measure="rate", dims=("department", "crime_group"), filters=a))),
        ("alertas", "alerts.scan(todo)", lambda: alerts.scan(a)),
        ("alertas", "alerts.protected_history", lambda: alerts.protected_history(a, m, s.group)),
        ("datos_abiertos", "opendata.municipality_month_rows", lambda: opendata.municipality_month_rows(a)),
        ("datos_abiertos", "opendata.department_year", lambda: opendata.department_year(a)),
        ("calidad", "quality.reconciliation_monthly", lambda: quality.reconciliation_monthly(a)),
        ("calidad", "quality.reconciliation_by_municipality", lambda: quality.reconciliation_by_municipality(a)),
    ]


def file_builders(s: Scenario) -> list[tuple[str, str, Callable[[], Any]]]:
    """Files made on demand (a click on a download or the bulletin): timed apart from queries."""
    a = s.all
    return [
        ("datos_abiertos", "opendata.municipality_month (CSV/Parquet)", lambda: opendata.municipality_month(a)),
        ("datos_abiertos", "opendata.boundaries_geojson", lambda: opendata.boundaries_geojson(a)),
        ("boletin", "bulletin.render(todo)", lambda: bulletin.render(a)),
    ]


def time_calls(calls, repeat: int, static: dict[tuple, Any] | None = None) -> list[dict[str, Any]]:
    """Each call ``repeat`` times, the cache set back before each to ``static`` (the static
    results), or emptied when ``static`` is None."""
    def reset() -> None:
        warehouse.restore_cache(static) if static is not None else warehouse.clear_cache()

    rows = []
    for page, name, fn in calls:
        reset()
        fn()  # first call: plans and reads the pages of the file once
        times = []
        for _ in range(repeat):
            reset()
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        fn()  # from the result cache
        cached = (time.perf_counter() - start) * 1000
        rows.append({"page": page, "call": name, "p50_ms": round(float(np.percentile(times, 50)), 1),
                     "p95_ms": round(float(np.percentile(times, 95)), 1), "max_ms": round(max(times), 1),
                     "cached_ms": round(cached, 2)})
        print(f"  {page:15} {name:45} p50 {rows[-1]['p50_ms']:8.1f} ms  p95 {rows[-1]['p95_ms']:8.1f} ms", flush=True)
    return rows


# ---------------------------------------------------------------------------------------------
# 3. Pages under AppTest
# ---------------------------------------------------------------------------------------------

def time_pages(repeat: int) -> list[dict[str, Any]]:
    from streamlit.testing.v1 import AppTest

    rows = []
    at = AppTest.from_file(str(APP_ENTRY), default_timeout=900)
    at.run()
    for page in PAGES:
        colds, warms = [], []
        for _ in range(repeat):
            warehouse.close_all()  # cold: no connection, no cached result
            start = time.perf_counter()
            at.switch_page(f"app_pages/{page}.py").run()
            colds.append(time.perf_counter() - start)
            if at.exception:
                raise SystemExit(f"La página {page} falló: {at.exception[0].value}")
            start = time.perf_counter()
            at.run()
            warms.append(time.perf_counter() - start)
        rows.append({"page": page, "cold_s": round(statistics.median(colds), 2),
                     "warm_s": round(statistics.median(warms), 2)})
        print(f"  {page:15} frío {rows[-1]['cold_s']:6.2f} s   caliente {rows[-1]['warm_s']:6.2f} s", flush=True)
    return rows


# ---------------------------------------------------------------------------------------------
# 4. Plain pandas and bare DuckDB, the same aggregations
# ---------------------------------------------------------------------------------------------

def _years(f: Filters) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(f.year_from, 1, 1), pd.Timestamp(f.year_to, 12, 31)


def _pandas_population(pop: pd.DataFrame, f: Filters, by_sex: bool) -> pd.Series:
    """Person-years per municipality matching the filters (the rule of core.rates)."""
    years = range(f.year_from, f.year_to + 1)
    cover = pd.Series({y: rates.year_coverage(y) for y in years})
    p = pop[pop["year"].isin(list(years))]
    p = p[p["sex"].isin(list(f.sexes) or ["H", "M"])] if by_sex else p[p["sex"] == "T"]
    return (p["population"] * p["year"].map(cover)).groupby(p["code"]).sum()


def comparisons(s: Scenario, repeat: int, static: dict[tuple, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The core function as after a change of filters (the static results cached, see
    time_calls), pandas over rows already in memory, and a bare DuckDB group-by."""
    con = warehouse.cursor()
    start = time.perf_counter()
    inc = con.execute("SELECT occurred_on, occurred_hour, dept_code, muni_code, crime_type, victim_sex, counted "
                      "FROM incident").df()
    load_s = time.perf_counter() - start
    inc["occurred_on"] = pd.to_datetime(inc["occurred_on"])
    groups = warehouse.query("SELECT code, crime_group FROM crime_type")
    group_of = dict(zip(groups["code"], groups["crime_group"]))
    pop = warehouse.query("SELECT p.code, p.year, p.sex, p.population FROM population p "
                          "JOIN territory t ON t.code = p.code AND t.level = 'municipio'")
    by_sex, _ = rates.population_split()
    memory_mb = inc.memory_usage(deep=True).sum() / 2**20
    print(f"  {len(inc):,} registros cargados en pandas en {load_s:.1f} s ({memory_mb:,.0f} MB)", flush=True)

    def pandas_by_muni(f: Filters) -> pd.DataFrame:
        lo, hi = _years(f)
        rows = inc[inc["counted"] & inc["occurred_on"].between(lo, hi)]
        if f.crime_groups:
            rows = rows[rows["crime_type"].map(group_of).isin(f.crime_groups)]
        if f.sexes:
            rows = rows[rows["victim_sex"].isin(f.sexes)]
        if f.dept_code:
            rows = rows[rows["dept_code"] == f.dept_code]
        n = rows.groupby("muni_code").size()
        out = pd.DataFrame({"n": n, "population": _pandas_population(pop, f, by_sex)}).dropna(subset=["population"])
        if f.dept_code:
            out = out[out.index.str.startswith(f.dept_code)]
        out["n"] = out["n"].fillna(0).astype("int64")
        out["rate"] = out["n"] / out["population"] * rates.PER
        return out

    def pandas_yearly(f: Filters) -> pd.Series:
        rows = inc[inc["counted"]]
        return rows.groupby([rows["occurred_on"].dt.year, rows["crime_type"].map(group_of)]).size()

    def pandas_weekday_hour(code: str) -> pd.Series:
        rows = inc[inc["counted"] & (inc["muni_code"] == code)]
        return rows.groupby([rows["occurred_on"].dt.day_of_week, rows["occurred_hour"].fillna(-1)]).size()

    def bare_by_muni(f: Filters) -> pd.DataFrame:
        where, params = f.where("incident")
        return con.execute(f"SELECT muni_code, count(*) AS n FROM incident WHERE {where} GROUP BY muni_code",
                           params).df()

    def bare_yearly() -> pd.DataFrame:
        return con.execute("SELECT year(i.occurred_on) AS year, t.crime_group, count(*) AS n FROM incident i "
                           "JOIN crime_type t ON t.code = i.crime_type WHERE i.counted GROUP BY ALL").df()

    def bare_weekday_hour(code: str) -> pd.DataFrame:
        return con.execute("SELECT isodow(occurred_on) AS d, coalesce(occurred_hour, -1) AS h, count(*) AS n "
                           "FROM incident WHERE counted AND muni_code = ? GROUP BY ALL", [code]).df()

    def same_by_muni(core: pd.DataFrame, pan: pd.DataFrame, bare: pd.DataFrame) -> bool:
        c = core.set_index("code")
        c = c[c["population"].notna()]
        joined = c.join(pan.add_suffix("_pd"), how="outer")
        bare_n = bare.set_index("muni_code")["n"]
        return (joined["n"].equals(joined["n_pd"].astype("int64"))
                and np.allclose(joined["rate"], joined["rate_pd"])
                and all(bare_n.get(code, 0) == v for code, v in c["n"].items() if v or code in bare_n))

    def same_yearly(core: pd.DataFrame, pan: pd.Series, bare: pd.DataFrame) -> bool:
        c = core[core["n"] > 0].set_index(["year", "crime_group"])["n"].sort_index()
        b = bare.set_index(["year", "crime_group"])["n"].sort_index()
        p = pan.sort_index()
        return list(c.items()) == [(k, int(v)) for k, v in p.items()] == [(k, int(v)) for k, v in b.items()]

    def same_weekday_hour(core: pd.DataFrame, pan: pd.Series, bare: pd.DataFrame) -> bool:
        c = {(int(d), int(h)): int(n) for d, h, n in zip(core["weekday"], core["hour"], core["n"]) if n}
        p = {(int(d), int(h)): int(n) for (d, h), n in pan.items()}
        b = {(int(d) - 1, int(h)): int(n) for d, h, n in zip(bare["d"], bare["h"], bare["n"])}
        return c == p == b

    cases = [
        ("Víctimas y tasa por municipio, todo", lambda: rates.by_municipality.uncached(s.all),
         lambda: pandas_by_muni(s.all), lambda: bare_by_muni(s.all), same_by_muni),
        ("Víctimas y tasa por municipio, filtro", lambda: rates.by_municipality.uncached(s.narrow),
         lambda: pandas_by_muni(s.narrow), lambda: bare_by_muni(s.narrow), same_by_muni),
        ("Víctimas por año y grupo", lambda: rates.yearly.uncached(s.all, by="crime_group"),
         lambda: pandas_yearly(s.all), bare_yearly, same_yearly),
        ("Día x hora de un municipio", lambda: municipality.weekday_hour.uncached(s.all, s.muni),
         lambda: pandas_weekday_hour(s.muni), lambda: bare_weekday_hour(s.muni), same_weekday_hour),
    ]
    rows = []
    for name, core_fn, pandas_fn, bare_fn, same in cases:
        timings = {}
        for label, fn in (("core", core_fn), ("pandas", pandas_fn), ("duckdb", bare_fn)):
            warehouse.restore_cache(static)
            fn()
            times = []
            for _ in range(repeat):
                warehouse.restore_cache(static)
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            timings[label] = statistics.median(times) * 1000
        warehouse.restore_cache(static)
        equal = bool(same(core_fn(), pandas_fn(), bare_fn()))
        rows.append({"aggregation": name, "core_ms": round(timings["core"], 1), "pandas_ms": round(timings["pandas"], 1),
                     "duckdb_ms": round(timings["duckdb"], 1), "pandas_ratio": round(timings["pandas"] / timings["core"], 1),
                     "duckdb_ratio": round(timings["duckdb"] / timings["core"], 1), "equal": equal})
        print(f"  {name:40} núcleo {timings['core']:7.1f} ms  pandas {timings['pandas']:8.1f} ms "
              f"(x{rows[-1]['pandas_ratio']})  duckdb {timings['duckdb']:7.1f} ms (x{rows[-1]['duckdb_ratio']})  "
              f"{'iguales' if equal else 'DIFERENTES'}", flush=True)
    con.close()
    return rows, {"rows": len(inc), "load_s": round(load_s, 1), "memory_mb": round(memory_mb)}


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def markdown(results: dict[str, Any]) -> str:
    lines = [f"Medido el {results['date']} en {results['machine']}; almacén de demostración a escala "
             f"{results['scale']} ({results['incidents']:,} víctimas, cubo de {results['cube_rows']:,} filas), "
             f"modo público.", ""]
    if results.get("build"):
        b = results["build"]
        lines += [f"- Construcción (`atalaya-load demo --scale {results['scale']}`): {b['seconds']} s, "
                  f"memoria máxima {b['peak_memory_mb']:,} MB.", ""]
    lines += ["| Página | Consulta del núcleo (tras un cambio de filtros) | p50 (ms) | p95 (ms) |", "|---|---|---:|---:|"]
    lines += [f"| {r['page']} | `{r['call']}` | {r['p50_ms']} | {r['p95_ms']} |" for r in results["queries"]]
    lines += ["", "| Página | Consulta estática (una vez por almacén publicado) | p50 (ms) | p95 (ms) |",
              "|---|---|---:|---:|"]
    lines += [f"| {r['page']} | `{r['call']}` | {r['p50_ms']} | {r['p95_ms']} |" for r in results["static"]]
    lines += ["", f"Todas las consultas estáticas juntas, la primera vez tras publicar: {results['static_total_ms']} ms."]
    lines += ["", "| Página | Archivo generado al pedirlo | p50 (ms) | p95 (ms) |", "|---|---|---:|---:|"]
    lines += [f"| {r['page']} | `{r['call']}` | {r['p50_ms']} | {r['p95_ms']} |" for r in results["files"]]
    if results.get("pages"):
        lines += ["", "| Página (AppTest) | En frío (s) | En caliente (s) |", "|---|---:|---:|"]
        lines += [f"| {r['page']} | {r['cold_s']} | {r['warm_s']} |" for r in results["pages"]]
    c = results["comparison"]
    lines += ["", f"Pandas: las {c['pandas']['rows']:,} filas de `incident` ya en memoria ({c['pandas']['memory_mb']:,} MB, "
              f"{c['pandas']['load_s']} s en cargarlas, no contados); DuckDB directo: `GROUP BY` sobre `incident`.", "",
              "| Agregación | Núcleo (ms) | pandas (ms) | × pandas | DuckDB directo (ms) | × DuckDB | Resultados |",
              "|---|---:|---:|---:|---:|---:|---|"]
    lines += [f"| {r['aggregation']} | {r['core_ms']} | {r['pandas_ms']} | {r['pandas_ratio']} | {r['duckdb_ms']} | "
              f"{r['duckdb_ratio']} | {'iguales' if r['equal'] else 'DIFERENTES'} |" for r in c["rows"]]
    t = results["targets"]
    lines += ["", f"Objetivos: p95 de las consultas ≤ {QUERY_TARGET_MS} ms: **{t['queries']}** (máximo "
              f"{t['worst_query_p95_ms']} ms); mapa en caliente ≤ {MAP_TARGET_S} s: **{t['map_page']}**; "
              f"≥ {PANDAS_TARGET}× más rápido que pandas: **{t['pandas']}** (mínimo ×{t['min_pandas_ratio']})."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=15.0, help="escala de la demostración (15 = ~13,4 M registros)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=OUT / "warehouse.duckdb", help="almacén que se construye y mide")
    parser.add_argument("--reuse", action="store_true", help="no reconstruir si el almacén ya es de esa escala y semilla")
    parser.add_argument("--repeat", type=int, default=20, help="repeticiones de cada consulta")
    parser.add_argument("--page-repeat", type=int, default=3, help="repeticiones de cada página")
    parser.add_argument("--skip-pages", action="store_true", help="sin medir las páginas con AppTest")
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "scale": args.scale,
                               "machine": f"{os.cpu_count()} núcleos, {platform.machine()}, Python {platform.python_version()}, "
                                          f"DuckDB {duckdb.__version__}, pandas {pd.__version__}"}
    build_file = args.out.with_suffix(".build.json")  # the build figures, kept for --reuse
    if args.reuse and same_demo(args.out, args.scale, args.seed):
        print(f"Reutilizo {args.out}")
        results["build"] = json.loads(build_file.read_text()) if build_file.exists() else None
    else:
        print(f"1. Construyo la demostración a escala {args.scale} en {args.out}", flush=True)
        results["build"] = build(args.out, args.scale, args.seed)
        build_file.write_text(json.dumps(results["build"]))
        print(f"  {results['build']['seconds']} s, memoria máxima {results['build']['peak_memory_mb']:,} MB", flush=True)

    os.environ["ATALAYA_WAREHOUSE"] = str(args.out.resolve())
    os.environ.setdefault("ATALAYA_MODO", "publico")
    warehouse.close_all()
    results["incidents"] = int(warehouse.scalar("SELECT count(*) FROM incident"))
    results["cube_rows"] = int(warehouse.scalar("SELECT count(*) FROM incident_cube"))
    s = scenario()
    print(f"2. Consultas del núcleo ({args.repeat} repeticiones, caché vaciada antes de cada una); "
          f"municipio {s.muni}, filtro {s.narrow}", flush=True)
    print("  Estáticas (una vez por almacén publicado; caché vacía):", flush=True)
    results["static"] = time_calls(static_queries(), args.repeat)
    warehouse.clear_cache()
    start = time.perf_counter()
    for _, _, fn in static_queries():
        fn()
    results["static_total_ms"] = round((time.perf_counter() - start) * 1000)
    static = warehouse.cache_snapshot()
    print(f"  Todas las estáticas juntas: {results['static_total_ms']} ms. Tras un cambio de filtros:", flush=True)
    results["queries"] = time_calls(core_queries(s), args.repeat, static)
    results["files"] = time_calls(file_builders(s), max(3, args.repeat // 5), static)
    if not args.skip_pages:
        print("3. Páginas con AppTest (mediana)", flush=True)
        results["pages"] = time_pages(args.page_repeat)
    print("4. pandas y DuckDB directo frente al núcleo (mediana)", flush=True)
    rows, loaded = comparisons(s, max(3, args.repeat // 4), static)
    results["comparison"] = {"rows": rows, "pandas": loaded}

    worst = max(r["p95_ms"] for r in results["queries"] + results["static"])
    map_warm = next((r["warm_s"] for r in results.get("pages") or [] if r["page"] == "mapa"), None)
    min_ratio = min(r["pandas_ratio"] for r in rows)
    results["targets"] = {
        "queries": "cumple" if worst <= QUERY_TARGET_MS else "no cumple", "worst_query_p95_ms": worst,
        "map_page": "sin medir" if map_warm is None else ("cumple" if map_warm <= MAP_TARGET_S else "no cumple"),
        "pandas": "cumple" if min_ratio >= PANDAS_TARGET else "no cumple", "min_pandas_ratio": min_ratio,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    text = markdown(results)
    (OUT / "results.md").write_text(text)
    print("\n" + text)
    print(f"Escrito en {OUT / 'results.json'} y {OUT / 'results.md'}")
    return 0 if all(r["equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
