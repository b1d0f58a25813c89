"""Open data: the aggregated tables anyone may download, their data dictionary and formats.

Only aggregates are published (never records): victims by municipality x month x crime type x
sex x age group, and by department x year with the rate; plus the municipal boundaries with
their figures and vulnerability indicators as GeoJSON. In public mode every file is protected
(core.disclosure): CSV and GeoJSON say "<5", Parquet leaves the count empty and sets
``<campo>_reservada``.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import shapely

from core import deployment, disclosure, export, rates, vulnerability, warehouse, yearcube
from core.filters import Filters, filter_options

DATASETS = {
    "municipio_mes": "Víctimas por municipio, mes, tipo de delito, sexo y grupo de edad",
    "departamento_anio": "Víctimas y tasa por departamento y año",
    "limites_municipales": "Límites municipales con víctimas, tasas e indicadores de vulnerabilidad (GeoJSON)",
}

# dataset, field, type, unit, definition
DICTIONARY = [
    ("municipio_mes", "mes", "fecha (AAAA-MM-01)", "—", "Primer día del mes en que ocurrió el hecho."),
    ("municipio_mes", "codigo_departamento", "texto", "—", "Código oficial del departamento."),
    ("municipio_mes", "departamento", "texto", "—", "Nombre del departamento."),
    ("municipio_mes", "codigo_municipio", "texto", "—", "Código oficial del municipio."),
    ("municipio_mes", "municipio", "texto", "—", "Nombre del municipio."),
    ("municipio_mes", "tipo_delito", "texto", "—", "Código del tipo de delito en el catálogo de Atalaya."),
    ("municipio_mes", "delito", "texto", "—", "Nombre del tipo de delito."),
    ("municipio_mes", "grupo_delito", "texto", "—", "Grupo de delito."),
    ("municipio_mes", "codigo_iccs", "texto", "—", "Código de la Clasificación Internacional de Delitos con Fines "
                                                       "Estadísticos (ICCS, UNODC)."),
    ("municipio_mes", "sexo", "texto", "—", "Sexo de la víctima: H (hombre), M (mujer), ND (sin dato o sin víctima "
                                            "individual)."),
    ("municipio_mes", "grupo_edad", "texto", "años", "Grupo de edad de la víctima (ND = sin dato)."),
    ("municipio_mes", "victimas", "entero", "víctimas", "Número de víctimas registradas (unidad de conteo); para "
                                                        "homicidio y femicidio, la cifra de la fuente de referencia. "
                                                        f"«{disclosure.SUPPRESSED}»: de {disclosure.SMALL_COUNTS}, reservada "
                                                        "(modo público)."),
    ("departamento_anio", "codigo_departamento", "texto", "—", "Código oficial del departamento."),
    ("departamento_anio", "departamento", "texto", "—", "Nombre del departamento."),
    ("departamento_anio", "anio", "entero", "año", "Año calendario."),
    ("departamento_anio", "anio_parcial", "lógico", "—", "Verdadero si los datos cubren solo parte del año."),
    ("departamento_anio", "victimas", "entero", "víctimas", f"Número de víctimas registradas («{disclosure.SUPPRESSED}»: reservada)."),
    ("departamento_anio", "personas_anio", "decimal", "personas-año", "Población del mismo sexo y edad que el filtro, "
                                                                      "por la fracción del año cubierta."),
    ("departamento_anio", "tasa_100k", "decimal", "por 100,000 hab.", "Víctimas ÷ personas-año × 100,000."),
    ("departamento_anio", "tasa_ic95_inferior", "decimal", "por 100,000 hab.",
     "Límite inferior del intervalo de confianza del 95 % de la tasa (Poisson exacto, Garwood 1936)."),
    ("departamento_anio", "tasa_ic95_superior", "decimal", "por 100,000 hab.",
     "Límite superior del intervalo de confianza del 95 % de la tasa (Poisson exacto, Garwood 1936)."),
    ("limites_municipales", "codigo", "texto", "—", "Código oficial del municipio."),
    ("limites_municipales", "municipio", "texto", "—", "Nombre del municipio."),
    ("limites_municipales", "departamento", "texto", "—", "Nombre del departamento."),
    ("limites_municipales", "victimas", "entero", "víctimas", f"Víctimas registradas en el periodo («{disclosure.SUPPRESSED}»: "
                                                              "reservada)."),
    ("limites_municipales", "personas_anio", "decimal", "personas-año", "Población del periodo sumada año por año."),
    ("limites_municipales", "tasa_100k", "decimal", "por 100,000 hab.", "Tasa anual promedio del periodo."),
    ("limites_municipales", "tasa_ic95_inferior", "decimal", "por 100,000 hab.",
     "Límite inferior del intervalo de confianza del 95 % de la tasa (Poisson exacto, Garwood 1936)."),
    ("limites_municipales", "tasa_ic95_superior", "decimal", "por 100,000 hab.",
     "Límite superior del intervalo de confianza del 95 % de la tasa (Poisson exacto, Garwood 1936)."),
    ("limites_municipales", "tasa_suavizada_100k", "decimal", "por 100,000 hab.",
     "Tasa suavizada por Bayes empírico (Marshall 1991)."),
    ("limites_municipales", vulnerability.COMPOSITE, "decimal", "0-100", vulnerability.DEFINITION),
]


def datasets(f: Filters) -> dict[str, str]:
    """The titles of the datasets, counting in the filters' unit ('Víctimas' or 'Hechos')."""
    if f.unit == "victimas":
        return dict(DATASETS)
    return {k: v.replace("Víctimas", f.unit_label).replace("víctimas", f.noun()) for k, v in DATASETS.items()}


