#!/usr/bin/env python
"""Atalaya performance benchmark at ~10 million incidents. Not part of the test suite.

    .venv/bin/python bench/run.py                  # builds the demo at --scale 15, then measures
    .venv/bin/python bench/run.py --reuse          # reuses artifacts/bench/warehouse.duckdb if it
                                                   # has the same scale and seed (the build figures
                                                   # are those measured when it was built)
    .venv/bin/python bench/run.py --scale 1 --repeat 5   # a quick run

What it measures (and prints against its goal; also writes artifacts/bench/results.json and results.md):
1. the demo build (`atalaya-load demo`) in its own process: wall time, the time spent preparing
   the open-data files, peak memory;
2. the browser (bench/browser.py): p50/p95 from each page's main actions to the page drawn;
3. p50/p95 of every core query the pages call, as after a change of filters: the cache holds
   only what does not depend on the filters (catalogues, geometries, the yearly cube in memory:
   computed once per published warehouse, timed apart as "static"), the query and everything it
   calls with the filters are computed again; the files made on a click;
4. the AppTest run time of each page: cold (connection and caches cleared) and warm;
5. several users (bench/concurrency.py): 1 to 16 threads changing the map's filters;
6. fair baselines (bench/baselines.py): pandas with categoricals on the records and on the cube,
   bare DuckDB on the records and on the cube, results checked equal;
7. with --scales, the build at other scales and the extrapolation to 100 million records;
8. the real loader (bench/loader.py) on a police file of --loader-rows rows (10 million).

Goals: browser p95 <= 1 s, core p95 <= 50 ms, fine open-data file <= 2 s, 8 users p95 <= 1 s,
>= 20x pandas on the records, <= 1.5x bare DuckDB on the table the core reads, the real loader on
10 million rows in <= 10 min and <= 8 GB, the demo at scale 60 within 12 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import baselines, concurrency  # noqa: E402
from core import (  # noqa: E402
    alerts,
    bulletin,
    coverage,
    filters,
    hotspots,
    municipality,
    opendata,
    priority,
    quality,
    rates,
    reports,
    schools,
    views,
    warehouse,
    warmup,
)
from core.filters import Filters  # noqa: E402

OUT = ROOT / "artifacts" / "bench"
APP_ENTRY = ROOT / "app.py"
PAGES = ["resumen", "mapa", "municipio", "escuelas", "informes", "alertas", "datos_abiertos", "boletin",
         "calidad", "metodologia"]
QUERY_TARGET_MS = 50
BROWSER_TARGET_MS = 1000
DOWNLOAD_TARGET_MS = 2000
SCALE_60_TARGET_MB = 12 * 1024


# ---------------------------------------------------------------------------------------------
# 1. Build
# ---------------------------------------------------------------------------------------------

_PEAK_WRAPPER = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")


def peak_run(command: list[str]) -> tuple[float, int, str]:
    """Run ``command`` as the only child of a fresh wrapper process, so that the peak RSS measured is
    the command's (a process's own children peak mixes every child it ran). Returns (seconds, peak MB,
    standard output); raises with the command's error output if it fails."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *command], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} falló ({done.returncode}):\n{done.stderr[-3000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return seconds, round(peak_kb / 1024), done.stdout


def build(path: Path, scale: float, seed: int) -> dict[str, Any]:
    """The demo build at ``scale`` in its own process: wall time, preparation of the open-data files, peak memory."""
    seconds, peak_mb, output = peak_run([sys.executable, "-m", "core.load.cli", "demo", "--scale", str(scale),
                                         "--seed", str(seed), "--out", str(path)])
    prepare_s = sum(float(m) for m in re.findall(r"Datos abiertos preparados \([^)]*\): ([0-9.]+) s", output))
    return {"seconds": round(seconds, 1), "prepare_s": round(prepare_s, 1), "peak_memory_mb": peak_mb}


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
    """Core calls that do not depend on the filters (core/warmup.py): computed once per published
    warehouse, in the background when the first session opens it, then shared by every user."""
    return warmup.calls()


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
        ("mapa", "views.municipalities(todo)", lambda: views.municipalities(a)),
        ("mapa", "views.municipal_trends(todo)", lambda: views.municipal_trends(a)),
        ("mapa", "hotspots.hotspots(todo)", lambda: hotspots.hotspots(a)),
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
        ("datos_abiertos", "opendata.municipality_month_bytes (CSV, todo el periodo)",
         lambda: opendata.municipality_month_bytes(a, "csv")),
        ("datos_abiertos", "opendata.municipality_month_bytes (CSV, cinco años)",
         lambda: opendata.municipality_month_bytes(replace(a, year_from=a.year_to - 4), "csv")),
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
# Report
# ---------------------------------------------------------------------------------------------

