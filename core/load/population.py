"""Population (rate denominators) from a CSV/XLSX declared in the configuration.

Wide files (one column per year, e.g. ``pob_2020``) and long files (year and value columns,
optionally sex and age group) are accepted. Territories by code (read as text, leading zeros
kept) or by name (municipality within its department, or department), at municipal or
department level (``nivel``). Every territory of that level must have a population for every
year of the declared period: a rate without its denominator is not published. Years missing
from the file are filled only by a declared rule (``completar_anios``: nearest year, linear
interpolation), and each filled value says how it was estimated (``population.estimated``).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core import fmt
from core.load import catalog
from core.load.config import FILL_RULES, LoadConfig
from core.load.incidents import is_total, parse_numbers, value_lookup
from core.load.load_report import Report, quote, where
from core.load.names import normalise
from core.load.readers import RawTable, SourceError, apply_code, column, raw_json
from core.load.territories import Geography, code_pattern, resolve_departments, unknown_code_reasons

SOURCE = "poblacion"


def load(cfg: LoadConfig, geo: Geography, report: Report) -> pd.DataFrame:
    spec = cfg.population
    report.source(SOURCE, spec.source)
    frames = []
    for table in report.read_files(SOURCE, spec.table):
        frames.append(_rows(cfg, table, geo, report))
    pop = pd.concat(frames, ignore_index=True)
    # A file that repeats the population on every row of a territory and year (an aggregated table
    # with one row per crime type) gives the same value several times: kept once, and said so.
    same = pop.duplicated(["code", "year", "sex", "age_group", "population"], keep="first")
    if same.any():
        report.issue(SOURCE, "poblacion_repetida", "info", int(same.sum()),
                     f"{pop.loc[same, 'file'].iloc[0]}: la misma población aparece en varias filas del mismo territorio "
                     "y año (p. ej. una fila por delito); se usa una vez")
        pop = pop[~same]
    keys = ["code", "year", "sex", "age_group"]
    dup = pop.duplicated(keys, keep=False)
    if dup.any():
        # Two different populations for the same territory and year: which one is right cannot be guessed.
        d = pop[dup].sort_values(["file", "row"], kind="stable")
        groups = list(d.groupby(keys, sort=False))
        examples = []
        for (code, year, sex, age), g in groups[:3]:
            split = "" if (sex, age) == ("T", "total") else f" ({sex}, {age})"
            seen = "; ".join(f"{f} fila {fmt.integer(int(r))}, columna {c}: {fmt.integer(v) if float(v).is_integer() else v}"
                             for f, r, c, v in zip(g["file"], g["row"], g["column"], g["population"]))
            examples.append(f"{code} en {year}{split}: {seen}")
        report.errors.append(
            f"poblacion: {fmt.integer(len(groups))} combinaciones territorio × año tienen dos o más poblaciones distintas "
            f"(filas repetidas con otro valor); p. ej. {' | '.join(examples)}. Deje una sola fila por territorio y año")
        pop = pop[~pop.duplicated(keys, keep="first")]
    report.stats[SOURCE].rows_loaded = int(pop["row"].nunique()) if len(pop) else 0
    pop = pop.assign(estimated=None)
    pop = _fill_years(cfg, pop, report)
    _check_coverage(cfg, geo, pop, report)
    return pop[["code", "year", "sex", "age_group", "population", "estimated"]].reset_index(drop=True)


def _fill_years(cfg: LoadConfig, pop: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Years of the period missing from the file, filled by the declared rule (never silently)."""
    rule = cfg.population.fill
    years = list(range(cfg.period_start.year, cfg.period_end.year + 1))
    if rule == "ninguna" or pop.empty:
        return pop
    added: list[tuple] = []
    examples: list[str] = []
    for (code, sex, age), group in pop.groupby(["code", "sex", "age_group"], sort=False):
        have = dict(zip(group["year"].astype(int), group["population"].astype(float)))
        known = np.array(sorted(have))
        for year in years:
            if year in have:
                continue
            before, after = known[known < year], known[known > year]
            if rule == "interpolacion_lineal" and len(before) and len(after):
                y0, y1 = int(before[-1]), int(after[0])
                value = have[y0] + (have[y1] - have[y0]) * (year - y0) / (y1 - y0)
                how = f"interpolación lineal {y0}-{y1}"
            else:
                nearest = int(known[np.argmin(np.abs(known - year) + (known > year) * 0.1)])
                value, how = have[nearest], f"año más cercano ({nearest})"
            added.append((code, year, sex, age, value, how))
            if len(examples) < 3:
                examples.append(f"{code} {year}: {fmt.integer(round(value))} ({how})")
    if not added:
        return pop
    extra = pd.DataFrame(added, columns=["code", "year", "sex", "age_group", "population", "estimated"])
    filled = sorted(extra["year"].unique())
    report.issue(SOURCE, "poblacion_estimada", "aviso", len(extra),
                 f"años sin población en el archivo, estimados con la regla {FILL_RULES[rule]}: "
                 f"{', '.join(map(str, filled))}; p. ej. " + "; ".join(examples)
                 + ". Cada tasa que los usa lo indica.")
    return pd.concat([pop, extra.assign(row=None, file=None)], ignore_index=True)