def count_field(f: Filters) -> str:
    """The name of the count column of the datasets: 'victimas' or 'hechos' (the unit's code)."""
    return f.unit


def dictionary(dataset: str | None = None, f: Filters | None = None) -> pd.DataFrame:
    """The data dictionary; with filters in the unit 'hechos', the count field is 'hechos'."""
    rows = list(DICTIONARY) + [
        ("limites_municipales", i.code, "decimal", i.unit, f"{i.name} ({i.year}; fuente: {i.source}).")
        for i in vulnerability.catalog()]
    if f is not None and f.unit != "victimas":
        rows = [(d, count_field(f), t, f.noun(), f"Número de {f.noun()} (unidad de conteo; un hecho puede tener "
                 f"varias víctimas o ninguna). «{disclosure.SUPPRESSED}»: de {disclosure.SMALL_COUNTS}, reservada "
                 "(modo público).") if field == "victimas"
                else (d, field, t, u, text) for d, field, t, u, text in rows]
    df = pd.DataFrame(rows, columns=["conjunto", "campo", "tipo", "unidad", "definicion"])
    return df if dataset is None else df[df["conjunto"] == dataset].reset_index(drop=True)


MONTH_DIMS = ["mes", "codigo_municipio", "tipo_delito", "sexo", "grupo_edad"]


def municipality_month(f: Filters) -> pd.DataFrame:
    """Counts (column ``count_field(f)``) by municipality x month x crime type x sex x age group, as
    published in this mode."""
    return _municipality_month_published(f, disclosure.is_public()).rename(columns={"victimas": count_field(f)})


PREPARED_SUFFIX = ".descargas"
FILE_KINDS = ("csv", "parquet")


def prepared_root(warehouse_file: Path | None = None) -> Path:
    """The folder, next to the warehouse file, where the loader writes the files prepared at publish time."""
    path = warehouse_file or warehouse.warehouse_path()
    return path.with_name(path.name + PREPARED_SUFFIX)


def prepared_path(root: Path, build_id: str, mode: str, unit: str, kind: str) -> Path:
    """Where the fine file of the whole period (one unit, one mode) of the build ``build_id`` is prepared."""
    return root / build_id / mode / f"municipio_mes_{unit}.{kind}"