def _goal(ok: bool | None) -> str:
    return "sin medir" if ok is None else ("cumple" if ok else "no cumple")


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Medido el {results['date']} en {results['machine']}; almacén de demostración a escala "
             f"{results['scale']} ({results['incidents']:,} víctimas, cubo anual de {results['cube_rows']:,} filas), "
             f"modo público.", ""]
    if results.get("build"):
        b = results["build"]
        lines += [f"- Construcción (`atalaya-load demo --scale {results['scale']}`): {b['seconds']} s en total, de ellos "
                  f"{b.get('prepare_s', '—')} s preparando los archivos de datos abiertos; memoria máxima "
                  f"{b['peak_memory_mb']:,} MB.", ""]
    if results.get("browser"):
        lines += [f"**Navegador** (Chromium sin ventana, {results['browser_repeat']} repeticiones, desde la acción hasta la "
                  f"página dibujada; objetivo p95 ≤ {BROWSER_TARGET_MS} ms):", "",
                  "| Página | Acción | Primera vez (ms) | p50 (ms) | p95 (ms) | Bytes recibidos | Objetivo |",
                  "|---|---|---:|---:|---:|---:|---|"]
        lines += [f"| {r['page']} | {r['action']} | {r.get('first_ms', '—')} | {r['p50_ms']} | {r['p95_ms']} | "
                  f"{r.get('bytes', 0):,} | {_goal(r['p95_ms'] <= BROWSER_TARGET_MS)} |" for r in results["browser"]]
        lines += [""]
    lines += [f"**Núcleo** tras un cambio de filtros (objetivo p95 ≤ {QUERY_TARGET_MS} ms):", "",
              "| Página | Consulta del núcleo | p50 (ms) | p95 (ms) | Objetivo |", "|---|---|---:|---:|---|"]
    lines += [f"| {r['page']} | `{r['call']}` | {r['p50_ms']} | {r['p95_ms']} | {_goal(r['p95_ms'] <= QUERY_TARGET_MS)} |"
              for r in results["queries"]]
    lines += ["", "| Página | Consulta estática (una vez por almacén publicado) | p50 (ms) | p95 (ms) |",
              "|---|---|---:|---:|"]
    lines += [f"| {r['page']} | `{r['call']}` | {r['p50_ms']} | {r['p95_ms']} |" for r in results["static"]]
    lines += ["", f"Todas las consultas estáticas juntas, la primera vez tras publicar: {results['static_total_ms']} ms."]
    lines += ["", f"**Descargas y archivos** (objetivo del archivo fino ≤ {DOWNLOAD_TARGET_MS} ms):", "",
              "| Página | Archivo | p50 (ms) | p95 (ms) |", "|---|---|---:|---:|"]
    lines += [f"| {r['page']} | `{r['call']}` | {r['p50_ms']} | {r['p95_ms']} |" for r in results["files"]]
    if results.get("pages"):
        lines += ["", "| Página (AppTest) | En frío (s) | En caliente (s) |", "|---|---:|---:|"]
        lines += [f"| {r['page']} | {r['cold_s']} | {r['warm_s']} |" for r in results["pages"]]
    c = results["comparison"]
    lines += ["", f"**Comparaciones justas** (modo interno: conteos exactos; pandas con categorías y el año, el grupo, el "
              f"día y la hora derivados una vez al cargar: {c['frames']['memory_mb']:,} MB, {c['frames']['load_s']} s, no "
              f"contados; objetivos: ≥ {baselines.PANDAS_GOAL:g}× pandas sobre los registros, ≤ "
              f"{baselines.DUCKDB_GOAL:g}× DuckDB directo sobre la tabla que lee el núcleo):", "",
              "| Agregación | Núcleo (ms) | pandas registros (ms) | pandas cubo (ms) | DuckDB registros (ms) | DuckDB cubo (ms) | "
              "× pandas registros | × pandas cubo | núcleo ÷ DuckDB misma tabla | Resultados |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    lines += [f"| {r['aggregation']} | {r['core_ms']} | {r['pandas_records_ms']} | {r.get('pandas_cube_ms', '—')} | "
              f"{r['duckdb_records_ms']} | {r.get('duckdb_cube_ms', '—')} | {r['vs_pandas_records']} | "
              f"{r['vs_pandas_cube'] or '—'} | {r['vs_duckdb_same_table']} ({r['same_table']}) | "
              f"{'iguales' if r['equal'] else 'DIFERENTES'} |" for r in c["rows"]]
    if results.get("concurrency"):
        lines += ["", f"**Varios usuarios** (hilos de un proceso cambiando los filtros del mapa; objetivo p95 ≤ "
                  f"{concurrency.GOAL_P95_MS} ms con 8 usuarios):", "",
                  "| Carga | Usuarios | Consultas/s | p50 (ms) | p95 (ms) | Cálculos por consulta distinta |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['workload']} | {r['users']} | {r['per_second']} | {r['p50_ms']} | {r['p95_ms']} | "
                  f"{r['computations_per_distinct'] if r['computations_per_distinct'] is not None else '—'} |"
                  for r in results["concurrency"]]
    if results.get("scaling"):
        lines += ["", "**Escala** (construcción de la demostración en su propio proceso):", "",
                  "| Escala | Registros | Tiempo (s) | Memoria máxima (MB) |", "|---:|---:|---:|---:|"]
        lines += [f"| {r['scale']} | {r['incidents']:,} | {r['seconds']} | {r['peak_memory_mb']:,} |" for r in results["scaling"]]
        x = results.get("extrapolation")
        if x:
            lines += ["", f"Extrapolación lineal a 100 millones de registros: unos {x['seconds']:,} s y {x['peak_memory_mb']:,} MB "
                      "de memoria máxima (objetivo: la escala 60 en ≤ 12 GB)."]
    if results.get("loader"):
        from bench import loader

        lines += ["", f"**Carga real** (`atalaya-load build` del ejemplo de Honduras con el archivo de la policía repetido, "
                      f"en su propio proceso): {loader.goals(results['loader'])}."]
    t = results["targets"]
    lines += ["", "Objetivos: " + "; ".join(f"{name}: **{value}**" for name, value in t.items()) + "."]
    return "\n".join(lines) + "\n"