def _territories(cfg: LoadConfig, table: RawTable, geo: Geography) -> tuple[pd.Series, pd.Series, pd.Series, str]:
    """(code or None, the value as read, why it did not resolve, column) of each row."""
    spec = cfg.population
    if spec.code is not None:
        raw = column(table, spec.code.column, "código del territorio")
        codes = apply_code(raw, spec.code)
        if spec.level == "departamento":
            known = set(geo.departments["code"])
            what = f"no es un código de departamento de la capa (códigos: {', '.join(sorted(known))})"
        else:
            known = set(geo.municipalities["code"])
            what = f"no es un código de la capa de municipios ({code_pattern(geo.municipalities['code'])})"
        reason = unknown_code_reasons(raw, codes, known, spec.code, "codigo", what)
        return codes.where(codes.isin(known), None), raw, reason, spec.code.column
    if spec.level == "departamento":
        assert spec.department is not None  # the configuration requires codigo or departamento at this level
        raw = column(table, spec.department, "departamento")
        codes, reasons = resolve_departments(raw, geo)
        return codes, raw, reasons, spec.department
    assert spec.municipality is not None  # the configuration requires codigo or municipio
    raw = column(table, spec.municipality, "municipio")
    dept = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    if spec.department:
        dept = column(table, spec.department, "departamento").map(geo.index.department)
    found = {k: geo.index.resolve(k[1], k[0]) for k in set(zip(dept, raw)) if k[1] is not None}
    keys = list(zip(dept, raw))
    codes = pd.Series([found[k].code if k in found else None for k in keys], index=raw.index, dtype=object)
    reason = pd.Series([found[k].reason if k in found else None for k in keys], index=raw.index, dtype=object)
    return codes, raw, reason, spec.municipality


