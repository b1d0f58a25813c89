"""Population (rate denominators) from a CSV/XLSX declared in the configuration.

Wide files (one column per year, e.g. ``pob_2020``) and long files (year and value columns,
optionally sex and age group) are accepted. Codes are read as text (leading zeros kept).
Every municipality must have a population for every year of the declared period: a rate
without its denominator is not published.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core import fmt
from core.load import catalog
from core.load.config import LoadConfig
from core.load.incidents import parse_numbers, value_lookup
from core.load.names import normalise
from core.load.readers import RawTable, SourceError, apply_code, column, raw_json
from core.load.report import Report, quote, where
from core.load.territories import Geography

SOURCE = "poblacion"


def load(cfg: LoadConfig, geo: Geography, report: Report) -> pd.DataFrame:
    spec = cfg.population
    report.source(SOURCE, spec.source)
    frames = []
    for table in report.read_files(SOURCE, spec.table):
        frames.append(_rows(cfg, table, geo, report))
    pop = pd.concat(frames, ignore_index=True)
    dup = pop.duplicated(["code", "year", "sex", "age_group"], keep="first")
    if dup.any():
        d = pop[dup]
        report.reject(SOURCE, d["file"].iloc[0], d["row"], ["poblacion_duplicada"] * len(d),
                      [f"{where(SOURCE, f, r)}: el código {c} ya tiene población para {y} ({s}, {a})"
                       for f, r, c, y, s, a in zip(d["file"], d["row"], d["code"], d["year"], d["sex"], d["age_group"])],
                      [None] * len(d))
        pop = pop[~dup]
    report.stats[SOURCE].rows_loaded = int(pop["row"].nunique()) if len(pop) else 0
    _check_coverage(cfg, geo, pop, report)
    return pop[["code", "year", "sex", "age_group", "population"]].reset_index(drop=True)


def _rows(cfg: LoadConfig, table: RawTable, geo: Geography, report: Report) -> pd.DataFrame:
    spec = cfg.population
    raw_code = column(table, spec.code.column, "código de municipio")
    codes = apply_code(raw_code, spec.code)
    known = set(geo.municipalities["code"]) | (set(geo.aldeas["code"]) if geo.aldeas is not None else set())
    if spec.year_prefix is not None:
        pattern = re.compile(re.escape(spec.year_prefix) + r"(\d{4})$")
        year_cols = {c: int(m.group(1)) for c in table.frame.columns if (m := pattern.match(str(c)))}
        if not year_cols:
            raise SourceError(f"{table.name}: no hay columnas de año con el prefijo '{spec.year_prefix}' "
                              f"(p. ej. {spec.year_prefix}2020); columnas del archivo: {list(table.frame.columns)}")
        long = pd.concat([pd.DataFrame({"pos": np.arange(len(table.frame)), "year": y, "column": c,
                                        "raw": table.frame[c].to_numpy()}) for c, y in year_cols.items()])
        long["sex"], long["age_group"] = "T", "total"
    else:
        raw_year = column(table, spec.year, "año")
        raw_value = column(table, spec.value, "población")
        long = pd.DataFrame({"pos": np.arange(len(table.frame)), "raw": raw_value.to_numpy(), "column": spec.value,
                             "year": pd.to_numeric(raw_year, errors="coerce").to_numpy()})
        long["sex"], long["age_group"] = "T", "total"
        if spec.sex:
            lookup = value_lookup(spec.sex_values, {"H": ("h", "hombres", "hombre", "masculino"),
                                                    "M": ("m", "mujeres", "mujer", "femenino"),
                                                    "T": ("t", "total", "ambos sexos")})
            long["sex"] = column(table, spec.sex, "sexo").map(lambda v: lookup.get(normalise(v))).to_numpy()
        if spec.age_group:
            groups = catalog.age_groups()
            lookup = value_lookup(spec.age_values, {c: (c, lbl) for c, lbl in zip(groups["code"], groups["label"])})
            lookup["total"] = "total"
            long["age_group"] = column(table, spec.age_group, "grupo de edad").map(lambda v: lookup.get(normalise(v))).to_numpy()
    long["code"] = codes.to_numpy()[long["pos"]]
    long["raw_code"] = raw_code.to_numpy()[long["pos"]]
    long["row"] = table.rows[long["pos"]]
    long["file"] = table.name
    long["population"] = parse_numbers(pd.Series(long["raw"].to_numpy(), dtype=object).str.replace(r"(?<=\d)[ ,](?=\d{3}\b)", "", regex=True)).to_numpy()

    problems = pd.Series([None] * len(long), index=long.index, dtype=object)
    rules = pd.Series([None] * len(long), index=long.index, dtype=object)

    def flag(mask, rule, text):
        mask = mask & problems.isna()
        problems[mask] = text[mask] if isinstance(text, pd.Series) else text
        rules[mask] = rule

    flag(long["code"].isna(), "codigo_vacio", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.code.column)}: vacío (se esperaba un código de municipio)" for r in long["row"]], index=long.index))
    flag(~long["code"].isin(known), "municipio_desconocido", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.code.column)}: {quote(v)} no es un código de la capa de municipios"
         for r, v in zip(long["row"], long["raw_code"])], index=long.index))
    flag(long["year"].isna(), "anio_invalido", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.year)}: el año no es un número" for r in long["row"]], index=long.index))
    flag(long["sex"].isna(), "sexo_desconocido", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.sex)}: sexo no reconocido (se esperaba H, M o T)" for r in long["row"]], index=long.index))
    flag(long["age_group"].isna(), "edad_desconocida", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.age_group)}: grupo de edad no reconocido" for r in long["row"]], index=long.index))
    flag(long["population"].isna() | (long["population"] < 0), "poblacion_invalida", pd.Series(
        [f"{where(SOURCE, table.name, r, c)}: {quote(v)} no es una población válida (se esperaba un número ≥ 0)"
         for r, c, v in zip(long["row"], long["column"], long["raw"])], index=long.index))
    bad = problems.notna()
    if bad.any():
        # One rejected record per file row (a wide row holds several years).
        b = long[bad].assign(problem=problems[bad], rule=rules[bad]).groupby("pos", sort=True).agg(
            row=("row", "first"), rule=("rule", "first"), problem=("problem", "; ".join))
        report.reject(SOURCE, table.name, b["row"], b["rule"], b["problem"], raw_json(table, b.index))
    good = long[~bad & ~long["pos"].isin(long.loc[bad, "pos"])]
    good = good.assign(year=good["year"].astype(int))
    return good[["code", "year", "sex", "age_group", "population", "row", "file"]]


def _check_coverage(cfg: LoadConfig, geo: Geography, pop: pd.DataFrame, report: Report) -> None:
    years = range(cfg.period_start.year, cfg.period_end.year + 1)
    munis = geo.municipalities["code"]
    have = set(zip(pop["code"], pop["year"]))
    missing = [(c, y) for c in munis for y in years if (c, y) not in have]
    if missing:
        by_year = pd.Series([y for _, y in missing]).value_counts().sort_index()
        report.errors.append(
            f"poblacion: faltan {fmt.integer(len(missing))} combinaciones municipio × año del periodo declarado "
            f"({cfg.period_start.year}-{cfg.period_end.year}); por año: "
            + ", ".join(f"{y}: {n} municipios" for y, n in by_year.items())
            + f"; p. ej. {missing[0][0]} en {missing[0][1]}. Sin población no se puede publicar la tasa: "
              "añada la población o acorte el periodo")
    split = pop[pop["code"].isin(munis)]
    if len(split) and split["sex"].eq("T").all() and split["age_group"].eq("total").all():
        report.issue(SOURCE, "poblacion_sin_desglose", "info", len(munis),
                     "población total por municipio, sin desglose por sexo ni edad: las tasas por sexo o edad "
                     "usan la población total y la página lo indica")