def is_whole(f: Filters) -> bool:
    """The filters select everything in their unit (the file prepared at publish time)."""
    opts = filter_options()
    return f.resolved(opts) == Filters(unit=f.unit).resolved(opts)


def prepared_file(f: Filters, kind: str) -> Path | None:
    """The fine file of these filters prepared when the warehouse was published, or None (other
    filters, an older warehouse, or a load that did not prepare it)."""
    build_id = warehouse.meta().get("build_id")
    if not build_id or not is_whole(f):
        return None
    path = prepared_path(prepared_root(), build_id, deployment.mode(), f.unit, kind)
    return path if path.is_file() else None


def municipality_month_bytes(f: Filters, kind: str) -> bytes:
    """The fine file as downloaded (``kind`` csv or parquet): read from the files prepared at publish
    time for the whole period, made from the warehouse otherwise (seconds at millions of rows)."""
    if kind not in FILE_KINDS:
        raise ValueError(f"formato desconocido {kind!r}")
    path = prepared_file(f, kind)
    if path is not None:
        return path.read_bytes()
    data = municipality_month(f)
    return export.csv_bytes(data) if kind == "csv" else parquet_bytes(data)


@warehouse.cached
def _municipality_month_published(f: Filters, public: bool) -> pd.DataFrame:
    raw = _municipality_month(f)
    if not public:
        return raw
    # each dimension is a line (the other four fixed), and so are the municipalities of a department
    return disclosure.protect(raw, "victimas", disclosure.rows_sensitive(f, raw, type_column="tipo_delito", age_column="grupo_edad"),
                              dims=MONTH_DIMS, lines=[["codigo_departamento", "mes", "tipo_delito", "sexo", "grupo_edad"]])


@warehouse.cached
def _municipality_month(f: Filters) -> pd.DataFrame:
    where, params = f.resolved(filter_options()).where("cube")
    return disclosure.published(warehouse.query(f"""
        WITH c AS (SELECT month, dept_code, muni_code, crime_type, victim_sex, age_group, sum(n)::BIGINT AS n,
                          sum(ck)::BIGINT AS ck
                   FROM incident_cube WHERE {where} GROUP BY ALL)
        SELECT c.month AS mes, c.dept_code AS codigo_departamento, d.name AS departamento,
               c.muni_code AS codigo_municipio,
               coalesce(m.name, 'Sin municipio (la fuente da solo el departamento)') AS municipio,
               c.crime_type AS tipo_delito, k.name AS delito,
               k.crime_group AS grupo_delito, k.iccs_code AS codigo_iccs, c.victim_sex AS sexo,
               c.age_group AS grupo_edad, c.n AS victimas, c.ck
        FROM c
        LEFT JOIN territory m ON m.code = c.muni_code AND m.level = 'municipio'
        JOIN territory d ON d.code = c.dept_code AND d.level = 'departamento'
        JOIN crime_type k ON k.code = c.crime_type
        ORDER BY ALL
    """, params), {"victimas": "ck"})


@warehouse.cached
def municipality_month_rows(f: Filters) -> int:
    """Number of rows of ``municipality_month`` without building it (it can be millions)."""
    where, params = f.resolved(filter_options()).where("cube")  # counted only: one year-cube row per cell
    return int(warehouse.scalar(f"SELECT coalesce(sum(months), 0) FROM incident_year_cube WHERE {where}", params))


def department_year(f: Filters) -> pd.DataFrame:
    """Victims, person-years and rate by department x year, as published in this mode."""
    return disclosure.protect(_department_year(f), "victimas", disclosure.covers_sensitive(f),
                              dims=["codigo_departamento", "anio"],
                              derived=["tasa_100k", "tasa_ic95_inferior", "tasa_ic95_superior"]).rename(
        columns={"victimas": count_field(f)})