def _rows(cfg: LoadConfig, table: RawTable, geo: Geography, report: Report) -> pd.DataFrame:
    spec = cfg.population
    codes, raw_code, reasons, code_column = _territories(cfg, table, geo)
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
        assert spec.year is not None and spec.value is not None  # long layout: both declared (config)
        raw_year = column(table, spec.year, "año")
        raw_value = column(table, spec.value, "población")
        years = pd.to_numeric(raw_year.astype(object).where(raw_year.notna(), None).astype("str").str.strip()
                              .str.replace(r"\.0$", "", regex=True), errors="coerce")
        long = pd.DataFrame({"pos": np.arange(len(table.frame)), "raw": raw_value.to_numpy(), "column": spec.value,
                             "year": years.where(years.between(1900, 2100) & (years % 1 == 0)).to_numpy(),
                             "raw_year": raw_year.to_numpy()})
        long["sex"], long["age_group"] = "T", "total"
        if spec.sex:
            lookup = value_lookup(spec.sex_values, {"H": ("h", "hombres", "hombre", "masculino"),
                                                    "M": ("m", "mujeres", "mujer", "femenino"),
                                                    "T": ("t", "total", "ambos sexos")})
            raw_sex = column(table, spec.sex, "sexo")
            long["raw_sex"] = raw_sex.to_numpy()
            long["sex"] = raw_sex.map(lambda v: lookup.get(normalise(v))).to_numpy()
        if spec.age_group:
            groups = catalog.age_groups()
            lookup = value_lookup(spec.age_values, {c: (c, lbl) for c, lbl in zip(groups["code"], groups["label"])})
            lookup["total"] = "total"
            raw_age = column(table, spec.age_group, "grupo de edad")
            long["raw_age"] = raw_age.to_numpy()
            long["age_group"] = raw_age.map(lambda v: lookup.get(normalise(v))).to_numpy()
    for key in ("raw_year", "raw_sex", "raw_age"):
        if key not in long:
            long[key] = None
    long["code"] = codes.to_numpy()[long["pos"]]
    long["raw_code"] = raw_code.to_numpy()[long["pos"]]
    long["reason"] = reasons.to_numpy()[long["pos"]]
    long["row"] = table.rows[long["pos"]]
    long["file"] = table.name
    raw = pd.Series(long["raw"].to_numpy(), dtype=object)
    long["population"] = parse_numbers(raw.str.replace(r"(?<=\d)[ ,](?=\d{3}\b)", "", regex=True)).to_numpy()
    # Total rows (TOTAL NACIONAL) are not territories: out of scope, counted, not rejected. An empty
    # cell is a year the file does not have: the coverage check (and completar_anios) deal with it.
    total = is_total(pd.Series(long["raw_code"].to_numpy(), index=long.index, dtype=object))
    if total.any():
        rows_out = long.loc[total].drop_duplicates("pos")
        for value, group in rows_out.groupby("raw_code", sort=False):
            report.out_of_scope(SOURCE, table.name, f"fila de total ({code_column} = {quote(value)})", len(group),
                                int(group["row"].min()))
    empty_rows = long[~total].groupby("pos")["raw"].apply(lambda v: v.isna().all())
    empty_rows = empty_rows[empty_rows].index
    if len(empty_rows):
        report.out_of_scope(SOURCE, table.name, "sin población en la fila (año que el archivo no tiene)",
                            len(empty_rows), int(table.rows[empty_rows].min()))
    long = long[~total & long["raw"].notna()].reset_index(drop=True)

    problems = pd.Series([None] * len(long), index=long.index, dtype=object)
    rules = pd.Series([None] * len(long), index=long.index, dtype=object)

    def flag(mask, rule, text):
        mask = mask & problems.isna()
        problems[mask] = text[mask] if isinstance(text, pd.Series) else text
        rules[mask] = rule

    flag(long["raw_code"].isna(), "territorio_vacio", pd.Series(
        [f"{where(SOURCE, table.name, r, code_column)}: vacío (se esperaba el {spec.level})" for r in long["row"]],
        index=long.index))
    flag(long["code"].isna(), "territorio_desconocido", pd.Series(
        [f"{where(SOURCE, table.name, r, code_column)}: {quote(v)} {why or 'no se reconoce'}"
         for r, v, why in zip(long["row"], long["raw_code"], long["reason"])], index=long.index))
    flag(long["year"].isna(), "anio_invalido", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.year)}: {quote(v)} no es un año (se esperaba un número de cuatro cifras, "
         "p. ej. 2021)" for r, v in zip(long["row"], long["raw_year"])], index=long.index))
    flag(long["sex"].isna(), "sexo_desconocido", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.sex)}: {quote(v)} no es un sexo reconocido (se esperaba H, M o T, "
         f"Hombres, Mujeres o Total; declare otras grafías en [poblacion.valores.sexo])"
         for r, v in zip(long["row"], long["raw_sex"])], index=long.index))
    groups = ", ".join(catalog.age_groups()["code"])
    flag(long["age_group"].isna(), "edad_desconocida", pd.Series(
        [f"{where(SOURCE, table.name, r, spec.age_group)}: {quote(v)} no es un grupo de edad del catálogo (se esperaba "
         f"uno de {groups} o total; declare otras grafías en [poblacion.valores.edad])"
         for r, v in zip(long["row"], long["raw_age"])], index=long.index))
    whole = long["population"].notna() & (long["population"] >= 0) & (long["population"] % 1 == 0)
    flag(~whole, "poblacion_invalida", pd.Series(
        [f"{where(SOURCE, table.name, r, c)}: {quote(v)} no es una población válida (se esperaba un número entero de "
         "habitantes mayor o igual que 0, p. ej. 12345 o 12,345)"
         for r, c, v in zip(long["row"], long["column"], long["raw"])], index=long.index))
    bad = problems.notna()
    if bad.any():
        # One rejected record per file row (a wide row holds several years).
        b = long[bad].assign(problem=problems[bad], rule=rules[bad]).groupby("pos", sort=True).agg(
            row=("row", "first"), rule=("rule", "first"), problem=("problem", lambda v: "; ".join(dict.fromkeys(v))))
        report.reject(SOURCE, table.name, b["row"], b["rule"], b["problem"], raw_json(table, b.index))
    good = long[~bad & ~long["pos"].isin(long.loc[bad, "pos"])]
    good = good.assign(year=good["year"].astype(int))
    return good[["code", "year", "sex", "age_group", "population", "row", "file", "column"]]