def scaling(scales: list[float], seed: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Build the demo at each scale (a temporary file each), time and peak memory; the linear
    extrapolation of both to 100 million records."""
    rows = []
    for scale in scales:
        path = OUT / f"scale_{scale:g}.duckdb"
        figures = build(path, scale, seed)
        with duckdb.connect(str(path), read_only=True) as con:
            incidents = int(con.execute("SELECT count(*) FROM incident").fetchone()[0])
        rows.append({"scale": scale, "incidents": incidents, **figures})
        print(f"  escala {scale:g}: {incidents:,} registros, {figures['seconds']} s, {figures['peak_memory_mb']:,} MB", flush=True)
        for p in (path, path.with_name(path.name + ".descargas")):
            if p.is_dir():
                import shutil
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
    if len(rows) < 2:
        return rows, None
    x = np.array([r["incidents"] for r in rows], dtype=float)
    fits = {k: np.polyfit(x, [r[k] for r in rows], 1) for k in ("seconds", "peak_memory_mb")}
    return rows, {k: int(round(np.polyval(fit, 100e6))) for k, fit in fits.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=15.0, help="escala de la demostración (15 = ~13,4 M registros)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=OUT / "warehouse.duckdb", help="almacén que se construye y mide")
    parser.add_argument("--reuse", action="store_true", help="no reconstruir si el almacén ya es de esa escala y semilla")
    parser.add_argument("--repeat", type=int, default=20, help="repeticiones de cada consulta")
    parser.add_argument("--page-repeat", type=int, default=3, help="repeticiones de cada página")
    parser.add_argument("--browser-repeat", type=int, default=10, help="repeticiones de cada acción en el navegador")
    parser.add_argument("--skip-pages", action="store_true", help="sin medir las páginas con AppTest")
    parser.add_argument("--skip-browser", action="store_true", help="sin medir en el navegador")
    parser.add_argument("--loader-rows", type=int, default=10_000_000,
                        help="filas del archivo de la policía para medir la carga real (0: no medirla)")
    parser.add_argument("--scales", default="", help="escalas a construir para la tabla de escala, p. ej. 1,5 "
                        "(la escala medida se añade sola)")
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
    results["cube_rows"] = int(warehouse.scalar("SELECT count(*) FROM incident_year_cube"))
    if not args.skip_browser:
        from bench import browser

        print(f"2. Navegador ({args.browser_repeat} repeticiones por acción)", flush=True)
        results["browser"] = browser.measure(args.out.resolve(), mode=os.environ["ATALAYA_MODO"], repeat=args.browser_repeat)
        results["browser_repeat"] = args.browser_repeat
    s = scenario()
    print(f"3. Consultas del núcleo ({args.repeat} repeticiones, caché vaciada antes de cada una); "
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
        print("4. Páginas con AppTest (mediana)", flush=True)
        results["pages"] = time_pages(args.page_repeat)
    print("5. Varios usuarios", flush=True)
    warehouse.restore_cache(static)
    results["concurrency"] = concurrency.measure(filters.filter_options(), lambda: warehouse.restore_cache(static))
    print("6. Comparaciones justas: pandas y DuckDB directo frente al núcleo (mediana, modo interno)", flush=True)
    os.environ["ATALAYA_MODO"] = "interno"
    warehouse.clear_cache()
    for _, _, fn in static_queries():
        fn()
    static_internal = warehouse.cache_snapshot()
    frames = baselines.Frames()
    s = scenario()
    rows = baselines.compare(frames, s.all, s.narrow, s.muni, max(3, args.repeat // 4),
                             lambda: warehouse.restore_cache(static_internal))
    results["comparison"] = {"rows": rows, "frames": {"load_s": round(frames.load_s, 1), "memory_mb": round(frames.memory_mb)}}
    del frames
    scales = [float(x) for x in args.scales.split(",") if x.strip()]
    if scales:
        print("7. Escala", flush=True)
        built = [{"scale": args.scale, "incidents": results["incidents"], **results["build"]}] if results.get("build") else []
        rows_scale, extrapolation = scaling(scales, args.seed)
        results["scaling"] = sorted(rows_scale + built, key=lambda r: r["scale"])
        if len(results["scaling"]) >= 2:
            x = np.array([r["incidents"] for r in results["scaling"]], dtype=float)
            extrapolation = {k: int(round(np.polyval(np.polyfit(x, [r[k] for r in results["scaling"]], 1), 100e6)))
                             for k in ("seconds", "peak_memory_mb")}
        results["extrapolation"] = extrapolation
    if args.loader_rows:
        from bench import loader

        print("8. Carga real (atalaya-load build)", flush=True)
        results["loader"] = loader.measure(args.loader_rows)

    worst = max(r["p95_ms"] for r in results["queries"])
    fine = next(r["p95_ms"] for r in results["files"] if r["call"].startswith("opendata.municipality_month_bytes"))
    eight = [r["p95_ms"] for r in results["concurrency"] if r["users"] == 8]
    browser_worst = max((r["p95_ms"] for r in results.get("browser") or []), default=None)
    targets = {
        f"navegador p95 ≤ {BROWSER_TARGET_MS} ms": _goal(None if browser_worst is None else browser_worst <= BROWSER_TARGET_MS)
        + ("" if browser_worst is None else f" (máximo {browser_worst:,.0f} ms)"),
        f"núcleo p95 ≤ {QUERY_TARGET_MS} ms": _goal(worst <= QUERY_TARGET_MS) + f" (máximo {worst:,.0f} ms; "
        f"{sum(r['p95_ms'] <= QUERY_TARGET_MS for r in results['queries'])} de {len(results['queries'])})",
        f"archivo fino ≤ {DOWNLOAD_TARGET_MS} ms": _goal(fine <= DOWNLOAD_TARGET_MS) + f" ({fine:,.0f} ms)",
        f"8 usuarios p95 ≤ {concurrency.GOAL_P95_MS} ms": _goal(max(eight) <= concurrency.GOAL_P95_MS) + f" ({max(eight):,.0f} ms)",
        f"≥ {baselines.PANDAS_GOAL:g}× pandas": _goal(min(r["vs_pandas_records"] for r in rows) >= baselines.PANDAS_GOAL)
        + f" (mínimo ×{min(r['vs_pandas_records'] for r in rows)})",
        f"≤ {baselines.DUCKDB_GOAL:g}× DuckDB misma tabla": _goal(max(r["vs_duckdb_same_table"] for r in rows) <= baselines.DUCKDB_GOAL)
        + f" (máximo {max(r['vs_duckdb_same_table'] for r in rows)})",
    }
    if results.get("loader"):
        from bench import loader

        r = results["loader"]
        targets[f"carga real de {r['rows']:,} filas ≤ {loader.TARGET_SECONDS // 60} min y ≤ {loader.TARGET_MB // 1024} GB"] = \
            _goal(r["seconds"] <= loader.TARGET_SECONDS and r["peak_memory_mb"] <= loader.TARGET_MB) + \
            f" ({r['seconds']:,.0f} s, {r['peak_memory_mb']:,} MB)"
    big = [r for r in results.get("scaling") or [] if r["scale"] >= 60]
    if big:
        targets[f"escala 60 ≤ {SCALE_60_TARGET_MB // 1024} GB"] = _goal(big[0]["peak_memory_mb"] <= SCALE_60_TARGET_MB) + \
            f" ({big[0]['peak_memory_mb']:,} MB)"
    results["targets"] = targets
    (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    text = markdown(results)
    (OUT / "results.md").write_text(text)
    print("\n" + text)
    print(f"Escrito en {OUT / 'results.json'} y {OUT / 'results.md'}")
    return 0 if all(r["equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