@warehouse.cached
def _department_year(f: Filters) -> pd.DataFrame:
    """``rates.by_department`` for each year, in one pass: each department's count (its municipalities
    and the counts a source gives only by department), person-years and rate."""
    f = f.resolved(filter_options())
    years = list(range(f.first_year, f.last_year + 1))
    depts = rates.departments()
    if f.dept_code:
        depts = depts[depts["code"] == f.dept_code]
    grid = pd.DataFrame({"year": years}).merge(depts, how="cross")  # year by year, departments in code order
    counts = disclosure.published(yearcube.sums(f, ("dept_code", "year"))).set_index(["dept_code", "year"])["n"]
    keys = pd.MultiIndex.from_frame(grid[["code", "year"]])
    grid["n"] = counts.reindex(keys).fillna(0).astype("int64").to_numpy()
    population = rates.person_years_table(f, "departamento", ["p.code", "p.year"]).set_index(["g0", "g1"])["population"]
    grid["population"] = population.reindex(keys).to_numpy(dtype="float64")
    grid["rate"] = [rates.rate(n, p) for n, p in zip(grid["n"], grid["population"])]
    grid = rates.with_intervals(grid)
    partial = {y: rates.year_coverage(y) < 1 for y in years}
    return pd.DataFrame({"codigo_departamento": grid["code"].to_numpy(), "departamento": grid["name"].to_numpy(),
                         "anio": grid["year"].astype("int64").to_numpy(),
                         "anio_parcial": grid["year"].map(partial).to_numpy(),
                         "victimas": grid["n"].to_numpy(), "personas_anio": grid["population"].to_numpy(),
                         "tasa_100k": grid["rate"].to_numpy(), "tasa_ic95_inferior": grid["rate_lo"].to_numpy(),
                         "tasa_ic95_superior": grid["rate_hi"].to_numpy()})


def boundaries_geojson(f: Filters) -> str:
    """Full-resolution municipal boundaries (rounded to 1e-5 degrees, about a metre) with figures."""
    return _boundaries_geojson(f, disclosure.is_public())


@warehouse.cached
def _boundaries_geojson(f: Filters, public: bool) -> str:
    munis = rates.by_municipality(f)
    if public:
        munis = disclosure.protect_territories(f, munis)
    vul = vulnerability.composite(f.dept_code)
    geom = warehouse.query("SELECT code, wkb FROM territory_geometry")
    shapes = dict(zip(geom["code"], geom["wkb"]))
    codes = [i.code for i in vulnerability.catalog()]
    table = munis.merge(vul[["code", vulnerability.COMPOSITE, *codes]], on="code", how="left")
    features = []
    for row in table.to_dict("records"):
        if row["code"] not in shapes:
            continue
        g = shapely.set_precision(shapely.from_wkb(bytes(shapes[row["code"]])), 1e-5)
        props = {"codigo": row["code"], "municipio": row["name"], "departamento": row["department"],
                 count_field(f): row["n"] if isinstance(row["n"], str) else int(row["n"]),
                 "personas_anio": _num(row["population"]), "tasa_100k": _num(row["rate"]),
                 "tasa_ic95_inferior": _num(row["rate_lo"]), "tasa_ic95_superior": _num(row["rate_hi"]),
                 "tasa_suavizada_100k": _num(row["rate_eb"])}
        props |= {c: _num(row[c]) for c in (vulnerability.COMPOSITE, *codes)}
        features.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(g))})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))


def _num(v):
    return None if v is None or pd.isna(v) else round(float(v), 4)


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet keeps one type per column: a count with "<5" cells is stored as an integer with
    those cells empty, and a boolean column ``<campo>_reservada`` says which."""
    df = export.plain(df, literal_text=False)
    for column in disclosure.suppressed_columns(df):
        hidden = disclosure.is_suppressed(df[column])
        df = df.assign(**{column: disclosure.numeric(df[column]).astype("Int64"),
                          f"{column}_reservada": hidden.to_numpy()})
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()