def _check_coverage(cfg: LoadConfig, geo: Geography, pop: pd.DataFrame, report: Report) -> None:
    years = range(cfg.period_start.year, cfg.period_end.year + 1)
    level = cfg.population.level
    units = geo.municipalities if level == "municipio" else geo.departments
    munis = units["code"]
    names = dict(zip(units["code"], units["name"]))
    have = set(zip(pop["code"], pop["year"]))
    missing = [(c, y) for c in munis for y in years if (c, y) not in have]
    if missing:
        by_year = pd.Series([y for _, y in missing]).value_counts().sort_index()
        in_file = sorted(set(pop["year"])) if len(pop) else []
        absent = [y for y in years if y not in in_file]
        hint = (f"; el archivo tiene los años {', '.join(map(str, in_file))}: declare completar_anios = "
                "\"anio_mas_cercano\" o \"interpolacion_lineal\" en [poblacion] para estimar los que faltan "
                "(cada tasa lo indicará)" if in_file and absent and cfg.population.fill == "ninguna" else "")
        # Combinations whose row of the file was rejected (a value that is not a population, an unknown
        # code): the reason is said here, next to what is missing.
        rejected = [r for r in report.rejected if r.source == SOURCE]
        cause = ""
        if rejected:
            cause = (f"; {fmt.integer(len(rejected))} filas del archivo se rechazaron y pueden ser la causa, p. ej. "
                     + rejected[0].reason)
        report.errors.append(
            f"poblacion: faltan {fmt.integer(len(missing))} combinaciones {level} × año del periodo declarado "
            f"({cfg.period_start.year}-{cfg.period_end.year}); por año: "
            + ", ".join(f"{y}: {n} {'municipios' if level == 'municipio' else 'departamentos'}" for y, n in by_year.items())
            + f"; p. ej. {missing[0][0]} {names.get(missing[0][0], '')} en {missing[0][1]}{cause}{hint}. Sin población "
              "no se puede publicar la tasa: añada la población o acorte el periodo")
    if level == "departamento":
        report.issue(SOURCE, "poblacion_solo_departamento", "info", len(munis),
                     "población por departamento, no por municipio: las tasas municipales no se calculan")
    split = pop[pop["code"].isin(munis)]
    if len(split) and split["sex"].eq("T").all() and split["age_group"].eq("total").all():
        report.issue(SOURCE, "poblacion_sin_desglose", "info", len(munis),
                     f"población total por {level}, sin desglose por sexo ni edad: las tasas por sexo o edad "
                     "usan la población total y la página lo indica")
